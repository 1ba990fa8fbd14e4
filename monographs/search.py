"""Search of the public formulary: live editions only, never drafts.

`search(query)` is the one entry point the view calls. It returns a list of at
most MAX_RESULTS editions, best match first, for the view to page through.

On PostgreSQL, over each live edition's columns and approved content
(Edition.content), through the indexed SQL functions of migration 0005:

* full-text search weighted so names outrank body text: A = generic name,
  synonyms and brand names, B = drug class and every product name ('simple'
  config, no stemming); section bodies are searched with English stemming and
  a match there adds BODY_MATCH_SCORE;
* trigram word similarity (pg_trgm) of the query to the names, so
  "lenalidamide" or "revlimd" still finds lenalidomide;
* a case-insensitive substring match on the names (and, for non-Latin
  queries, on section text), which catches Chinese that the text-search parser
  does not split into words.

Candidates come from GIN indexes in one subquery; only they are ranked.
Elsewhere (SQLite in development) a simple Python scan does the same job with
difflib for misspellings.
"""

import unicodedata
from difflib import SequenceMatcher
from functools import reduce
from operator import or_

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import BooleanField, Case, F, Func, Q, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from . import selectors
from .models import Edition
from .snapshots import brand_names, synonym_list

MAX_QUERY_LENGTH = 200
# Results kept for paging: far more than anyone reads at a counter, and it keeps a
# query that matches half the formulary (say "tablet") to one ranked query.
MAX_RESULTS = 200
# word_similarity of the query to the best-matching part of a name; 0.4 lets one
# or two wrong letters in a drug name through and keeps unrelated names out.
TRIGRAM_THRESHOLD = 0.4
FALLBACK_RATIO = 0.75
# Added to the score of an edition whose section text matches; a name match ranks higher
# (ts_rank of an A-weight hit is about 0.6, a B-weight one about 0.24).
BODY_MATCH_SCORE = 0.1


def clean_query(raw):
    """The query as searched: NFKC-normalised, control characters (NUL too) removed, spaces collapsed, capped."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def search(raw_query):
    query = clean_query(raw_query)
    if not query:
        return []
    if connection.vendor == "postgresql":
        return _postgres_search(query)
    return _python_search(query)


# --- PostgreSQL ---------------------------------------------------------------
# Migration 0007 stores the names document, the names text and the body document
# as generated columns with GIN indexes (computed once, when an edition is
# written), so candidates come from indexes and ranking reads stored values.
# The columns are not model fields; they are named unqualified so the same
# expression works in the outer query and in the subqueries (aliased U0).


def _stored(column, output_field):
    # Fixed column names, never user input.
    return RawSQL(column, [], output_field=output_field)  # nosec B611


def names_document():
    """Weighted tsvector: A = generic name, synonyms, brand names; B = drug class, product names."""
    return _stored("search_names", SearchVectorField())


def names_text():
    """Generic name, synonyms, drug class and product names as one text (trigram-indexed)."""
    return _stored("search_name_text", TextField())


def body_document():
    """English tsvector of all section bodies."""
    return _stored("search_body", SearchVectorField())


class BodyText(Func):
    """All section bodies as one text (trigram-indexed)."""

    function = "monographs_edition_body_text"
    output_field = TextField()


class ILikeContains(Func):
    """`text ILIKE '%query%'` with the query's wildcards escaped; unlike Django's icontains
    (UPPER(...) LIKE UPPER(...)) this form can use a trigram index."""

    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def __init__(self, expression, text):
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        super().__init__(expression, Value(pattern))


class WordSimilar(Func):
    """`query <% text`: word similarity above pg_trgm.word_similarity_threshold, trigram-indexed."""

    arg_joiner = " <%% "  # %% is a literal % for the database driver
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _substring_worthwhile(query):
    """Trigram and substring matching need, for Latin text, three characters: the least a
    trigram index can look up; anything shorter would read every row."""
    return len(query) >= 3 or not query.isascii()


def _postgres_search(query):
    if not any(ch.isalnum() for ch in query):
        return []  # only punctuation or symbols: no word, name or trigram to look up
    with connection.cursor() as cursor:
        # Session setting read by the <% operator; the same value on every search.
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TRIGRAM_THRESHOLD)])
    ts_query = SearchQuery(query, search_type="websearch", config="simple") | SearchQuery(
        query, search_type="websearch", config="english"
    )
    # Each kind of match is its own subquery on the editions table, answered by its index;
    # one OR of them all would make PostgreSQL re-check every candidate against every branch.
    names_fts = Edition.objects.alias(document=names_document()).filter(document=ts_query)
    body_fts = Edition.objects.alias(document=body_document()).filter(document=ts_query)
    name_hits = [names_fts]
    body_hits = [body_fts]
    if _substring_worthwhile(query):
        name_text = names_text()
        name_hits.append(Edition.objects.filter(WordSimilar(Value(query), name_text) | ILikeContains(name_text, query)))
        if not query.isascii():
            # Chinese and other scripts that the text-search parser does not split into words.
            body_hits.append(Edition.objects.filter(ILikeContains(BodyText("content"), query)))
    in_body = reduce(or_, (Q(pk__in=hits.values("pk")) for hits in body_hits))
    matches = reduce(or_, (Q(pk__in=hits.values("pk")) for hits in name_hits), in_body)
    ranked = (
        selectors.live_editions()
        .defer("content")
        .filter(matches)
        .annotate(
            similarity=TrigramWordSimilarity(query, names_text()),
            score=SearchRank(names_document(), ts_query)
            + F("similarity")
            + Case(When(in_body, then=Value(BODY_MATCH_SCORE)), default=Value(0.0)),
        )
        .order_by("-score", Lower("generic_name"), "pk")
    )
    # One query for the best results; the view pages through this list.
    return list(ranked[:MAX_RESULTS])


# --- Other databases -------------------------------------------------------------


def _python_search(query):
    needle = query.casefold()
    words = needle.split()
    scored = []
    for edition in selectors.live_editions():
        content = edition.content
        names = [edition.generic_name, *synonym_list(content), *brand_names(content)]
        names = [n.casefold() for n in names]
        others = [p["name"].casefold() for p in content.get("products", [])] + [edition.drug_class.casefold()]
        body = " ".join(s.get("body", "") for s in content.get("sections", [])).casefold()
        if any(needle in n for n in names):
            score = 3.0
        elif any(needle in o for o in others):
            score = 2.0
        elif needle in body or (words and all(w in body for w in words)):
            score = 1.0
        else:
            candidates = names + [w for n in names for w in n.split()]
            best = max((SequenceMatcher(None, needle, c).ratio() for c in candidates), default=0)
            score = best if best >= FALLBACK_RATIO else 0
        if score:
            scored.append((-score, edition.generic_name.casefold(), edition.pk, edition))
    scored.sort(key=lambda row: row[:3])
    return [row[3] for row in scored[:MAX_RESULTS]]
