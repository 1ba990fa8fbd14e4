"""The public pages in Traditional Chinese: the zh-Hant entry page shows the Chinese content where
its translation is up to date, a stale translation with a notice and the English beside it, and
the English (labelled as English) where there is no translation; the both-languages view shows
every section in both, with its translation status, and prints as a two-column sheet.

Addresses come from reverse() under the language asked for, and the language is also asked for
in Accept-Language, so these tests hold whether the language is chosen by the address or by the
browser's preference."""

import copy
import re
from datetime import date

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from monographs import fragments, selectors, services, workflow
from monographs.models import RenderedFragment

from .factories import edit, make_bilingual_entry, make_entry, publish

ZH = "zh-hant"


pytestmark = pytest.mark.usefixtures("empty_cache")


def get_in(client, language, name, *args):
    """GET the page `name` in `language`, as a reader whose browser asks for that language."""
    with translation.override(language):
        url = reverse(name, args=args)
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language)


def html_in(client, language, name, *args):
    response = get_in(client, language, name, *args)
    assert response.status_code == 200
    # Line breaks between tags (the Markdown renderer's) are no part of what is asserted.
    return re.sub(r">\s*\n\s*<", "><", response.content.decode())


def section_html(html, number):
    """The HTML of the page's section number `number` (1-based), up to its closing tag."""
    match = re.search(rf'<section id="section-{number}".*?</section>', html, re.S)
    assert match, f"no section {number}"
    return match.group(0)


def zh_date(day):
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
def live_bilingual(editor, reviewer):
    return publish(make_bilingual_entry(editor), editor=editor, reviewer=reviewer, accept_stale_translations=True)


# --- The zh-Hant entry page --------------------------------------------------------------


def test_zh_page_shows_the_chinese_of_an_up_to_date_section(client, live_bilingual):
    html = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    overview = section_html(html, 1)
    assert ">概覽</h2>" in overview  # the kind's Chinese heading
    assert '<div class="body" lang="zh-Hant"><p>來那度胺是一種免疫調節藥物。</p></div>' in overview
    assert "immunomodulatory" not in overview
    assert "英文原文" not in overview and "可能已過時" not in overview
    # An "Other" section's own Chinese heading, in the contents too.
    assert ">輔導要點</h2>" in section_html(html, 4) and "用水整粒吞服膠囊。" in section_html(html, 4)
    assert '<a href="#section-4">輔導要點</a>' in html


def test_zh_page_shows_a_stale_translation_with_the_notice_and_the_english_beside_it(client, live_bilingual):
    html = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    side_effects = section_html(html, 2)
    assert ">副作用</h2>" in side_effects
    assert f"英文原文已於 {zh_date(date.today())} 更新；此譯文可能已過時。" in side_effects
    assert '<div class="body" lang="zh-Hant"><p>疲倦及皮疹。</p></div>' in side_effects
    assert '<div class="body" lang="en"><p>Tiredness, rash and low blood counts.</p></div>' in side_effects
    assert 'class="side-by-side' in side_effects
    # The notice is text before the two texts, not a colour.
    assert side_effects.index("可能已過時") < side_effects.index("疲倦及皮疹")


def test_zh_page_shows_a_missing_translation_in_english_labelled_as_english(client, live_bilingual):
    html = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    storage = section_html(html, 3)
    assert ">儲存及療程</h2>" in storage  # the kind's Chinese label
    assert "英文原文" in storage
    assert '<div class="body" lang="en"><p>Store below 25 °C in the original pack.</p></div>' in storage
    assert "可能已過時" not in storage


def test_zh_page_header_has_chinese_warning_synonyms_and_product_names(client, live_bilingual):
    html = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    # The context bar (name and badges) and the header under it.
    header = html[html.index('<div class="context-bar"') : html.index("</header>", html.index("monograph-header"))]
    assert '<h1 id="entry-title" lang="en">Lenalidomide</h1>' in header
    assert "懷孕期間不可使用。" in header and "Do not use in pregnancy." not in header
    assert "雷那度胺、來那度胺膠囊" in header
    # The English brand name is marked as English on the Chinese page.
    assert '<span lang="en">Revlimid</span> <span class="product-zh" lang="zh-Hant">瑞復美</span>' in header
    # Both pages link to the both-languages view.
    with translation.override(ZH):
        bilingual_url = reverse("monographs:entry_bilingual", args=["lenalidomide"])
    assert f'<a href="{bilingual_url}">中英對照</a>' in header


def test_zh_page_stale_boxed_warning_has_the_notice_and_the_english(client, editor, reviewer):
    publish(
        make_bilingual_entry(editor, stale_section=False, stale_warning=True),
        editor=editor,
        reviewer=reviewer,
        accept_stale_translations=True,
    )

    html = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    box = html[
        html.index('<div class="boxed-warning"') : html.index("</div>", html.index('<div class="boxed-warning"'))
    ]
    assert "懷孕期間不可使用。" in box
    assert "此譯文可能已過時" in box
    assert '<span lang="en">Do not use in pregnancy or when breastfeeding.</span>' in box and "英文原文" in box


