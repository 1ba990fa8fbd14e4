"""Dispensary staff in a real browser: find a drug and open its page; axe-core finds no
serious or critical accessibility problems on the public pages."""

import re

import pytest

from tests.factories import make_published, make_user, product

from .conftest import describe

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def published(live_server):
    editor = make_user("editor", "Editors")
    reviewer = make_user("reviewer", "Reviewers")
    from monographs.demo import load_lenalidomide
    from tests.factories import publish

    publish(load_lenalidomide(), editor=editor, reviewer=reviewer)
    make_published(
        "Metformin",
        editor=editor,
        reviewer=reviewer,
        drug_class="Biguanide",
        synonyms="二甲雙胍",
        sections=[("overview", "", "First-line treatment of type 2 diabetes."), ("side_effects", "", "Nausea.")],
        products=[product("Glucophage", kind="brand", strengths=2)],
    )


def test_staff_search_a_misspelt_brand_and_open_the_entry(page, published):
    page.goto("/")
    page.get_by_label("Generic name, brand name or synonym").fill("revlimd")
    page.get_by_label("Generic name, brand name or synonym").press("Enter")

    expect(page).to_have_url(re.compile(r"/en/search/\?q=revlimd"))
    page.get_by_role("link", name="Lenalidomide").click()

    expect(page).to_have_url(re.compile(r"/en/entries/lenalidomide/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lenalidomide")
    expect(page.get_by_role("table").first).to_contain_text("Revlimid")
    # The jump bar goes to the warnings; the (folded) table of contents to any section.
    page.get_by_role("navigation", name="Jump to").get_by_role("link", name="Warnings").click()
    expect(page).to_have_url(re.compile(r"#section-\d+$"))
    page.get_by_role("navigation", name="Contents").get_by_text("Contents").click()
    page.get_by_role("navigation", name="Contents").get_by_role("link", name="Side effects").click()
    expect(page).to_have_url(re.compile(r"#section-\d+$"))
    expect(page.get_by_role("heading", name="Side effects")).to_be_in_viewport()


def test_browse_a_to_z_and_switch_language_on_the_same_page(page, published):
    page.goto("/")
    page.get_by_role("navigation", name="Entries by first letter").get_by_role("link", name="M").click()
    page.get_by_role("link", name="Metformin").click()
    expect(page).to_have_url(re.compile(r"/en/entries/metformin/$"))

    page.get_by_role("navigation", name="Language").get_by_role("link", name="繁體中文").click()

    expect(page).to_have_url(re.compile(r"/zh-hant/entries/metformin/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.get_by_role("heading", name="香港註冊產品")).to_be_visible()


def test_entry_page_prints_one_column_without_navigation(page, published):
    page.goto("/en/entries/lenalidomide/")
    page.emulate_media(media="print")

    for selector in (".site-header", ".site-footer", ".toc", ".print-action", "form"):
        assert page.locator(selector).first.is_hidden(), selector
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_usable_at_phone_width(page, published):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/en/entries/lenalidomide/")

    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 360, page_width  # wide tables scroll inside their own box


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/en/entries/",
        "/en/classes/",
        "/en/search/?q=lenalidomide",
        "/en/search/?q=nothing-like-this",
        "/en/entries/lenalidomide/",
    ],
)
@pytest.mark.parametrize("width", [1280, 360])
def test_axe_finds_no_serious_or_critical_violations(page, published, axe_violations, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)

    violations = axe_violations(page)

    assert not violations, describe(violations)


def test_axe_chinese_entry_page(page, published, axe_violations):
    page.goto("/en/entries/metformin/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="繁體中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")

    violations = axe_violations(page)

    assert not violations, describe(violations)


def _strength_of(number):
    from monographs.models import Strength

    return Strength.objects.get(registration_number=number)


def test_the_number_on_the_box_opens_the_entry_at_that_strength(page, published):
    page.goto("/en/search/")
    page.get_by_role("searchbox").first.fill("HK-90104")
    page.get_by_role("searchbox").first.press("Enter")

    expect(page).to_have_url(re.compile(rf"/en/entries/lenalidomide/#strength-{_strength_of('HK-90104').pk}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lenalidomide")


def test_the_strength_row_is_on_screen_after_a_number_search(page, published):
    anchor = f"#strength-{_strength_of('HK-90104').pk}"
    page.goto("/en/search/?q=hk90104")
    if page.locator(anchor).count() == 0:
        pytest.skip("the entry page has no strength anchors yet (the entry page part of the search work)")

    expect(page.locator(anchor)).to_be_in_viewport()
    expect(page.locator(anchor)).to_contain_text("HK-90104")


def test_search_results_say_why_they_matched(page, published):
    # A marking of several strengths (one of a single strength goes straight to it).
    page.goto("/en/search/?q=marked+REV")

    result = page.locator(".search-results li").filter(has=page.get_by_role("link", name="Lenalidomide"))
    expect(result.locator("mark")).to_have_text(["marked", "REV"])
    expect(result).to_contain_text("Matched in appearance and marking:")
    expect(result).to_contain_text("HA formulary:")
    expect(result.locator(".badge-pregnancy")).to_be_visible()
