"""Search: names, brands, synonyms and body text of live editions, typo-tolerant, and
robust against any input, on PostgreSQL (full text, trigrams and Chinese bigrams)."""

import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from monographs import search, services, workflow, working_copy
from monographs.models import Entry

from .factories import make_entry, make_published, product, publish

# With or without a language prefix (/en/entries/…/).
ENTRY_LINK = re.compile(r'<a class="entry-name" href="(?:/[a-z-]+)?/entries/([^/]+)/">')


def result_slugs(client, query, **params):
    response = client.get(reverse("monographs:search"), {"q": query, **params})
    assert response.status_code == 200
    return ENTRY_LINK.findall(response.content.decode())


@pytest.fixture
def formulary(published_lenalidomide, editor, reviewer):
    """Lenalidomide (brand Revlimid) plus two other live entries."""
    make_published(
        "Thalidomide",
        editor=editor,
        reviewer=reviewer,
        drug_class="Immunomodulatory imide drug",
        sections=[("overview", "", "An older relative of lenalidomide and pomalidomide, used in myeloma.")],
        products=[product("Thalomid", kind="brand")],
    )
    make_published(
        "Metformin",
        editor=editor,
        reviewer=reviewer,
        drug_class="Biguanide",
        synonyms="Dimethylbiguanide\n二甲雙胍",
        sections=[("overview", "", "First-line treatment of type 2 diabetes.")],
        products=[product("Glucophage", kind="brand")],
    )
    return published_lenalidomide


@pytest.mark.parametrize(
    "query",
    [
        "lenalidomide",
        "Lenalidomide",
        "LENALIDOMIDE",
        "lenalidamide",
        "lenalidomid",
        "lenolidomide",
        "revlimd",
        "Revlimid",
        "cc-5013",
    ],
)
def test_name_brand_synonym_and_misspelling_find_lenalidomide_first(client, formulary, query):
    slugs = result_slugs(client, query)

    assert slugs and slugs[0] == "lenalidomide", slugs


def test_brand_name_finds_its_generic_entry(client, formulary):
    assert result_slugs(client, "Glucophage") == ["metformin"]
    assert result_slugs(client, "glucophag") == ["metformin"]


def test_body_text_is_searched_and_names_rank_above_body_text(client, formulary):
    # "cereblon" occurs only in the lenalidomide monograph's text.
    assert result_slugs(client, "cereblon") == ["lenalidomide"]
    # Thalidomide mentions lenalidomide in its body; the entry named so comes first.
    slugs = result_slugs(client, "lenalidomide")
    assert slugs[0] == "lenalidomide" and "thalidomide" in slugs


def test_chinese_synonym_finds_the_entry(client, formulary):
    assert result_slugs(client, "二甲雙胍") == ["metformin"]
    assert result_slugs(client, "來那度胺") == ["lenalidomide"]


def test_unrelated_words_find_nothing(client, formulary):
    assert result_slugs(client, "ibuprofen") == []
    assert "Nothing found" in client.get(reverse("monographs:search"), {"q": "ibuprofen"}).content.decode()


def test_results_show_brand_names_and_link_to_the_entry(client, formulary):
    html = client.get(reverse("monographs:search"), {"q": "revlimd"}).content.decode()

    assert 'href="/en/entries/lenalidomide/"' in html
    assert "Revlimid" in html
    # The count line, exactly: "results" alone is also in the page's class names.
    assert "1 result for “revlimd”" in html
    assert result_slugs(client, "revlimd") == ["lenalidomide"]


def test_results_are_paginated(client, settings, editor, reviewer):
    settings.FORMULARY_PUBLIC_PAGE_SIZE = 2
    for name in ["Atenolol", "Bisoprolol", "Carvedilol"]:
        make_published(
            name,
            editor=editor,
            reviewer=reviewer,
            drug_class="Beta blocker",
            sections=[("overview", "", "A beta blocker for hypertension.")],
        )

    first = result_slugs(client, "hypertension")
    second = result_slugs(client, "hypertension", page=2)

    assert len(first) == 2 and len(second) == 1
    assert set(first + second) == {"atenolol", "bisoprolol", "carvedilol"}
    html = client.get(reverse("monographs:search"), {"q": "hypertension"}).content.decode()
    assert "q=hypertension&amp;page=2" in html


