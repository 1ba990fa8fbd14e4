"""The demo entry page at the dispensary counter, in a real browser: the facts come first on a
phone (375 × 812) and on a desktop (1280 × 800), tables become cards on the phone, axe-core finds
nothing serious, and a printout carries the formulary, date, address and edition on every page."""

import datetime
import re

import pytest

from tests.factories import make_user, publish

from .conftest import describe

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
ENTRY = "/en/entries/lenalidomide/"


@pytest.fixture
def demo(live_server):
    from monographs.demo import load_lenalidomide

    reviewer = make_user("reviewer", "Reviewers")
    reviewer.first_name, reviewer.last_name = "Mei Ling", "Chan"
    reviewer.save()
    return publish(load_lenalidomide(), editor=make_user("editor", "Editors"), reviewer=reviewer)


def open_entry(page, viewport, language):
    page.set_viewport_size(viewport)
    page.goto(ENTRY.replace("/en/", f"/{language}/", 1))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant" if language == "zh-hant" else "en")


def bottom_on_page(locator):
    """Distance from the top of the page to the bottom of the element, in CSS pixels."""
    return locator.evaluate("element => element.getBoundingClientRect().bottom + window.scrollY")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
@pytest.mark.parametrize(("viewport", "screens"), [(PHONE, 2), (DESKTOP, 1)], ids=["phone", "desktop"])
def test_registration_number_and_pregnancy_badge_come_first(page, demo, viewport, screens, language):
    open_entry(page, viewport, language)

    first_number = page.locator(".strengths .registration-number").first
    badge = page.locator(".context-bar .badge-pregnancy")
    expect(first_number).to_have_text("HK-90101")
    expect(badge).to_be_visible()

    limit = screens * viewport["height"]
    assert bottom_on_page(first_number) <= limit, bottom_on_page(first_number)
    assert bottom_on_page(badge) <= limit, bottom_on_page(badge)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_phone_shows_cards_and_nothing_scrolls_sideways(page, demo, language):
    open_entry(page, PHONE, language)

    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().width > window.innerWidth)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert too_wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    scrolling = page.evaluate(
        """() => [...document.querySelectorAll('table, .table-scroll')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert scrolling == []
    # Each strength is a short card: strength and number on one line, then its pack (labelled)
    # and its marking.
    card = page.locator(".strengths tbody tr").first
    assert card.evaluate("row => getComputedStyle(row).display") == "grid"
    label = (
        page.locator(".strengths tbody tr td[data-label]")
        .nth(1)
        .evaluate("cell => getComputedStyle(cell, '::before').content")
    )
    assert label == ('"包裝: "' if language == "zh-hant" else '"Pack: "')


@pytest.mark.parametrize("language", ["en", "zh-hant"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_finds_nothing_serious_on_the_entry_page(page, demo, axe_violations, viewport, language):
    open_entry(page, viewport, language)

    violations = axe_violations(page)

    assert not violations, describe(violations)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_printout_names_formulary_date_address_and_edition(page, demo, live_server, language):
    open_entry(page, DESKTOP, language)
    expect(page.locator(".print-header")).to_be_hidden()  # on screen

    page.emulate_media(media="print")

    header, footer = page.locator(".print-header"), page.locator(".print-footer")
    expect(header).to_be_visible()
    expect(footer).to_be_visible()
    today = datetime.date.today()
    if language == "zh-hant":
        expected = [
            "醫院藥物名冊",
            "Lenalidomide 來那度胺 · 第 1 版",
            f"列印日期 {today.year}年{today.month}月{today.day}日",
        ]
    else:
        expected = ["Hospital Formulary", "Lenalidomide 來那度胺 · edition 1", f"Printed {today:%-d %b %Y}"]
    for text in expected:
        expect(header).to_contain_text(text)
    expect(footer).to_contain_text(live_server.url + ENTRY.replace("/en/", f"/{language}/", 1))
    # The header and footer repeat on every printed page: they are the frame's table header and
    # footer groups, which the browser prints again on each page.
    groups = page.evaluate(
        """() => [...document.querySelectorAll('.print-frame > thead, .print-frame > tfoot')]
            .map(e => getComputedStyle(e).display)"""
    )
    assert groups == ["table-header-group", "table-footer-group"]
    expect(page.locator(".site-header")).to_be_hidden()


def test_an_editor_sees_edit_this_entry_and_a_visitor_does_not(page, browser, base_url, admin_login, demo):
    visitor = browser.new_page(base_url=base_url)
    visitor.goto("/en/entries/lenalidomide/")
    expect(visitor.locator("main")).to_contain_text("Lenalidomide")
    visitor.wait_for_load_state("networkidle")
    assert visitor.get_by_role("link", name="Edit this entry").count() == 0
    # A visitor carrying the editor marker cookie without a session (an editor signed out
    # elsewhere, or a forged cookie): the script does ask the server, and the server refuses.
    # Only after its answer has been handled does the link's absence mean anything.
    marked = browser.new_context(base_url=base_url)
    marked.add_cookies([{"name": "formulary_editor", "value": "1", "url": base_url}])
    marked_visitor = marked.new_page()
    with marked_visitor.expect_response(re.compile(r"/edit-link/\d+/$")) as answer:
        marked_visitor.goto("/en/entries/lenalidomide/")
    assert answer.value.status == 204
    marked_visitor.wait_for_load_state("networkidle")
    assert marked_visitor.get_by_role("link", name="Edit this entry").count() == 0
    marked.close()

    admin_login(page, make_user("editor-b", "Editors"))
    page.goto("/en/entries/lenalidomide/")
    page.get_by_role("link", name="Edit this entry").click()
    expect(page).to_have_url(re.compile(r"/admin/monographs/entry/\d+/change/$"))
