"""Interface in English and Traditional Chinese, with a language switch that keeps the page.

Monograph content stays in the language it was written in."""

import pytest
from django.urls import reverse
from django.utils import translation

from .factories import make_published

SETLANG = "/i18n/setlang/"


pytestmark = pytest.mark.usefixtures("empty_cache")


def switch(client, language, next_url):
    return client.post(SETLANG, {"language": language, "next": next_url})


def test_every_page_links_to_itself_in_the_other_language(client, published_lenalidomide):
    """The switch is a pair of links (no form, no CSRF token) to the same page, query string kept."""
    for url in ["/en/", "/en/entries/?letter=L", "/en/classes/", "/en/search/?q=revlimid", "/en/entries/lenalidomide/"]:
        html = client.get(url).content.decode()
        chinese = "/zh-hant/" + url.removeprefix("/en/")
        assert f'<a href="{chinese.replace("&", "&amp;")}" lang="zh-Hant" hreflang="zh-Hant">繁體中文</a>' in html, url
        assert '<span lang="en" aria-current="page">English</span>' in html, url
        assert "csrfmiddlewaretoken" not in html and "<select" not in html, url
        back = client.get(chinese).content.decode()
        assert f'<a href="{url.replace("&", "&amp;")}" lang="en" hreflang="en">English</a>' in back, chinese


def test_the_chinese_address_translates_the_interface(client, published_lenalidomide):
    html = client.get(reverse("monographs:entry_detail", args=["lenalidomide"])).content.decode()
    assert '<html lang="en">' in html and "Products in Hong Kong" in html
    with translation.override("zh-hant"):
        address = reverse("monographs:entry_detail", args=["lenalidomide"])
    assert address == "/zh-hant/entries/lenalidomide/"

    html = client.get(address).content.decode()

    assert '<html lang="zh-Hant">' in html
    assert "醫院藥物名冊" in html  # site name
    assert "香港註冊產品" in html  # products heading
    assert "概覽" in html  # SectionKind label
    assert "須憑處方" in html  # sale requirement label
    assert "膠囊" in html  # dosage form label
    assert "免責聲明" in html  # the monograph's own Disclaimer section, the page's only one
    # The monograph itself stays in English, as written.
    assert "cereblon" in html
    assert "Products in Hong Kong" not in html