def test_unpublished_and_withdrawn_entries_are_never_results(client, lenalidomide, editor, reviewer):
    make_published("Metformin", editor=editor, reviewer=reviewer)
    for query in ["lenalidomide", "revlimid", "cereblon", "lenalidamide"]:
        assert result_slugs(client, query) == []

    workflow.submit(entry=lenalidomide, user=editor)
    workflow.approve(
        entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment="ok"
    )
    assert result_slugs(client, "revlimid") == ["lenalidomide"]

    workflow.withdraw(entry=lenalidomide, user=reviewer, comment="Off the market")
    for query in ["lenalidomide", "revlimid", "cereblon", "lenalidamide"]:
        assert result_slugs(client, query) == []


ODD_QUERIES = [
    "",
    "   ",
    "x" * 2000,
    "lenalidomide " * 300,
    '"',
    "'",
    '"unterminated',
    "%",
    "%%_%",
    "_",
    "\\",
    "'; DROP TABLE monographs_edition; --",
    "1 OR 1=1",
    "<script>alert('x')</script>",
    "<b>bold</b>",
    "&amp; & | ! ( ) : * <->",
    "來那度胺",
    "來",
    "藥物 副作用",
    "lenalido\x00mide",
    "\x00",
    "\x00\x01\x02\x1f",
    "\u200b\ufeff",
    "😀💊",
    "-",
    "or",
    "the and of",
    "a",
    "ｌｅｎａｌｉｄｏｍｉｄｅ",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_give_a_normal_page(client, formulary, query):
    response = client.get(reverse("monographs:search"), {"q": query})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html


def test_nul_bytes_and_full_width_letters_are_cleaned(client, formulary):
    assert search.clean_query("lenalido\x00mide") == "lenalido mide"
    assert search.clean_query("ｌｅｎａｌｉｄｏｍｉｄｅ") == "lenalidomide"
    assert len(search.clean_query("x" * 2000)) == search.MAX_QUERY_LENGTH
    assert result_slugs(client, "ｌｅｎａｌｉｄｏｍｉｄｅ")[0] == "lenalidomide"


def test_query_is_shown_escaped(client, formulary):
    html = client.get(reverse("monographs:search"), {"q": '<img src=x onerror="alert(1)">'}).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_search_function_returns_nothing_for_empty_query(db):
    assert list(search.search("")) == []
    assert list(search.search("\x00 \t")) == []


def test_chinese_words_in_section_text_are_found(client, editor, reviewer):
    make_published(
        "Paracetamol",
        editor=editor,
        reviewer=reviewer,
        sections=[("uses", "", "撲熱息痛用於紓緩輕度至中度痛楚及退燒。")],
    )
    make_published("Metformin", editor=editor, reviewer=reviewer)

    assert result_slugs(client, "退燒") == ["paracetamol"]


def test_results_are_capped(client, formulary, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 1)

    assert len(result_slugs(client, "lenalidomide")) == 1


def test_postgresql_search_uses_its_indexes(formulary):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'monographs_edition'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "monographs_edition_search_names",
        "monographs_edition_search_name_text",
        "monographs_edition_search_body",
        "monographs_edition_search_fuzzy_names",
        "monographs_edition_search_cjk_names",
        "monographs_edition_search_cjk_body",
        "monographs_edition_generic_name_lower",
    } <= names
    # Replaced by the Chinese bigram index (migration 0014).
    assert "monographs_edition_body_trgm" not in names
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM monographs_edition WHERE search_names @@ websearch_to_tsquery('simple', 'revlimid')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "monographs_edition_search_names" in plan


def test_stored_search_columns_are_filled_when_an_edition_is_published(formulary):
    # PostgreSQL computes them on insert; an edition never needs an update to be searchable.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM monographs_edition WHERE search_names IS NULL OR search_body IS NULL "
            "OR search_name_text IS NULL"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT search_name_text FROM monographs_edition WHERE generic_name = 'Lenalidomide'")
        assert "Revlimid" in cursor.fetchone()[0]


# --- What is on the box ---------------------------------------------------------


def strength_id(entry, number):
    return entry.products.get(strengths__registration_number=number).strengths.get(registration_number=number).pk


