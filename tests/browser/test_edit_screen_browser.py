"""The short edit screen and the review in a real browser, in both languages, at 1280 x 800:
found from the admin home's search, every part a folded panel with a jump list and a save bar in
view, changed panels marked; a refused approval's reasons in view; the "Chinese text checked" tick
refused unless both texts were shown side by side, and both texts on the review page."""

import re
from pathlib import Path

import pytest

from tests.factories import make_user

from .conftest import describe
from .test_admin_browser import CSP_LISTENER, PageLoads

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

SHOTS = Path(__file__).parent / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
NEW_SENTENCE = "Store below 25 degrees in the original blister."


class Clicks:
    """Counts the clicks a person makes (each press of a link, button or field)."""

    def __init__(self, page):
        self.count = 0
        page.expose_function("__countClick", lambda: setattr(self, "count", self.count + 1))
        page.add_init_script('document.addEventListener("click", () => window.__countClick(), true);')


@pytest.fixture
def demo(live_server):
    """The demo entry with its Chinese translation, published; an editor and a reviewer."""
    from monographs.demo import load_lenalidomide
    from tests.factories import publish

    editor = make_user("editor", "Editors")
    reviewer = make_user("reviewer", "Reviewers")
    entry = publish(
        load_lenalidomide(chinese=True),
        editor=make_user("first-editor", "Editors"),
        reviewer=make_user("first-reviewer", "Reviewers"),
    )
    return entry, editor, reviewer


def open_as(browser, base_url, admin_login, user, language):
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    context.add_init_script(CSP_LISTENER)
    page = admin_login(context.new_page(), user)
    # Signed in on the English login page, then the admin in `language` (Accept-Language).
    page.set_extra_http_headers({"Accept-Language": language})
    return page


def no_csp_violation(page):
    return page.evaluate("window.__cspViolations")


