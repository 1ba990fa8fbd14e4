"""The demo lenalidomide (3 products, 18 strengths) at the dispensary counter, in a real browser,
in both languages, on a phone (375 × 812) and a desktop (1280 × 800): what to warn about is
within reach (the strengths are one compact block per product, the later ones folded), a jump to
one strength by its registration number or its marking keeps the drug's name, Chinese name and
safety badges on screen with the column labels, nothing is wider than the window, and axe-core
finds nothing serious."""

import re

import pytest

from tests.factories import make_user, publish

from .conftest import describe

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
# Within how many screens of the top the warnings must begin.
SCREENS = {"phone": 3, "desktop": 2}
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
LANGUAGES = ["en", "zh-hant"]
HEADINGS = {
    "en": {"side_effects": "Side effects", "interactions": "Interactions"},
    "zh-hant": {"side_effects": "副作用", "interactions": "相互作用"},
}


@pytest.fixture
def demo(live_server):
    """The demo as `load_demo` makes it: with its Chinese text, one section untranslated and the
    interactions' translation outdated (a long section on the zh-Hant page: both languages)."""
    from monographs.demo import load_lenalidomide

    entry = load_lenalidomide(chinese=True, outdated_translation=True)
    return publish(
        entry,
        editor=make_user("editor", "Editors"),
        reviewer=make_user("reviewer", "Reviewers"),
        accept_stale_translations=True,
    )


def _strength_id(number):
    from monographs.models import Strength

    return Strength.objects.get(registration_number=number).pk


def _viewport_name(viewport):
    return "phone" if viewport == PHONE else "desktop"


def _top_on_page(locator):
    return locator.evaluate("element => element.getBoundingClientRect().top + window.scrollY")


def _wider_than_window(page):
    # Past the right edge is what makes a page scroll sideways (the skip link waits off the left).
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => { const box = e.getBoundingClientRect();
                           return box.width > window.innerWidth || box.right > window.innerWidth + 1; })
            .map(e => e.tagName + '.' + e.className)"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_side_effects_and_interactions_begin_within_reach(page, demo, viewport, language):
    page.set_viewport_size(viewport)
    page.goto(f"/{language}/entries/lenalidomide/")

    limit = SCREENS[_viewport_name(viewport)] * viewport["height"]
    for kind, text in HEADINGS[language].items():
        heading = page.locator("h2", has_text=re.compile(rf"^{re.escape(text)}$"))
        expect(heading).to_have_count(1)
        top = _top_on_page(heading)
        assert top < limit, f"{kind} begins at {top:.0f} px, beyond {limit} px"
    # The strengths come before them, one block per product; the later products are folded.
    assert page.locator(".product-block").count() == 3
    assert page.locator("details.product-block:not([open])").count() == 2
    expect(page.locator("#products tr[id^='strength-']").first).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_registration_number_lands_on_its_strength_with_the_name_and_badges_in_view(page, demo, viewport, language):
    page.set_viewport_size(viewport)
    page.goto(f"/{language}/search/?q=HK-90104")

    row = page.locator(f"#strength-{_strength_id('HK-90104')}")
    expect(page).to_have_url(re.compile(rf"/{language}/entries/lenalidomide/#strength-\d+$"))
    page.wait_for_load_state("load")
    expect(row).to_be_in_viewport()
    expect(row).to_contain_text("HK-90104")
    # The context bar: the entry's name, its Chinese name and the pregnancy badges.
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lenalidomide")
    expect(page.locator(".context-bar .chinese-name")).to_be_in_viewport()
    expect(page.locator(".context-bar .badge-pregnancy")).to_be_in_viewport()
    expect(page.locator(".context-bar .badge-pregnancy_prevention")).to_be_in_viewport()
    # Nothing is unlabelled: the product's name and its status, and the column labels (on a
    # phone each value of the row carries its own).
    block = row.locator("xpath=ancestor::*[contains(@class, 'product-block')]")
    expect(block.locator(".product-title")).to_be_in_viewport()
    expect(block.locator(".product-facts .status")).to_be_in_viewport()
    pack = row.locator("td[data-label]").nth(1)
    if viewport == DESKTOP:
        expect(row.locator("xpath=ancestor::table[1]/thead")).to_be_in_viewport()
    else:
        label = pack.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert label == ('"包裝: "' if language == "zh-hant" else '"Pack: "')
    path = f"/tmp/counter-page-{language}-{_viewport_name(viewport)}-HK-90104.png"
    page.screenshot(path=path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marking_lands_on_its_strength_like_a_registration_number(page, demo, language):
    page.set_viewport_size(PHONE)
    page.goto(f"/{language}/search/?q=REV+15")

    expect(page).to_have_url(re.compile(rf"#strength-{_strength_id('HK-90104')}$"))
    page.wait_for_load_state("load")
    expect(page.locator(f"#strength-{_strength_id('HK-90104')}")).to_be_in_viewport()
    expect(page.locator(".context-bar .badge-pregnancy")).to_be_in_viewport()


def test_a_strength_of_a_folded_product_opens_it(page, demo):
    page.set_viewport_size(PHONE)
    page.goto("/en/search/?q=HK-90304")  # the Teva generic: the third product, folded

    row = page.locator(f"#strength-{_strength_id('HK-90304')}")
    page.wait_for_load_state("load")
    expect(row).to_be_visible()
    expect(row).to_be_in_viewport()
    expect(row.locator("xpath=ancestor::details")).to_have_attribute("open", "")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_nothing_is_wider_than_the_window(page, demo, viewport, language):
    page.set_viewport_size(viewport)
    page.goto(f"/{language}/entries/lenalidomide/")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")

    assert _wider_than_window(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.goto(f"/{language}/entries/?status=special")
    assert _wider_than_window(page) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_axe_finds_nothing_serious(page, demo, axe_violations, viewport, language):
    page.set_viewport_size(viewport)
    for address in (
        f"/{language}/entries/lenalidomide/",
        f"/{language}/entries/?status=special",
        f"/{language}/search/?q=revlimid",
    ):
        page.goto(address)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")

        violations = axe_violations(page)

        assert not violations, f"{address}: {describe(violations)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_feed_opened_in_a_browser_is_laid_out_by_its_stylesheet(page, demo, language):
    page.goto(f"/{language}/changes/")
    feed = page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")

    page.goto(feed)

    # The Atom document itself, styled: not Chromium's plain-text view of it.
    assert page.evaluate("document.documentElement.localName") == "feed"
    assert page.evaluate("getComputedStyle(document.documentElement).display") == "block"
    explanation = page.evaluate("getComputedStyle(document.documentElement, '::before').content")
    assert ("Atom 訂閱源" if language == "zh-hant" else "Atom feed") in explanation