@pytest.mark.parametrize("number", ["HK-90104", "hk90104", "hk 90104", "90104", "ＨＫ－９０１０４", " HK-90104 "])
def test_a_registration_number_goes_straight_to_its_strength(client, formulary, number):
    response = client.get(reverse("monographs:search"), {"q": number})

    assert response.status_code == 302
    assert response["Location"] == f"/en/entries/lenalidomide/#strength-{strength_id(formulary, 'HK-90104')}"


def test_a_registration_number_is_searched_only_in_live_editions(client, formulary, editor, reviewer):
    withdrawn = make_published(
        "Withdrawnol",
        editor=editor,
        reviewer=reviewer,
        products=[product("Withdrawnol", strengths=[{"amount": "5", "registration_number": "HK-44444"}])],
    )
    make_entry(
        "Draftamab",
        user=editor,
        products=[product("Draftamab", strengths=[{"amount": "5", "registration_number": "HK-33333"}])],
    )
    assert client.get(reverse("monographs:search"), {"q": "HK-44444"}).status_code == 302

    workflow.withdraw(entry=withdrawn, user=reviewer, comment="Off the market")
    for number in ["HK-44444", "44444", "HK-33333", "hk33333", "HK-12345"]:
        response = client.get(reverse("monographs:search"), {"q": number})
        assert response.status_code == 200, number
        assert result_slugs(client, number) == []
        assert "Nothing found" in response.content.decode()
    assert search.search("HK-44444") == [] and search.registered_strength("HK-44444") is None


def test_a_registration_number_is_the_result_in_the_api(client, formulary):
    response = client.get("/api/v1/search/", {"q": "hk90104"})

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == ["lenalidomide"]


@pytest.mark.parametrize(
    "query, where, marked",
    [
        # A marking of one strength goes straight to it (below); of several, it is a result.
        ("marked REV", "appearance and marking", "<mark>marked</mark> <mark>REV</mark>"),
        ("MARKED rev", "appearance and marking", "<mark>marked</mark> <mark>REV</mark>"),
        ("L04AX", "ATC code", "<mark>L04AX</mark>04"),
        ("L04", "ATC code", "<mark>L04</mark>AX04"),
        ("L04AX04", "ATC code", "<mark>L04AX04</mark>"),
        ("Bristol Myers Squibb", "certificate holder", "<mark>Bristol</mark> <mark>Myers</mark> <mark>Squibb</mark>"),
        ("來那度胺", "Chinese name", "<mark>來那度胺</mark>"),
    ],
)
def test_what_is_on_the_box_finds_the_entry_and_says_why(client, formulary, query, where, marked):
    html = client.get(reverse("monographs:search"), {"q": query}).content.decode()

    assert ENTRY_LINK.findall(html)[:1] == ["lenalidomide"]
    assert f"Matched in {where}:" in html
    assert marked in html


def test_the_chinese_name_field_is_searched(client, editor, reviewer):
    make_published("Paracetamol", editor=editor, reviewer=reviewer, chinese_name="撲熱息痛")
    make_published("Metformin", editor=editor, reviewer=reviewer)

    assert result_slugs(client, "撲熱息痛") == ["paracetamol"]
    assert result_slugs(client, "熱息") == ["paracetamol"]


@pytest.mark.parametrize("word", ["thalidomide", "pregnancy"])
def test_body_words_show_a_highlighted_piece_of_the_section_text(client, formulary, word):
    html = client.get(reverse("monographs:search"), {"q": word}).content.decode()
    lenalidomide = html[html.index('href="/en/entries/lenalidomide/"') :]

    match = re.search(r'<p class="match">.*?</p>', lenalidomide, re.S).group(0)
    assert "Matched in monograph text:" in match
    assert re.search(rf"<mark>{word}</mark>", match, re.I), match


def test_names_are_highlighted_and_rank_above_the_text(client, formulary):
    html = client.get(reverse("monographs:search"), {"q": "thalidomide"}).content.decode()

    assert ENTRY_LINK.findall(html) == ["thalidomide", "lenalidomide"]
    assert "<mark>Thalidomide</mark>" in html
    # A misspelt name: the name it stands for is marked.
    assert "<mark>Revlimid</mark>" in client.get(reverse("monographs:search"), {"q": "revlimd"}).content.decode()


def test_a_control_query_finds_nothing(client, formulary):
    for query in ["zyxwvut", "HK-99999", "99999", "Q99ZZ"]:
        assert result_slugs(client, query) == [], query


