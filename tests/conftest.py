import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.utils import translation

from monographs.demo import load_lenalidomide

from . import machine_sentinel
from .factories import make_user, publish

ALLOWED_SKIPS = Path(__file__).with_name("allowed_skips.txt")
_skipped = []


def pytest_sessionstart(session):
    # Tests clear the caches, and a Redis cache's clear() empties its whole database: with a
    # REDIS_URL from the environment that would be someone's Redis. Tests that need Redis use
    # the run's own (tests/suite_services.py).
    if settings.REDIS_URL or settings.PAGE_CACHE_REDIS_URL:
        raise pytest.UsageError(
            "Unset REDIS_URL and PAGE_CACHE_REDIS_URL to run the tests: they would empty that Redis "
            "database. Tests that need Redis start their own redis-server."
        )
    machine_sentinel.pytest_sessionstart(session)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def unlisted_skips(skipped, listing):
    """The node ids in `skipped` that no line of `listing` allows: a node id, where `*` stands
    for any text (brackets are literal: they hold parameter ids)."""
    lines = [line.strip() for line in listing.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    patterns = [re.compile(".*".join(re.escape(part) for part in line.split("*"))) for line in lines]
    return [nodeid for nodeid in skipped if not any(p.fullmatch(nodeid) for p in patterns)]


def pytest_sessionfinish(session, exitstatus):
    # In CI a skip is a test that silently did not run: only the listed ones may.
    if os.environ.get("CI", "").lower() == "true" and not hasattr(session.config, "workerinput"):
        unlisted = unlisted_skips(sorted(set(_skipped)), ALLOWED_SKIPS.read_text())
        if unlisted:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter:
                reporter.ensure_newline()
                reporter.write_sep("=", f"skipped in CI but not in {ALLOWED_SKIPS.name}", red=True)
                for nodeid in unlisted:
                    reporter.write_line(nodeid)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    machine_sentinel.pytest_sessionfinish(session, exitstatus)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no requests counted (the counters live in one process-wide cache).

    Only a local-memory store is cleared: with REDIS_URL exported, clear() would empty
    that whole Redis database. The Redis tests use their own database and key prefix.
    """
    store = caches["throttle"]
    if isinstance(store, LocMemCache):
        store.clear()


@pytest.fixture
def empty_cache():
    """The default cache (page fragments, the API's rate-limit counters) empty before and after the
    test: a page cached by one test is not what another test's reader sees. Local memory in tests
    (see pytest_sessionstart), so this never empties anyone's Redis."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language, whatever the one before activated (a request in
    zh-Hant through the test client leaves it active in this thread)."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def superuser(db):
    return make_user("chief", superuser=True)


@pytest.fixture
def editor(db):
    return make_user("editor", "Editors")


@pytest.fixture
def editor2(db):
    return make_user("editor2", "Editors")


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", "Reviewers")


@pytest.fixture
def reviewer2(db):
    return make_user("reviewer2", "Reviewers")


@pytest.fixture
def reader(db):
    return make_user("reader", "Readers")


@pytest.fixture
def lenalidomide(db):
    """The seed monograph with three products of six strengths each, as in the demo (a draft)."""
    return load_lenalidomide()


@pytest.fixture
def published_lenalidomide(lenalidomide, editor, reviewer):
    """Lenalidomide submitted by an editor and approved by a reviewer: live on public pages."""
    return publish(lenalidomide, editor=editor, reviewer=reviewer, comment="Checked against the PI")


@pytest.fixture
def bilingual_lenalidomide(db):
    """The demo entry with its demonstration Traditional Chinese text (all of it made from the
    current English, "How it works" untranslated): a draft."""
    return load_lenalidomide(chinese=True)


@pytest.fixture
def published_bilingual_lenalidomide(bilingual_lenalidomide, editor, reviewer):
    return publish(bilingual_lenalidomide, editor=editor, reviewer=reviewer, comment="Checked against the PI")


@pytest.fixture
def make_editor_reviewer(db):
    """A senior pharmacist who both edits and reviews."""
    return make_user("senior", "Editors", "Reviewers")


@pytest.fixture
def edition_predating_the_text_rule(db, editor, reviewer):
    """Amoxicillin published twice, the second edition holding control characters and
    text-direction overrides in its name, a section heading and body (as approved before
    the control-character rule; `factories.publish_predating_the_text_rule`). PostgreSQL only."""
    from .factories import make_entry, publish_predating_the_text_rule

    entry = make_entry(
        "Amoxicillin",
        user=editor,
        sections=[("uses", "Dosing", "Take with food."), ("side_effects", "", "Rash.")],
    )
    publish(entry, editor=editor, reviewer=reviewer)
    return publish_predating_the_text_rule(
        entry,
        editor=editor,
        reviewer=reviewer,
        generic_name="Amoxi\u202ecillin",
        chinese_name="阿莫西林\x1b[31m",
        section_heading="Dosing\x0b(from the PDF)",
        section_body="Take with food\x07 twice\x85 daily.\n\nSwallow\u2066 whole\u2069.",
    )
