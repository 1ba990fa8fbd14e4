"""The both-languages view in a real browser: English and Chinese side by side on a desktop
(1280 px) and one above the other on a phone (375 px), nothing scrolling sideways, axe-core
finding nothing serious, in either interface language; and the zh-Hant entry page's stale and
missing translations laid out the same way.

Set FORMULARY_SCREENSHOT_DIR to keep a full-page screenshot of each page looked at."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import make_bilingual_entry, make_user, publish

from .conftest import describe

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = [PHONE, DESKTOP]


@pytest.fixture
def live_entry(live_server):
    editor = make_user("editor", "Editors")
    return publish(
        make_bilingual_entry(editor),
        editor=editor,
        reviewer=make_user("reviewer", "Reviewers"),
        accept_stale_translations=True,
    )


def open_page(page, name, viewport, language):
    page.set_viewport_size(viewport)
    page.set_extra_http_headers({"Accept-Language": language})
    with translation.override(language):
        page.goto(reverse(name, args=["lenalidomide"]))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant" if language == "zh-hant" else "en")
    if folder := os.environ.get("FORMULARY_SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name.split(':')[1]}-{language}-{viewport['width']}.png", full_page=True)


def boxes(locator):
    return [block.bounding_box() for block in locator.all()]


def assert_nothing_scrolls_sideways(page):
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert too_wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("language", ["en", "zh-hant"])
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_both_languages_view_side_by_side_on_a_desktop_stacked_on_a_phone(page, live_entry, viewport, language):
    open_page(page, "monographs:entry_bilingual", viewport, language)

    overview = page.locator("#section-1")
    english, chinese = boxes(overview.locator(".side-by-side > .language-block"))
    expect(overview.locator('.body[lang="en"]')).to_have_text("Lenalidomide is an immunomodulatory medicine.")
    expect(overview.locator('.body[lang="zh-Hant"]')).to_have_text("來那度胺是一種免疫調節藥物。")
    if viewport is DESKTOP:
        assert english["y"] == chinese["y"] and english["x"] + english["width"] <= chinese["x"]
    else:
        assert chinese["y"] >= english["y"] + english["height"]
        assert chinese["x"] == english["x"]
    # The stale section says so in words, and the missing one too.
    expect(page.locator("#section-2 .translation-notice")).to_be_visible()
    expect(page.locator("#section-3 .translation-status")).to_have_text(
        "未有中文譯文" if language == "zh-hant" else "No Chinese translation yet"
    )
    assert_nothing_scrolls_sideways(page)


@pytest.mark.parametrize("language", ["en", "zh-hant"])
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_axe_finds_nothing_serious_on_the_both_languages_view(page, live_entry, axe_violations, viewport, language):
    open_page(page, "monographs:entry_bilingual", viewport, language)

    violations = axe_violations(page)

    assert not violations, describe(violations)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "desktop"])
def test_zh_entry_page_stale_section_beside_its_english_and_axe_clean(page, live_entry, axe_violations, viewport):
    open_page(page, "monographs:entry_detail", viewport, "zh-hant")

    stale = page.locator("#section-2")
    expect(stale.locator(".translation-notice")).to_contain_text("此譯文可能已過時")
    chinese, english = boxes(stale.locator(".side-by-side > .language-block"))
    if viewport is DESKTOP:
        assert chinese["y"] == english["y"] and chinese["x"] + chinese["width"] <= english["x"]
    else:
        assert english["y"] >= chinese["y"] + chinese["height"]
    expect(page.locator("#section-3 .language-label")).to_have_text("英文原文（未有中文譯文）")
    assert_nothing_scrolls_sideways(page)
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_english_entry_page_links_to_the_both_languages_view(page, live_entry):
    open_page(page, "monographs:entry_detail", DESKTOP, "en")
    page.get_by_role("link", name="English and Chinese side by side").click()
    expect(page.locator("h1")).to_contain_text("Lenalidomide 來那度胺")


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_both_languages_view_prints_two_columns_with_the_running_header(page, live_entry, language):
    open_page(page, "monographs:entry_bilingual", DESKTOP, language)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})  # about an A4 page's printable width

    expect(page.locator(".print-header")).to_be_visible()
    expect(page.locator(".print-header")).to_contain_text(
        "中英對照" if language == "zh-hant" else "English and Chinese"
    )
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-nav")).to_be_hidden()
    english, chinese = boxes(page.locator("#section-1 .side-by-side > .language-block"))
    assert english["y"] == chinese["y"] and english["x"] + english["width"] <= chinese["x"]
    avoid = page.locator("#section-1").evaluate("s => getComputedStyle(s).breakInside")
    assert avoid == "avoid"
    if folder := os.environ.get("FORMULARY_SCREENSHOT_DIR"):
        page.screenshot(path=f"{folder}/entry_bilingual-{language}-print.png", full_page=True)