def test_results_show_safety_badges_and_formulary_status(client, formulary):
    html = client.get(reverse("monographs:search"), {"q": "lenalidomide"}).content.decode()
    lenalidomide = html[html.index('href="/en/entries/lenalidomide/"') :].split('class="entry-name"')[0]

    assert 'class="badge badge-pregnancy"' in lenalidomide
    assert 'class="badge badge-cytotoxic"' in lenalidomide
    assert "HA formulary:" in lenalidomide
    assert "Special drug" in lenalidomide and "Self-financed item with safety net" in lenalidomide


def test_highlighted_text_is_escaped(client, editor, reviewer):
    strength = {"amount": "5", "appearance": "tablet marked <b>XQ</b> & \ue000 \ue001"}
    make_published("Oddmarkol", editor=editor, reviewer=reviewer, products=[product("Oddmarkol", strengths=[strength])])

    html = client.get(reverse("monographs:search"), {"q": "XQ"}).content.decode()

    assert "tablet marked &lt;b&gt;<mark>XQ</mark>&lt;/b&gt; &amp;" in html
    assert "<b>" not in html


def test_fragments_are_made_for_the_given_results_only(formulary, django_assert_max_num_queries):
    results = search.search("lenalidomide")
    page = results[:1]  # the editions of the page shown (read now, in one query)
    with django_assert_max_num_queries(1):
        fragments = search.match_fragments("lenalidomide", page)
    assert list(fragments) == [results[0].pk]


def test_only_the_page_shown_is_read(formulary, django_assert_num_queries):
    results = search.search("lenalidomide")
    assert len(results) == 2
    with django_assert_num_queries(1):
        assert [e.generic_name for e in results[:1]] == ["Lenalidomide"]
        assert results[0].generic_name == "Lenalidomide"  # already read
    with django_assert_num_queries(1):
        assert [e.generic_name for e in results[1:]] == ["Thalidomide"]


def test_atc_prefixes_are_codes_of_three_or_more_characters(db):
    assert search.atc_prefix("l04ax") == "L04AX"
    assert search.atc_prefix("L04AX04") == "L04AX04"
    assert search.atc_prefix("L") is None and search.atc_prefix("L0") is None
    assert search.atc_prefix("REV 10") is None and search.atc_prefix("L04AX04X") is None


def test_registration_numbers_and_box_text_are_indexed(formulary):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_registration, search_names @@ to_tsquery('simple', 'squibb & rev & l04ax:*'), "
            "search_name_text FROM monographs_edition WHERE generic_name = 'Lenalidomide'"
        )
        numbers, box_words_found, name_text = cursor.fetchone()
        assert "90104" in numbers and len(numbers) == 18
        assert box_words_found
        assert "來那度胺" in name_text
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM monographs_edition WHERE search_registration @> ARRAY['90104']")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "monographs_edition_search_registration" in plan


def test_why_and_the_formulary_status_are_in_chinese_too(client, formulary):
    with translation.override("zh-hant"):
        html = client.get(reverse("monographs:search"), {"q": "marked REV"}).content.decode()

    assert "相符的外觀及標記：" in html and "<mark>marked</mark> <mark>REV</mark>" in html
    assert "醫管局藥物名冊：" in html
    assert "藥名、商品名、別名、香港註冊編號、標記或 ATC 編碼" in html


# --- Chinese text and bounded candidates -----------------------------


def republish_with_chinese(entry, *, editor, reviewer, sections_zh=None, products_zh=None, **entry_fields):
    """Give live `entry` Chinese text as an editor does, in its working copy (entry fields;
    section `body_zh` by section kind; product `chinese_name` by product name), and publish it
    through the workflow: submitted by `editor`, approved by `reviewer`."""
    reason = "Chinese text"
    if entry_fields:
        services.entry_update(entry=entry, user=editor, reason=reason, **entry_fields)
    for kind, body_zh in (sections_zh or {}).items():
        services.section_update(section=entry.sections.get(kind=kind), user=editor, reason=reason, body_zh=body_zh)
    for name, chinese_name in (products_zh or {}).items():
        item = entry.products.get(name=name)
        services.product_upsert(
            entry=entry,
            name=name,
            certificate_holder=item.certificate_holder,
            user=editor,
            reason=reason,
            chinese_name=chinese_name,
        )
    return publish(entry, editor=editor, reviewer=reviewer)