def test_the_address_decides_the_language_not_the_cookie_or_header(client, published_lenalidomide):
    """A page is the same for every visitor: neither the language cookie nor Accept-Language changes it."""
    client.cookies["django_language"] = "zh-hant"
    html = client.get("/en/search/?q=revlimid", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
    assert '<html lang="en">' in html and "Search the formulary" in html and "搜尋藥物名冊" not in html


def test_cached_entry_page_is_per_language(client, published_lenalidomide):
    english = client.get("/en/entries/lenalidomide/").content.decode()
    chinese = client.get("/zh-hant/entries/lenalidomide/").content.decode()

    assert "Side effects" in english and "副作用" not in english
    assert "副作用" in chinese and ">Side effects<" not in chinese


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("zh-HK,zh-Hant;q=0.9", "/zh-hant/"), ("zh-TW", "/zh-hant/"), ("en-GB,en;q=0.8", "/en/"), ("", "/en/")],
)
def test_an_address_without_language_redirects_by_accept_language(
    client, published_lenalidomide, accept_language, expected
):
    response = client.get("/entries/lenalidomide/?x=1", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 302
    assert response["Location"] == f"{expected}entries/lenalidomide/?x=1"
    home = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert home.status_code == 302 and home["Location"] == expected


def test_the_chosen_language_cookie_wins_over_accept_language_for_the_redirect(client, published_lenalidomide):
    """The admin's language choice (set_language) also picks the public pages' language."""
    client.post(SETLANG, {"language": "zh-hant", "next": "/admin/"})
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Location"] == "/zh-hant/"
    assert "查找藥物" in client.get(response["Location"]).content.decode()


def test_chinese_search_page_and_chinese_content(client, editor, reviewer):
    make_published(
        "Paracetamol",
        editor=editor,
        reviewer=reviewer,
        synonyms="撲熱息痛\n必理痛",
        sections=[("overview", "", "撲熱息痛用於紓緩痛楚及退燒。")],
    )
    html = client.get("/zh-hant/search/", {"q": "必理痛"}).content.decode()

    assert "「必理痛」的搜尋結果：1 項" in html
    assert 'href="/zh-hant/entries/paracetamol/"' in html
    assert "撲熱息痛用於紓緩痛楚及退燒。" in html  # excerpt of the Chinese body


def test_workflow_refusals_are_in_the_readers_language(client, lenalidomide, editor, editor2, reviewer):
    """A reviewer reading the admin in Chinese gets the workflow's refusals in Chinese too."""
    from monographs import workflow

    from .factories import edit

    seen = workflow.submit(entry=lenalidomide, user=editor).revision
    edit(lenalidomide, user=editor2, first_section_body="Changed after submission")
    workflow.submit(entry=lenalidomide, user=editor2)
    with translation.override("zh-hant"), pytest.raises(workflow.TransitionError) as refused:
        workflow.submit(entry=lenalidomide, user=editor)
    assert str(refused.value) == "此條目已在審核中。"

    client.force_login(reviewer)
    switch(client, "zh-hant", "/admin/")
    response = client.post(
        reverse("admin:monographs_entry_review", args=[lenalidomide.pk]),
        {"decision": "approve", "comment": "好", "revision": seen.pk, "seen": workflow.state_token(lenalidomide)},
    )
    assert response.status_code == 409
    assert "你審閱的版本已不再是待審核的版本" in response.content.decode()
    assert "審核現正待審核的版本" in response.content.decode()


def test_chinese_entry_page_writes_dates_the_chinese_way_and_strength_as_content(client, published_lenalidomide):
    edition = published_lenalidomide.state.live_edition
    approved = edition.approved_at.astimezone()
    due = edition.next_review_due

    html = client.get("/zh-hant/entries/lenalidomide/").content.decode()

    assert f"{approved.year}年{approved.month}月{approved.day}日" in html
    assert f"{due.year}年{due.month}月{due.day}日" in html
    assert approved.strftime("%b") not in html.split('id="main"')[1]  # no English month names
    # "Strength" is 含量 (the amount of active ingredient, as Drug Office labels say), never 劑量 (dose).
    assert "含量及劑型" in html and "劑量" not in html
    assert "<title>Lenalidomide 來那度胺 · 醫院藥物名冊</title>" in html
    assert "懷孕期間有害" in html and "預防懷孕計劃" in html  # the badges


def test_the_refusals_of_issue_20_are_translated():
    # Control characters (text_rules, importing, transfer), the damaged submit, the date horizon.
    from django.core.exceptions import ValidationError

    from monographs.forms import ReviewDecisionForm
    from monographs.importing import MonographTextError, parse_monograph
    from monographs.text_rules import validate_text

    with translation.override("zh-hant"):
        with pytest.raises(ValidationError) as refused:
            validate_text("葛\x0b根")
        assert refused.value.messages == [
            "請刪除隱形字元 U+000B (LINE TABULATION)（第 1 行第 2 個字元）：不可使用控制字元及文字方向覆寫字元。"
            "從 PDF 或其他程式貼上的文字常帶有這些字元；請重新輸入該處附近的文字。"
        ]
        with pytest.raises(MonographTextError, match="第 1 行第 3 個字元：不可使用隱形字元 U\\+0007"):
            parse_monograph("ab\x07c")
        form = ReviewDecisionForm({"comment": "OK", "revision": "1", "go_live_at": "9999-12-31T23:59"})
        assert not form.is_valid()
        assert form.errors["go_live_at"] == ["請選擇 5 年內的時間。"]
        for message in [
            "Not submitted: this page is damaged or out of date; open the entry again.",
            "Control characters and text-direction overrides are not allowed in the text.",
        ]:
            assert translation.gettext(message) != message
