"""Search: names, brands, synonyms and body text of live editions, typo-tolerant, and
robust against any input. Runs on PostgreSQL (full text + trigram) and, with the
simpler fallback, on SQLite."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from monographs import search, workflow, working_copy

from .factories import make_published, product

ENTRY_LINK = re.compile(r'<a class="entry-name" href="/entries/([^/]+)/">')


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

    assert 'href="/entries/lenalidomide/"' in html
    assert "Revlimid" in html
    assert "1 result" in html or "results" in html


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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL search indexes")
def test_postgresql_search_uses_its_indexes(formulary):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'monographs_edition'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "monographs_edition_search_names",
        "monographs_edition_search_name_text",
        "monographs_edition_search_body",
        "monographs_edition_body_trgm",
        "monographs_edition_name_trgm",
    } <= names
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM monographs_edition WHERE search_names @@ websearch_to_tsquery('simple', 'revlimid')"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "monographs_edition_search_names" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL search columns")
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