@pytest.fixture
def bilingual(formulary, editor, reviewer):
    """Lenalidomide with Chinese section text (pregnancy) and a Chinese product name; Metformin
    with Chinese synonyms; Thalidomide with a Chinese boxed warning."""
    republish_with_chinese(
        formulary,
        editor=editor,
        reviewer=reviewer,
        sections_zh={"contraindications": "懷孕或可能懷孕的婦女不可服用。", "side_effects": "常見骨髓抑制。"},
        products_zh={"Revlimid": "瑞復美"},
    )
    metformin = Entry.objects.get(generic_name="Metformin")
    republish_with_chinese(metformin, editor=editor, reviewer=reviewer, chinese_synonyms="甲福明\n降糖藥")
    thalidomide = Entry.objects.get(generic_name="Thalidomide")
    republish_with_chinese(
        thalidomide,
        editor=editor,
        reviewer=reviewer,
        boxed_warning="Causes severe birth defects.",
        boxed_warning_zh="會導致嚴重出生缺陷。",
    )
    return formulary


def test_chinese_section_text_and_chinese_names_find_the_entry(client, bilingual):
    assert result_slugs(client, "懷孕") == ["lenalidomide"]  # only in its Chinese section text
    assert result_slugs(client, "來那度胺") == ["lenalidomide"]  # its Chinese name
    assert result_slugs(client, "瑞復美") == ["lenalidomide"]  # a product's Chinese name
    assert result_slugs(client, "復美") == ["lenalidomide"]
    assert result_slugs(client, "甲福明") == ["metformin"]  # a Chinese synonym
    assert result_slugs(client, "出生缺陷") == ["thalidomide"]  # the Chinese boxed warning
    assert result_slugs(client, "咖啡") == []  # a two-character control
    assert result_slugs(client, "懷孕 咖啡") == []  # every pair of characters must be there
    assert result_slugs(client, "懷孕婦女") == []  # not as written: 懷孕 and 婦女 are apart


def test_chinese_matches_are_highlighted(client, bilingual):
    html = client.get(reverse("monographs:search"), {"q": "懷孕"}).content.decode()
    assert "Matched in monograph text:" in html and "<mark>懷孕</mark>或可能<mark>懷孕</mark>" in html

    html = client.get(reverse("monographs:search"), {"q": "瑞復美"}).content.decode()
    assert "Matched in product:" in html and "<mark>瑞復美</mark>" in html


def test_chinese_names_rank_before_chinese_text(client, bilingual, editor, reviewer):
    # "骨髓" is in Lenalidomide's Chinese text and in the Chinese name of an entry made later.
    marrow = make_published("Marrowstim", editor=editor, reviewer=reviewer, chinese_name="骨髓刺激素")

    assert result_slugs(client, "骨髓") == ["marrowstim", "lenalidomide"]
    republish_with_chinese(marrow, editor=editor, reviewer=reviewer, chinese_synonyms="骨髓")
    assert result_slugs(client, "骨髓") == ["marrowstim", "lenalidomide"]


def test_one_chinese_character_looks_up_names_only(client, bilingual):
    # One character is in too many texts to mean anything there; names are short and specific.
    assert result_slugs(client, "度") == ["lenalidomide"]  # 來那度胺
    assert result_slugs(client, "福") == ["metformin"]  # 甲福明
    assert result_slugs(client, "孕") == []  # only in section text
    assert client.get(reverse("monographs:search"), {"q": "孕"}).status_code == 200


def test_the_chinese_index_holds_bigrams_of_names_and_text(bilingual):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_cjk_names::text, search_cjk_body::text FROM monographs_edition e "
            "JOIN monographs_entrystate s ON s.live_edition_id = e.id WHERE e.generic_name = 'Lenalidomide'"
        )
        names, body = cursor.fetchone()
    assert {"'來那'", "'那度'", "'度胺'", "'來'", "'瑞復'", "'復美'"} <= set(names.split())
    assert {"'懷孕'", "'骨髓'"} <= set(body.split()) and "'懷'" not in body.split()