def test_english_page_is_english_with_the_chinese_product_name(client, live_bilingual):
    html = html_in(client, "en", "monographs:entry_detail", "lenalidomide")

    assert '<html lang="en">' in html
    assert "Lenalidomide is an immunomodulatory medicine." in html
    assert "Tiredness, rash and low blood counts." in html
    assert "來那度胺是一種免疫調節藥物" not in html and "疲倦及皮疹" not in html and "懷孕期間不可使用" not in html
    assert "may be outdated" not in html and "雷那度胺" not in html
    assert '<h2 id="section-4-heading">Counselling points</h2>' in html
    assert 'Revlimid <span class="product-zh" lang="zh-Hant">瑞復美</span>' in html
    assert "English and Chinese side by side" in html


def test_an_edition_made_before_the_chinese_keys_reads_as_missing(rf, live_bilingual):
    """Editions published before Chinese text existed have no body_zh or zh_source: English, labelled. (Editions
    are append-only, so the old edition is an unsaved copy, rendered as the page renders one.)"""
    edition = copy.copy(live_bilingual.state.live_edition)
    content = copy.deepcopy(edition.content)
    for section in content["sections"]:
        for key in ("heading_zh", "body_zh", "zh_source", "english_updated_at"):
            section.pop(key)
    for key in ("chinese_synonyms", "boxed_warning_zh", "boxed_warning_zh_source"):
        content.pop(key)
    edition.content = content

    with translation.override(ZH):
        html = fragments.monograph_html(edition, selectors.edition_history(edition), request=rf.get("/"))
    html = re.sub(r">\s*\n\s*<", "><", html)

    assert "Lenalidomide is an immunomodulatory medicine." in section_html(html, 1)
    assert "英文原文" in section_html(html, 1) and "可能已過時" not in html
    assert ">概覽</h2>" in section_html(html, 1)
    # No Chinese heading for the section's own English heading: the English one, marked as English.
    assert '<h2 id="section-4-heading" lang="en">Counselling points</h2>' in section_html(html, 4)
    assert "Do not use in pregnancy." in html and "懷孕期間不可使用" not in html


def test_the_cached_page_is_per_language(client, live_bilingual):
    english = html_in(client, "en", "monographs:entry_detail", "lenalidomide")
    chinese = html_in(client, ZH, "monographs:entry_detail", "lenalidomide")

    edition = live_bilingual.state.live_edition
    stored = dict(RenderedFragment.objects.filter(edition=edition, part="entry").values_list("language", "html"))
    assert "來那度胺是一種免疫調節藥物" in stored[ZH]
    assert "來那度胺是一種免疫調節藥物" not in stored["en"]
    assert "來那度胺是一種免疫調節藥物" in chinese and "來那度胺是一種免疫調節藥物" not in english


# --- The both-languages view ---------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", ZH])
def test_bilingual_view_shows_each_section_in_both_languages_with_its_status(client, live_bilingual, language):
    html = html_in(client, language, "monographs:entry_bilingual", "lenalidomide")

    assert len(re.findall(r"<h1[ >]", html)) == 1
    overview, side_effects, storage, other = (section_html(html, n) for n in range(1, 5))
    assert '<span lang="en">Overview</span> <span class="heading-zh" lang="zh-Hant">概覽</span>' in overview
    assert '<div class="body" lang="en"><p>Lenalidomide is an immunomodulatory medicine.</p></div>' in overview
    assert '<div class="body" lang="zh-Hant"><p>來那度胺是一種免疫調節藥物。</p></div>' in overview
    assert '<span lang="en">Counselling points</span> <span class="heading-zh" lang="zh-Hant">輔導要點</span>' in other
    if language == ZH:
        assert "中文譯文已是最新" in overview
        assert "中文譯文可能已過時" in side_effects and f"英文原文已於 {zh_date(date.today())} 更新" in side_effects
        assert "未有中文譯文" in storage
    else:
        assert "Chinese translation up to date" in overview
        assert "Chinese translation may be outdated" in side_effects
        assert "The English text was updated on" in side_effects
        assert "No Chinese translation yet" in storage
    assert "Tiredness, rash and low blood counts." in side_effects and "疲倦及皮疹。" in side_effects
    assert "Store below 25 °C in the original pack." in storage
    # Both languages of the boxed warning, each in its own language.
    assert '<p class="language-block" lang="en">Do not use in pregnancy.</p>' in html
    assert '<p class="language-block" lang="zh-Hant">懷孕期間不可使用。</p>' in html
    # Back to the entry page, in the same language.
    with translation.override(language):
        assert f'href="{reverse("monographs:entry_detail", args=["lenalidomide"])}"' in html


