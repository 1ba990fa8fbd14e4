"""Browser tests: Playwright (pytest-playwright's `page`) driving Debian's Chromium against
pytest-django's `live_server`, fully offline.

Reusable by every test module in this folder:
  * `page` opens pages relative to the live server: page.goto("/entries/").
  * `admin_login(page, user)` signs a user from tests/conftest.py in at /admin/login/.
  * `axe_violations(page)` runs axe-core (shipped in axe-playwright-python) and returns the
    serious and critical violations.
  * Tests here run with a transactional database (the live server's thread must see the data),
    and the staff groups are recreated before each test because a transactional test empties
    the tables it leaves.

Without Chromium (set FORMULARY_CHROMIUM to use another binary) or Playwright the tests are
skipped, not failed. Run only these with `-m browser`, or leave them out with `-m "not browser"`.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FORMULARY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

try:
    import playwright  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:
    HAVE_PLAYWRIGHT = False

SKIP_REASON = (
    None
    if HAVE_PLAYWRIGHT and Path(CHROMIUM).exists()
    else f"browser tests need playwright (pip) and Chromium at {CHROMIUM} (apt-get install -y chromium)"
)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: runs in a real browser (Playwright + Chromium)")
    # pytest-playwright 0.10 uses the base_url fixture in a way pytest 9 warns about; harmless.
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestRemovedIn10Warning")


HERE = Path(__file__).parent


def _in_this_folder(item):
    return HERE in Path(item.fspath).parents


def pytest_itemcollected(item):
    """Mark every test in this folder as it is collected, so `-m "not browser"` sees the mark."""
    if _in_this_folder(item):
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.django_db(transaction=True))
        if SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Run the tests of this folder after all others (after pytest-django's own ordering): once
    Playwright has started, its asyncio loop stays up for the rest of the session."""
    browser = [item for item in items if _in_this_folder(item)]
    if browser:
        chosen = set(browser)
        items[:] = [item for item in items if item not in chosen] + browser


@pytest.fixture(scope="session", autouse=True)
def allow_orm_inside_playwright_loop():
    """pytest-playwright keeps an asyncio loop running; Django's ORM refuses to run inside it unless
    told it is safe. Set from the first browser test (they run last) to the end of the session, so
    the database flush after each test works too; never in settings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


if HAVE_PLAYWRIGHT:

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args):
        return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}

    @pytest.fixture(scope="session")
    def base_url(live_server):
        """pytest-playwright opens relative addresses against this, so page.goto("/") works."""
        return live_server.url


@pytest.fixture(autouse=True)
def staff_roles(request):
    """The Editors, Reviewers and Readers groups, as the migration makes them."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group, Permission

    from monographs.roles import sync_roles

    sync_roles(Group, Permission)


@pytest.fixture
def admin_login():
    """admin_login(page, user) signs `user` (made by tests/conftest.make_user) in to the admin."""

    def login(page, user, password=None):
        page.goto("/admin/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(password or f"pw-{user.get_username()}-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/admin/login/" not in url)
        return page

    return login


@pytest.fixture
def axe_violations():
    """axe_violations(page) -> the serious and critical axe-core violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def run(page, impacts=("serious", "critical")):
        results = axe.run(page)
        return [v for v in results.response["violations"] if v.get("impact") in impacts]

    return run


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


@pytest.fixture
def people(live_server):
    """An editor and a reviewer, with the demo entry already published by two others."""
    from monographs.demo import load_lenalidomide
    from tests.factories import make_user, publish

    editor = make_user("editor", "Editors")
    reviewer = make_user("reviewer", "Reviewers")
    publish(
        load_lenalidomide(),
        editor=make_user("first-editor", "Editors"),
        reviewer=make_user("first-reviewer", "Reviewers"),
    )
    return editor, reviewer