def test_a_common_word_reads_a_bounded_number_of_candidates_names_first(client, monkeypatch, editor, reviewer):
    # Five monographs mention "hypertension" in their text; the one named after it is made last,
    # so it is the last an index finds. With room for two text candidates, it still comes first,
    # two text matches follow, and the page says more may match.
    for name in ["Atenolol", "Bisoprolol", "Carvedilol", "Doxazosin", "Enalapril"]:
        make_published(name, editor=editor, reviewer=reviewer, sections=[("uses", "", "Treats hypertension.")])
    make_published("Hypertensamab", editor=editor, reviewer=reviewer, synonyms="Hypertension")
    monkeypatch.setattr(search, "BODY_CANDIDATES", 2)

    found = search.search("hypertension")

    assert [e.generic_name for e in found][:1] == ["Hypertensamab"]
    assert len(found) == 3 and found.capped
    html = client.get(reverse("monographs:search"), {"q": "hypertension"}).content.decode()
    assert ENTRY_LINK.findall(html)[0] == "hypertensamab" and len(ENTRY_LINK.findall(html)) == 3
    assert "is found in very many entries" in html
    # A search that read every candidate says nothing of the kind.
    monkeypatch.setattr(search, "BODY_CANDIDATES", 200)
    assert not search.search("hypertension").capped
    assert (
        "is found in very many entries"
        not in client.get(reverse("monographs:search"), {"q": "hypertension"}).content.decode()
    )


def test_more_matches_than_results_says_so(client, formulary, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 1)

    found = search.search("lenalidomide")

    assert [e.generic_name for e in found] == ["Lenalidomide"] and found.capped


def test_text_matches_mark_the_words_of_the_same_stem(client, editor, reviewer):
    make_published(
        "Sunblockol",
        editor=editor,
        reviewer=reviewer,
        sections=[
            ("side_effects", "", "- Skin **reactions** in sunlight\n- Headache"),
            ("uses", "", "One study only."),
        ],
    )

    html = client.get(reverse("monographs:search"), {"q": "reaction"}).content.decode()
    assert "Matched in monograph text:" in html and "Skin <mark>reactions</mark> in sunlight" in html
    # "studies" and "study" share the stem "studi", which does not begin "study": PostgreSQL's
    # ts_headline marks it instead.
    html = client.get(reverse("monographs:search"), {"q": "studies"}).content.decode()
    assert "Matched in monograph text:" in html and "<mark>study</mark>" in html


def test_the_demo_translation_is_found_by_chinese_words(client, published_bilingual_lenalidomide):
    # The demo's own Traditional Chinese text (monographs/seeds/lenalidomide.zh-hant.txt), as published.
    assert result_slugs(client, "懷孕") == ["lenalidomide"]
    assert result_slugs(client, "骨髓") == ["lenalidomide"]
    assert result_slugs(client, "來那度胺") == ["lenalidomide"]
    assert result_slugs(client, "咖啡") == []


# --- A marking goes straight to its strength, like a registration number ----------------


@pytest.mark.parametrize(
    ("query", "number"),
    [
        ("REV 15", "HK-90104"),
        ("rev 2.5", "HK-90101"),
        ("REV  25", "HK-90106"),
        ("L 5", "HK-90202"),
        ("T 25", "HK-90306"),
    ],
)
def test_a_marking_goes_straight_to_its_strength(client, formulary, query, number):
    response = client.get(reverse("monographs:search"), {"q": query})

    assert response.status_code == 302
    assert response["Location"] == f"/en/entries/lenalidomide/#strength-{strength_id(formulary, number)}"


@pytest.mark.parametrize("query", ["REV", "REV 1", "REV 150", "capsule", "white", "L 2"])
def test_a_marking_of_several_strengths_or_none_or_a_word_gives_the_results(client, formulary, query):
    response = client.get(reverse("monographs:search"), {"q": query})

    assert response.status_code == 200


def test_a_marking_is_looked_up_in_live_editions_only(client, formulary, editor, reviewer):
    make_entry(
        "Pomalidomide",
        user=editor,
        products=[
            product("Imnovid", kind="brand", strengths=[{"amount": "4", "appearance": "capsule marked POM 4 mg"}])
        ],
    )

    response = client.get(reverse("monographs:search"), {"q": "POM 4"})

    assert response.status_code == 200 and "Pomalidomide" not in response.content.decode()
    assert search.marked_strength("POM 4") is None