def test_bilingual_view_is_404_for_drafts_and_withdrawn_entries(client, editor, reviewer):
    entry = make_bilingual_entry(editor)
    assert get_in(client, "en", "monographs:entry_bilingual", "lenalidomide").status_code == 404
    assert get_in(client, "en", "monographs:entry_bilingual", "no-such-entry").status_code == 404

    entry = publish(entry, editor=editor, reviewer=reviewer, accept_stale_translations=True)
    assert get_in(client, ZH, "monographs:entry_bilingual", "lenalidomide").status_code == 200

    # An unpublished edit never reaches the view: the live edition is shown.
    edit(entry, user=editor, first_section_body="Draft wording not yet approved.")
    assert "Draft wording" not in html_in(client, "en", "monographs:entry_bilingual", "lenalidomide")

    workflow.withdraw(entry=entry, user=reviewer, comment="Withdrawn")
    assert get_in(client, "en", "monographs:entry_bilingual", "lenalidomide").status_code == 404
    assert get_in(client, ZH, "monographs:entry_bilingual", "lenalidomide").status_code == 404


def test_bilingual_view_prints_as_a_two_column_sheet_with_the_running_header(client, live_bilingual):
    html = html_in(client, ZH, "monographs:entry_bilingual", "lenalidomide")

    # The print frame of the entry page: running header and footer with the address.
    assert '<table class="print-frame" role="presentation">' in html
    assert "print-header" in html and "print-footer" in html
    with translation.override(ZH):
        assert reverse("monographs:entry_bilingual", args=["lenalidomide"]) in html
    with open(finders.find("formulary/site.css"), encoding="utf-8") as stylesheet:
        css = stylesheet.read()
    print_rules = "".join(re.findall(r"@media print \{(.*?)\n\}", css, re.S))
    assert re.search(r"\.side-by-side \{ grid-template-columns: 1fr 1fr;", print_rules)
    assert re.search(r"\.bilingual-section[^{]*\{[^}]*break-inside: avoid", print_rules)
    assert ".site-header" in print_rules and "display: none" in print_rules
    phone_rules = css[css.index("@media (max-width: 37.5rem)") :]
    assert ".side-by-side { grid-template-columns: 1fr; }" in phone_rules


def test_bilingual_view_is_cached_per_edition_and_language(client, live_bilingual, editor, reviewer):
    html_in(client, "en", "monographs:entry_bilingual", "lenalidomide")
    english_again = html_in(client, "en", "monographs:entry_bilingual", "lenalidomide")
    chinese = html_in(client, ZH, "monographs:entry_bilingual", "lenalidomide")
    assert "Chinese translation up to date" in english_again and "中文譯文已是最新" in chinese

    # A new edition is shown at once.
    side_effects = live_bilingual.sections.get(kind="side_effects")
    services.section_update(section=side_effects, user=editor, reason="Checked", body_zh="疲倦、皮疹及血球數量低。")
    publish(live_bilingual, editor=editor, reviewer=reviewer, accept_stale_translations=True)
    html = html_in(client, ZH, "monographs:entry_bilingual", "lenalidomide")
    assert "疲倦、皮疹及血球數量低。" in section_html(html, 2)
    assert "中文譯文已是最新" in section_html(html, 2)


def test_bilingual_view_query_count_is_fixed(client, django_assert_num_queries, live_bilingual):
    with translation.override("en"):
        url = reverse("monographs:entry_bilingual", args=["lenalidomide"])
    # The first read stores what the job queue would have rendered: the live edition by slug, its
    # stored sheet (missing), the edition with its snapshot, the insert.
    with django_assert_num_queries(4):
        client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    with django_assert_num_queries(2):  # stored: the live edition by slug, then its sheet
        client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_chinese_text_is_rendered_as_safely_as_the_english(client, editor, reviewer):
    entry = make_entry(
        "Lenalidomide",
        user=editor,
        boxed_warning="Do not use in pregnancy.",
        boxed_warning_zh='<img src=x onerror="alert(1)">懷孕期間不可使用。',
        sections=[
            {
                "kind": "other",
                "heading": "Counselling",
                "heading_zh": "<b>輔導</b>",
                "body": "Swallow whole.",
                "body_zh": '<script>alert("zh")</script>**整粒**吞服。',
            }
        ],
    )
    publish(entry, editor=editor, reviewer=reviewer, accept_stale_translations=True)

    for name in ("monographs:entry_detail", "monographs:entry_bilingual"):
        html = html_in(client, ZH, name, "lenalidomide")
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>輔導</b>" not in html
        assert "&lt;script&gt;alert" in html and "&lt;b&gt;輔導&lt;/b&gt;" in html
        assert "<strong>整粒</strong>吞服。" in html  # the same Markdown subset as the English