def in_viewport(page, selector):
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
           return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        selector,
    )


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_editor_from_home_search_to_submitted_in_three_loads_and_reviewer_approves_in_three(
    browser, base_url, demo, admin_login, axe_violations, language
):
    entry, editor, reviewer = demo
    SHOTS.mkdir(exist_ok=True)
    page = open_as(browser, base_url, admin_login, editor, language)
    clicks = Clicks(page)  # before the home opens, so the search's click counts too
    page.goto("/admin/")
    loads = PageLoads(page)

    # Search from the home by registration number: one match opens the edit screen.
    page.locator("#entry-find-q").fill("HK-90104")
    page.locator("form.entry-find button").click()
    expect(page).to_have_url(re.compile(rf"/entry/{entry.pk}/change/$"))

    # The first view: the jump list and the save bar; the page folded is at most three screens.
    page.wait_for_load_state("networkidle")
    assert in_viewport(page, ".panel-list"), "jump list not in the first view"
    assert in_viewport(page, ".save-bar input[name=_saveandsubmit]"), "save bar not in the first view"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 3 * VIEWPORT["height"], height
    page.screenshot(path=str(SHOTS / f"edit-screen-folded-{language}.png"))
    assert not no_csp_violation(page)
    found = axe_violations(page)
    assert not found, describe(found)

    # The pack field in two clicks: the product's link in the jump list, then the field.
    product = page.locator(".panel-list a", has_text="Revlimid")
    product.click()
    pack = page.locator("input[name$='-registration_number'][value='HK-90104']")
    pack_name = pack.get_attribute("name").removesuffix("registration_number") + "pack_size"
    pack_field = page.locator(f"[name='{pack_name}']")
    expect(pack_field).to_be_visible()
    pack_field.click()
    pack_field.fill("7 capsules")
    # Each strength block says whose it is; the edited panel is marked before saving.
    expect(page.locator(".strength-title", has_text="15 mg").first).to_contain_text("Revlimid")
    revlimid_panel = page.locator("details.panel.panel-changed")
    expect(revlimid_panel).to_have_count(1)
    expect(page.locator(".panel-list .panel-changed-mark:visible")).to_have_count(1)

    # One sentence of "How it works" (the demo's one untranslated section, so no Chinese goes
    # out of date): its link in the jump list, then the text.
    kind = page.locator("select[name$='-kind']:has(option[value=mechanism]:checked)")
    prefix = kind.get_attribute("name").removesuffix("kind")
    panel_id = page.locator(f"textarea[name='{prefix}body']").evaluate("el => el.closest('details.panel').id")
    page.locator(f".panel-list a[href='#{panel_id}']").click()
    body = page.locator(f"textarea[name='{prefix}body']")
    expect(body).to_be_visible()
    body.click()
    body.fill(NEW_SENTENCE)
    page.screenshot(path=str(SHOTS / f"edit-screen-edited-{language}.png"))
    reason = page.locator("input[name=change_reason]")
    expect(reason).to_be_in_viewport()
    reason.click()
    reason.fill("New pack and storage advice")
    page.locator("input[name=_saveandsubmit]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert loads.count <= 3, loads.count
    assert clicks.count <= 8, clicks.count
    editor_loads, editor_clicks = loads.count, clicks.count

    # The reviewer: home → review page (both changes, the preview in place) → approve.
    review = open_as(browser, base_url, admin_login, reviewer, language)
    review.goto("/admin/")
    loads = PageLoads(review)
    review.locator(f"a[href$='/entry/{entry.pk}/review/']").click()
    content = review.locator("#content")
    expect(content.locator("details[open] ins", has_text="blister").first).to_be_visible()
    expect(content.locator("tr", has=review.locator(".diff-after", has_text="7 capsules"))).to_have_count(1)
    with review.context.expect_page() as opened:
        review.locator(".preview-links a").first.click()
    preview = opened.value
    loads.count += 1  # a new tab: one load
    preview.wait_for_load_state()
    expect(preview.locator(".preview-banner")).to_be_visible()
    expect(preview.locator("main")).not_to_contain_text("待批准")
    preview.screenshot(path=str(SHOTS / f"preview-{language}.png"))
    preview.close()
    review.locator("textarea[name=comment]").fill("Matches the product information")
    expect(review.locator("button.decision-approve")).to_have_text(re.compile("publish now|立即發佈|立即"))
    review.locator("button.decision-approve").click()
    expect(review.locator(".messagelist .success")).to_be_visible()
    assert loads.count <= 3, loads.count
    print(
        f"[{language}] editor: {editor_loads} loads, {editor_clicks} clicks; reviewer: {loads.count} loads; "
        f"edit screen folded: {height} px"
    )


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_a_refused_approval_says_why_in_view_and_the_button_names_the_go_live(
    browser, base_url, demo, admin_login, axe_violations, language
):
    from monographs import workflow
    from monographs.services import section_update

    entry, editor, reviewer = demo
    interactions = entry.sections.get(kind="interactions")
    section_update(section=interactions, user=editor, reason="More", body=interactions.body + " Dexamethasone too.")
    workflow.submit(entry=entry, user=editor)

    page = open_as(browser, base_url, admin_login, reviewer, language)
    page.goto(f"/admin/monographs/entry/{entry.pk}/review/")
    approve = page.locator("button.decision-approve")
    page.locator("input[name=go_live_at]").fill("2030-12-04 09:00")
    expect(approve).to_have_text(re.compile("4 Dec 09:00|12月4日 09:00"))
    page.locator("input[name=go_live_at]").fill("")
    page.locator("textarea[name=comment]").fill("OK")
    approve.click()  # without the "publish outdated" tick: refused
    note = page.locator(".decision-refused")
    expect(note).to_be_visible()
    expect(note).to_be_focused()
    assert in_viewport(page, ".decision-refused")
    expect(note).to_contain_text(re.compile("Interactions|相互作用"))
    page.screenshot(path=str(SHOTS / f"refused-approval-{language}.png"))
    assert not no_csp_violation(page)
    found = axe_violations(page)
    assert not found, describe(found)


def test_checked_tick_needs_both_texts_shown_and_the_review_shows_both(
    browser, base_url, demo, admin_login, axe_violations
):
    from monographs import workflow
    from monographs.models import Section, TranslationStatus
    from monographs.services import section_update

    entry, editor, reviewer = demo
    interactions = entry.sections.get(kind="interactions")
    section_update(section=interactions, user=editor, reason="More", body=interactions.body + " Dexamethasone too.")
    assert Section.objects.get(pk=interactions.pk).translation == TranslationStatus.STALE

    page = open_as(browser, base_url, admin_login, editor, "en")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/admin/monographs/entry/{entry.pk}/change/")
    page.locator(".panel-list a", has_text="Interactions").click()
    panel = page.locator("details.panel[open]").filter(has=page.locator("textarea", has_text="Dexamethasone too"))
    badge = panel.locator(".field-translation_shown .translation-badge")
    expect(badge).to_contain_text("Outdated")
    # The badge reacts while typing: changed Chinese will be up to date once saved.
    chinese = panel.locator("textarea[name$='-body_zh']")
    original_chinese = chinese.input_value()
    chinese.fill(original_chinese + "。")
    assert not errors, errors
    expect(badge).to_contain_text("Up to date once saved")
    chinese.fill(original_chinese)
    expect(badge).to_contain_text("Outdated")

    # Ticked without opening the side-by-side view: refused, the reason at the top, in view.
    panel.locator("input[name$='-translation_checked']").check()
    page.locator("input[name=change_reason]").fill("Chinese checked")
    page.locator("input[name=_saveandsubmit]").click()
    expect(page.locator(".first-error")).to_contain_text("side by side")
    assert Section.objects.get(pk=interactions.pk).translation == TranslationStatus.STALE

    # Open both texts side by side, then tick: accepted and submitted.
    panel = page.locator("details.panel[open]").filter(has=page.locator("textarea", has_text="Dexamethasone too"))
    panel.locator("details.side-by-side > summary").click()
    expect(panel.locator(".side-by-side-text[lang=en]")).to_contain_text("Dexamethasone too")
    page.screenshot(path=str(SHOTS / "side-by-side-en.png"))
    panel.locator("input[name$='-translation_checked']").check()
    page.locator("input[name=change_reason]").fill("Chinese checked")
    page.locator("input[name=_saveandsubmit]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Section.objects.get(pk=interactions.pk).translation == TranslationStatus.CURRENT
    assert workflow.awaits_review(entry)

    review = open_as(browser, base_url, admin_login, reviewer, "en")
    review.goto(f"/admin/monographs/entry/{entry.pk}/review/")
    table = review.locator("table.translation-texts")
    expect(table).to_contain_text("Dexamethasone too")
    expect(table.locator("td[lang=zh-Hant]").first).not_to_be_empty()
    review.screenshot(path=str(SHOTS / "review-both-texts-en.png"), full_page=True)
    found = axe_violations(review)
    assert not found, describe(found)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_home_search_and_edit_screen_at_phone_width(browser, base_url, demo, admin_login, language):
    entry, editor, _reviewer = demo
    context = browser.new_context(base_url=base_url, viewport={"width": 375, "height": 740})
    page = admin_login(context.new_page(), editor)
    page.set_extra_http_headers({"Accept-Language": language})
    page.goto("/admin/")
    expect(page.locator("#entry-find-q")).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / f"home-375-{language}.png"))
    page.locator("#entry-find-q").fill("Revlimid")
    page.locator("form.entry-find button").click()
    expect(page).to_have_url(re.compile(rf"/entry/{entry.pk}/change/$"))
    page.screenshot(path=str(SHOTS / f"edit-screen-375-top-{language}.png"))
    # Folded, the screen is short on a phone too; the jump list leads to each part.
    expect(page.locator(".panel-list")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollHeight") <= 6 * 740
    page.locator(".panel-list").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"edit-screen-375-{language}.png"))
