"""Chinese pages are Chinese: every run of English on a zh-Hant page carries lang="en" (so screen
readers and fonts switch with it), drug classes read in Chinese, packs as 「21 粒」."""

import re
from html.parser import HTMLParser

import pytest

from monographs.demo import DRUG_CLASS_ZH

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Four or more English words in a row (numbers and punctuation between them do not end a run).
# An address is not English prose (the printed page's footer shows its own).
ADDRESS = re.compile(r"\S+://\S+")
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[\s\d.,;:()/&+%'’\-]+[A-Za-z][A-Za-z'’\-]*){3,}")


class _UnmarkedEnglish(HTMLParser):
    """Text of a page outside any element marked lang="en" (scripts and styles left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, in English)
        self.runs = []

    def _english(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        lang = dict(attrs).get("lang")
        english = (lang or "").lower().startswith("en") if lang is not None else self._english()
        self.stack.append((tag, english or tag in ("script", "style")))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._english():
            self.runs += [match.group(0) for match in ENGLISH_RUN.finditer(ADDRESS.sub(" ", data))]


def unmarked_english_runs(html):
    parser = _UnmarkedEnglish()
    parser.feed(html)
    return parser.runs


def test_the_checker_finds_an_unmarked_run_and_accepts_a_marked_one():
    assert unmarked_english_runs("<p>由 Bristol Myers Squibb Pharma 供應</p>") == ["Bristol Myers Squibb Pharma"]
    assert unmarked_english_runs('<p>由 <span lang="en">Bristol Myers Squibb Pharma</span> 供應</p>') == []
    assert unmarked_english_runs("<p>REV 2.5 mg</p>") == []


@pytest.fixture
def chinese_pages(client, published_bilingual_lenalidomide):
    entry = client.get("/zh-hant/entries/lenalidomide/").content.decode()
    classes = client.get("/zh-hant/classes/").content.decode()
    home = client.get("/zh-hant/").content.decode()
    slug = re.search(r'href="/zh-hant/classes/([^/"]+)/"', classes).group(1)
    class_page = client.get(f"/zh-hant/classes/{slug}/").content.decode()
    return {"entry": entry, "class list": classes, "class": class_page, "home": home}


@pytest.mark.parametrize("page", ["entry", "class list", "class", "home"])
def test_no_english_run_of_four_words_outside_lang_en_on_chinese_pages(chinese_pages, page):
    html = chinese_pages[page]
    assert '<html lang="zh-Hant"' in html
    assert unmarked_english_runs(html) == []


def test_drug_class_and_pack_read_in_chinese(chinese_pages):
    for page in ("entry", "class list", "class", "home"):
        assert DRUG_CLASS_ZH in chinese_pages[page], page
    entry = chinese_pages["entry"]
    assert "21 粒" in entry and "21 capsules" not in entry
    assert "Immunomodulatory imide drug" not in entry


def test_the_english_pages_keep_the_english_class_and_pack(client, published_bilingual_lenalidomide):
    entry = client.get("/en/entries/lenalidomide/").content.decode()
    assert "Immunomodulatory imide drug" in entry and "21 capsules" in entry
    assert DRUG_CLASS_ZH not in entry
