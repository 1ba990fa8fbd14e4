"""Search of the public formulary: live editions only, never drafts.

`search(query)` is the one entry point the view calls. It returns `Results`: at most
MAX_RESULTS editions, best match first, for the view to page through (only the page
shown is read from the database), and whether more may match.

Over stored columns that PostgreSQL computes from each edition's
columns and approved content when the edition is written (migrations 0007, 0013, 0015),
each kind of match (`_tiers`) is one GIN-index look-up that reads at most a fixed
number of candidates, and only those are scored (a word in thousands of
monographs costs no more than one in two hundred):

* full text of the names, weighted: A = generic name, Chinese name, synonyms and
  brand names, B = drug class, ATC code and every product name, C = certificate
  holders and the strengths' appearance/marking ('simple' config, no stemming); an
  ATC code or a prefix of one (`L04`, `L04AX`) is also looked up as a prefix;
* the exact generic name (a b-tree look-up), so it is never lost to a limit;
* trigram word similarity (pg_trgm) to the generic name, synonyms and brands, so
  "lenalidamide" or "revlimd" still finds lenalidomide, and a substring of any name;
* full text of the section bodies (English stemming), scored below every name;
* Chinese: overlapping two-character pieces of the query against those
  of the Chinese names and of the Chinese and English section text (`cjk_grams`),
  since the text-search parser does not split Chinese into words.

A query that is an HK registration number (`HK-90104`, `hk90104`, `90104`) of a
strength in a live edition finds that edition (an index look-up of the stored
column `search_registration`, migration 0013); `registered_strength` gives the one
strength, for the page to go straight to it. A number held only by drafts or
withdrawn entries is searched as ordinary text (and finds nothing). `match_fragments` says why
each result of the page on show matched: a highlighted piece of a name, synonym,
brand, marking, holder or code, else of the section text (`ts_headline`).
"""

import re
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Greatest, Lower, StrIndex, Substr
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext_lazy

from . import selectors
from .models import ATC_PATTERN, Edition, registration_number_in
from .snapshots import synonym_list
from .text_rules import strip_controls

MAX_QUERY_LENGTH = 200
# Results kept for paging: far more than anyone reads at a counter. When a query matches
# more (say "tablet", or a word in the text of 1,000+ monographs), the page says it shows
# the best MAX_RESULTS and asks for a narrower search (`Results.capped`).
MAX_RESULTS = 200
# Candidates each kind of match reads from its index, in index order, before any ranking:
# what bounds the cost of a word found in thousands of editions. Names are few per query
# and cheap to rank (ts_rank of a ~1 kB stored vector); similar names cost a trigram
# word_similarity each (~25 µs); section text is ranked on its larger stored vector. A
# word in more editions than this is ranked among the first BODY_CANDIDATES only.
NAME_CANDIDATES = 1000
FUZZY_CANDIDATES = 100
BODY_CANDIDATES = MAX_RESULTS
# word_similarity of the query to the best-matching part of a name; 0.4 lets one
# or two wrong letters in a drug name through and keeps unrelated names out.
TRIGRAM_THRESHOLD = 0.4
# Scores (see _tiers): an exact name above every other match, section text below every name
# (a misspelt name scores at least TRIGRAM_THRESHOLD; a text match at most BODY_WEIGHT).
EXACT_NAME_SCORE = 3.0
# A piece of a longer name, product name, holder or marking ("glucophag", "REV 10").
SUBSTRING_SCORE = 0.5
BODY_WEIGHT = 0.1
# Runs of CJK ideographs: Extension A, the URO, Compatibility Ideographs and Extensions B–G
# (Hong Kong names use HKSCS characters of Extension B). Migration 0015 indexes the same
# ranges; change both together.
CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


class Results:
    """The ranked editions, best first, at most MAX_RESULTS, for the view or the API to page
    through. Only the ids are ranked; a slice (the page shown) reads its own editions'
    listing columns, in one query, when asked. `pks`: the ids in rank order; `capped`: more
    may match than were ranked (the page asks for a narrower search).

    A sequence for Paginator (len and slices), deliberately without `count`: callers that
    also take querysets tell the two apart by it."""

    def __init__(self, pks=(), *, capped=False, editions=None):
        self.pks = list(pks)
        self.capped = capped
        self._editions = dict(editions or {})

    def __len__(self):
        return len(self.pks)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            found = self[index : (index + 1) or None]
            if not found:
                raise IndexError(index)
            return found[0]
        pks = self.pks[index]
        missing = [pk for pk in pks if pk not in self._editions]
        if missing:
            editions = selectors.with_product_statuses(selectors.live_editions().order_by().defer("content"))
            self._editions.update(editions.in_bulk(missing))
        # An edition withdrawn since the ranking is left out.
        return [self._editions[pk] for pk in pks if pk in self._editions]

    def __iter__(self):
        return iter(self[:])

    def __eq__(self, other):
        return isinstance(other, (Results, list, tuple)) and list(self) == list(other)

    __hash__ = None


def cjk_grams(query, *, characters=False):
    """The Chinese of `query` as the lexemes of the Chinese index (migration 0015): the
    overlapping two-character pieces of each run of two or more ideographs (`來那度胺` →
    來那, 那度, 度胺); with `characters`, a lone ideograph as itself (names only: a single
    character is in too many texts to be worth a look-up there)."""
    grams = []
    for run in CJK_RUN.findall(query):
        if len(run) >= 2:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif characters:
            grams.append(run)
    return list(dict.fromkeys(grams))


def clean_query(raw):
    """The query as searched: NFKC-normalised, control characters (NUL too) removed, spaces collapsed, capped."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def atc_prefix(query):
    """The query as an ATC code or the start of one, at least 3 characters (`L04`, `L04AX`,
    `L04AX04`), in capitals; else None. A shorter one would match a whole anatomical group."""
    code = query.upper()
    return code if len(code) >= 3 and re.fullmatch(ATC_PATTERN, code) else None


def search(raw_query):
    query = clean_query(raw_query)
    if not query:
        return Results()
    # A registration number from the box: the live editions that hold it, and nothing else
    # (a number anywhere else in the formulary is not what was meant).
    registered = {}
    for edition, _product, _strength in selectors.live_strengths_registered_as(query):
        registered.setdefault(edition.pk, edition)
    if registered:
        return Results(registered, editions=registered)
    return _postgres_search(query)


def registered_strength(raw_query):
    """(edition, product, strength) when the query is the HK registration number of exactly one
    strength in a live edition (`HK-90104`, `hk90104`, `hk 90104`, `90104`); else None."""
    strengths = selectors.live_strengths_registered_as(clean_query(raw_query))
    return strengths[0] if len(strengths) == 1 else None


# A marking as printed on a capsule or tablet: letters and digits, a few short words ("REV 15",
# "L 5", "T 25"); anything longer is searched as text.
MARKING_MAX_LENGTH = 30
MARKING_CANDIDATES = 20


def _marking_pattern(query):
    """The query's words, in order, as whole words of a marking text ("REV 15" is in "marked
    REV 15 mg", not in "REV 150" or "REV 1.5")."""
    words = [re.escape(word) for word in query.split()]
    return re.compile(r"(?<![\w.])" + r"[\s'\"]+".join(words) + r"(?![\w]|\.\d)", re.IGNORECASE)


def marked_strength(raw_query):
    """(edition, product, strength) when the query is a marking ("REV 15") found in the appearance
    text of exactly one strength of a live edition; else None. Like a registration number, the
    search then goes straight to that strength. Only a short query with both a letter and a digit
    counts as a marking, so a word ("white") never jumps past the results."""
    query = clean_query(raw_query)
    if not (
        len(query) <= MARKING_MAX_LENGTH
        and re.search(r"[^\W\d_]", query)
        and re.search(r"\d", query)
        and connection.vendor == "postgresql"
    ):
        return None
    pattern = _marking_pattern(query)
    # Candidates from the names document's index (markings are its C weight), then each
    # strength's own text is checked, so a match across two strengths' texts does not count.
    candidates = (
        selectors.live_editions()
        .filter(Matches(names_document(), SearchQuery(query, config="simple", search_type="phrase")))
        .order_by()[:MARKING_CANDIDATES]
    )
    found = [
        (edition, product, strength)
        for edition in candidates
        for product in edition.content.get("products", [])
        for strength in product.get("strengths", [])
        if pattern.search(strength.get("appearance") or "")
    ]
    return found[0] if len(found) == 1 else None


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


class ChineseText(Func):
    """The Chinese boxed warning and every section's headings and bodies in both languages,
    as one text (migration 0015's function; for the fragments of the page shown)."""

    function = "monographs_edition_cjk_body_text"
    output_field = TextField()


class ILike(Func):
    """`text ILIKE 'query'` (or `'%query%'` with `contains`) with the query's wildcards
    escaped; unlike Django's iexact/icontains (UPPER(...) LIKE UPPER(...)) this form can use
    a trigram index."""

    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def __init__(self, expression, text, *, contains=False):
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        super().__init__(expression, Value(f"%{pattern}%" if contains else pattern))


class WordSimilar(Func):
    """`query <% text`: word similarity above pg_trgm.word_similarity_threshold, trigram-indexed."""

    arg_joiner = " <%% "  # %% is a literal % for the database driver
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _substring_worthwhile(query):
    """Trigram and substring matching need, for Latin text, three characters: the least a
    trigram index can look up; anything shorter would read every row. Chinese has its own
    index (`cjk_grams`), so a query of Chinese characters alone is not matched by trigrams."""
    if not CJK_RUN.sub("", query).strip():
        return False
    return len(query) >= 3 or not query.isascii()


def _ts_query(query):
    """The query in both text-search configurations (and as an ATC prefix, when it is one)."""
    ts_query = SearchQuery(query, search_type="websearch", config="simple") | SearchQuery(
        query, search_type="websearch", config="english"
    )
    code = atc_prefix(query)
    if code:
        # Letters and digits only (atc_prefix), so the raw tsquery is exactly `l04ax:*`.
        ts_query |= SearchQuery(f"{code.lower()}:*", search_type="raw", config="simple")
    return ts_query


class Matches(Func):
    """`document @@ query` for a stored tsvector column and a tsquery (GIN-indexed)."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class Rank(Func):
    function = "ts_rank"
    output_field = FloatField()


def _cjk_tsquery(grams):
    # The lexemes are CJK characters only (CJK_RUN), so they need no quoting beyond the quotes;
    # a cast, not to_tsquery, so no parser or dictionary changes them.
    return RawSQL("%s::tsquery", [" & ".join(f"'{gram}'" for gram in grams)])


class Tier(NamedTuple):
    """One kind of match: a condition one GIN index answers, a score cheap enough to compute
    for each of at most `limit` candidates, read in index order or, when `ordered`, best
    first; `may_cap`: reaching the limit means the page may not show every match."""

    name: str
    condition: object
    score: object
    limit: int
    ordered: bool = False
    may_cap: bool = True


def _tiers(query):
    """The kinds of match (`Tier`) for this query.

    Every condition is answered by one GIN index; every score is cheap to compute for the
    at most `limit` candidates the tier reads (in index order). Scores put the names first:
    an exact generic or Chinese name 3; a word of the names 1 + its ts_rank (A-weight words
    above B and C); a misspelt or partial name its trigram word similarity (0.4 to 1);
    Chinese names 1 + rank; section text at most BODY_WEIGHT (0.1), by its ts_rank."""
    ts_query = _ts_query(query)
    tiers = [
        Tier(
            "names",
            Matches(names_document(), ts_query),
            Value(1.0) + Rank(names_document(), ts_query),
            NAME_CANDIDATES,
        ),
        Tier(
            "text",
            Matches(body_document(), ts_query),
            Value(BODY_WEIGHT) * Rank(body_document(), ts_query),
            BODY_CANDIDATES,
        ),
    ]
    if _substring_worthwhile(query):
        fuzzy_names = _stored("search_fuzzy_names", TextField())
        name_text = names_text()
        tiers += [
            Tier(
                "exact name",
                Q(generic_name_lower=query.lower()),
                Value(EXACT_NAME_SCORE),
                NAME_CANDIDATES,
            ),
            Tier(
                # Misspelt names by trigrams against the short names text (a trigram index
                # is lossy: each candidate is rechecked, at a cost that grows with the text);
                # a piece of any name, product, holder or marking by substring.
                "similar names",
                WordSimilar(Value(query), fuzzy_names) | ILike(name_text, query, contains=True),
                Greatest(
                    TrigramWordSimilarity(query, fuzzy_names),
                    Case(When(ILike(name_text, query, contains=True), then=Value(SUBSTRING_SCORE)), default=0.0),
                ),
                FUZZY_CANDIDATES,
                # The best similar names, not the first found: the recheck of a lossy trigram
                # index computes the similarity of every candidate anyway, and with an order
                # PostgreSQL cannot choose to walk the table until it has found `limit`.
                ordered=True,
                may_cap=False,
            ),
        ]
    name_grams = cjk_grams(query, characters=True)
    if name_grams:
        cjk_names = _stored("search_cjk_names", SearchVectorField())
        tiers.append(
            Tier(
                "Chinese names",
                Matches(cjk_names, _cjk_tsquery(name_grams)),
                Case(
                    When(chinese_name=query, then=Value(EXACT_NAME_SCORE)),
                    default=Value(1.0) + Rank(cjk_names, _cjk_tsquery(name_grams)),
                    output_field=FloatField(),
                ),
                NAME_CANDIDATES,
            )
        )
    body_grams = cjk_grams(query)
    if body_grams:
        cjk_body = _stored("search_cjk_body", SearchVectorField())
        tiers.append(
            Tier(
                "Chinese text",
                Matches(cjk_body, _cjk_tsquery(body_grams)),
                Value(BODY_WEIGHT) * Rank(cjk_body, _cjk_tsquery(body_grams)),
                BODY_CANDIDATES,
            )
        )
    return tiers


def _postgres_search(query):
    if not any(ch.isalnum() for ch in query):
        return Results()  # only punctuation or symbols: no word, name or trigram to look up
    tiers = _tiers(query)
    if any(tier.name == "similar names" for tier in tiers):
        with connection.cursor() as cursor:
            # Session setting read by the <% operator; the same value on every search.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TRIGRAM_THRESHOLD)]
            )
    # One statement: each tier is its own subquery answered by its index and stopped at its
    # limit (a word in thousands of monographs reads `limit` of them, not all); only those
    # candidates are scored. One OR of every condition would make PostgreSQL check every
    # candidate against every branch and rank them all.
    parts = [
        selectors.live_editions()
        .alias(generic_name_lower=Lower("generic_name"))
        .filter(tier.condition)
        .annotate(tier=Value(number), score=tier.score)
        .order_by(*(["-score"] if tier.ordered else []))
        .values_list("pk", "generic_name", "tier", "score")[: tier.limit]
        for number, tier in enumerate(tiers)
    ]
    rows = list(parts[0].union(*parts[1:], all=True))
    per_tier = Counter(tier for _pk, _name, tier, _score in rows)
    best = {}
    for pk, name, _tier, score in rows:
        if pk not in best or score > best[pk][0]:
            best[pk] = (score, name.casefold())
    ranked = sorted(best, key=lambda pk: (-best[pk][0], best[pk][1], pk))
    capped = len(ranked) > MAX_RESULTS or any(
        tier.may_cap and per_tier[number] >= tier.limit for number, tier in enumerate(tiers)
    )
    return Results(ranked[:MAX_RESULTS], capped=capped)


# --- Why each result matched -------------------------------------------------------


class Fragment(NamedTuple):
    """Where a result matched (a code of WHERE_LABELS) and the matching text, HTML with <mark>s."""

    where: str
    html: str

    @property
    def where_label(self):
        return WHERE_LABELS[self.where]


# Where a result matched: a code used while matching, and its label for the page.
NAME, CHINESE_NAME, SYNONYM, PRODUCT, DRUG_CLASS = "name", "chinese_name", "synonym", "product", "drug_class"
ATC_CODE, HOLDER, APPEARANCE, REGISTRATION = "atc_code", "holder", "appearance", "registration_number"
MONOGRAPH_TEXT = "monograph_text"
WHERE_LABELS = {
    NAME: pgettext_lazy("search match", "name"),
    CHINESE_NAME: pgettext_lazy("search match", "Chinese name"),
    SYNONYM: pgettext_lazy("search match", "synonym"),
    PRODUCT: pgettext_lazy("search match", "product"),
    DRUG_CLASS: pgettext_lazy("search match", "drug class"),
    ATC_CODE: pgettext_lazy("search match", "ATC code"),
    HOLDER: pgettext_lazy("search match", "certificate holder"),
    APPEARANCE: pgettext_lazy("search match", "appearance and marking"),
    REGISTRATION: pgettext_lazy("search match", "HK registration number"),
    MONOGRAPH_TEXT: pgettext_lazy("search match", "monograph text"),
}

# Private-use characters mark the matches until the text is escaped, so nothing in the
# text itself can open or close a tag.
_START, _STOP = "\ue000", "\ue001"
_FRAGMENT_WORDS = 16
# Around a match in section text that full text search does not split into words (Chinese).
_CONTEXT_CHARS = 40
_FUZZY_RATIO = 0.7
_MARKDOWN_MARKS = re.compile(r"[*_#`>]+|^\s*[-+]\s+", re.MULTILINE)


def _box_facts(content):
    """(where, text) of what is printed on or about the pack: holders, markings, numbers."""
    seen = set()
    for product in content.get("products", []):
        for where, text in [(HOLDER, product.get("certificate_holder"))] + [
            item
            for strength in product.get("strengths", [])
            for item in ((APPEARANCE, strength.get("appearance")), (REGISTRATION, strength.get("registration_number")))
        ]:
            if text and text not in seen:
                seen.add(text)
                yield where, text


def _facts(edition, *, synonyms, chinese_synonyms, products, atc_code):
    """(where, text) of an edition's names and codes, most telling first."""
    yield NAME, edition.generic_name
    yield CHINESE_NAME, edition.chinese_name
    for synonym in synonym_list({"synonyms": synonyms}) + synonym_list({"synonyms": chinese_synonyms}):
        yield SYNONYM, synonym
    for product in products:
        yield PRODUCT, product.get("name")
        yield PRODUCT, product.get("chinese_name")
    yield DRUG_CLASS, edition.drug_class
    yield ATC_CODE, atc_code
    yield from _box_facts({"products": products})


def _term_pattern(term):
    # Latin words match at the start of a word (a prefix from 3 letters: `L04AX` in `L04AX04`);
    # other scripts anywhere, since Chinese is not written in separate words.
    if not term.isascii():
        return re.escape(term)
    return r"(?<!\w)" + re.escape(term) + (r"" if len(term) >= 3 else r"(?!\w)")


class _Terms:
    """The words of a query (lower-case, each once), compiled once for all the results."""

    def __init__(self, query):
        self.words = list(dict.fromkeys(re.findall(r"\w+", query.casefold())))
        self._each = [re.compile(_term_pattern(word), re.IGNORECASE) for word in self.words]
        longest_first = sorted(self.words, key=len, reverse=True)
        self._any = re.compile("|".join(_term_pattern(word) for word in longest_first) or "(?!)", re.IGNORECASE)
        # SequenceMatcher caches what it knows about its second sequence: one per query word.
        self._similar = [SequenceMatcher(None, b=word) for word in self.words if len(word) >= 4]

    def mark(self, text):
        """`text` with every occurrence of the words between the private markers, and how
        many different words occur."""
        text = text.replace(_START, "").replace(_STOP, "")
        if not self._any.search(text):
            return text, 0  # most names and box texts of a result: one look, not one per word
        count = sum(1 for pattern in self._each if pattern.search(text))
        if not count:
            return text, 0
        return self._any.sub(lambda m: _START + m.group(0) + _STOP, text), count

    def mark_similar_word(self, text):
        """`text` with its word most like a query word marked (a misspelt name), or None."""
        best_ratio, best = _FUZZY_RATIO, None
        for match in re.finditer(r"\w+", text):
            for matcher in self._similar:
                matcher.set_seq1(match.group(0).casefold())
                if (
                    matcher.real_quick_ratio() >= best_ratio
                    and matcher.quick_ratio() >= best_ratio
                    and matcher.ratio() >= best_ratio
                ):
                    best_ratio, best = matcher.ratio(), match
        if best is None:
            return None
        return text[: best.start()] + _START + best.group(0) + _STOP + text[best.end() :]


def _as_html(marked):
    """Escaped text with <mark> for each marked stretch (always balanced)."""
    parts, open_mark = [], False
    for piece in re.split(f"([{_START}{_STOP}])", marked):
        if piece == _START and not open_mark:
            parts.append("<mark>")
            open_mark = True
        elif piece == _STOP and open_mark:
            parts.append("</mark>")
            open_mark = False
        elif piece not in (_START, _STOP):
            parts.append(escape(piece))
    if open_mark:
        parts.append("</mark>")
    # Every piece of text was escaped above; only our own <mark> tags are added.
    marked = "".join(parts)
    return mark_safe(marked)  # nosec B308 B703


def _plain_section_text(text):
    return " ".join(_MARKDOWN_MARKS.sub(" ", text).split())


def match_fragments(raw_query, editions):
    """{edition id: Fragment} saying why each of `editions` (the results on the page shown,
    not all of them) matched the query: the name, synonym, product, code, holder or marking
    holding the most query words, else a highlighted piece of the section text, else the
    name most like a misspelt word. An edition with no such text has no entry."""
    query = clean_query(raw_query)
    terms = _Terms(query)
    editions = list(editions)
    if not terms.words or not editions:
        return {}
    sources = _postgres_fragment_sources(query, editions)
    fragments = {}
    for edition in editions:
        source = sources.get(edition.pk)
        if source is None:
            continue
        fragment = _why(edition, terms, number=registration_number_in(query), **source)
        if fragment is not None:
            fragments[edition.pk] = fragment
    return fragments


def _why(edition, terms, *, number, synonyms, chinese_synonyms, products, atc_code, headline, body_piece):
    facts = _facts(edition, synonyms=synonyms, chinese_synonyms=chinese_synonyms, products=products, atc_code=atc_code)
    # Read from the database as values, not through Edition.from_db: cleaned here (`text_rules`),
    # each text as it is used: cleaning every product's whole JSON, strengths and all, was a
    # third of the time of this function.
    facts = [(where, strip_controls(text)) for where, text in facts if text]
    headline, body_piece = strip_controls(headline), strip_controls(body_piece)
    if number and (REGISTRATION, number) in facts:
        return Fragment(REGISTRATION, _as_html(_START + number + _STOP))
    best = (0, None, None)
    for where, text in facts:
        marked, count = terms.mark(text)
        if count > best[0]:
            best = (count, where, marked)
    count, where, marked = best
    if count == len(terms.words):
        return Fragment(where, _as_html(marked))
    if headline and _START in headline:
        return Fragment(MONOGRAPH_TEXT, _as_html(_plain_section_text(headline)))
    if body_piece:
        body_marked, body_count = terms.mark(_plain_section_text(body_piece))
        if body_count:
            return Fragment(MONOGRAPH_TEXT, _as_html(body_marked))
    if count:
        return Fragment(where, _as_html(marked))
    for where, text in facts:
        if where in (NAME, SYNONYM, PRODUCT):
            similar = terms.mark_similar_word(text)
            if similar:
                return Fragment(where, _as_html(similar))
    return None


def _postgres_fragment_sources(query, editions):
    """One query for the page: names and codes from each edition's content, and, where the
    section text (and not the names) matched, that text and the query's English lexemes,
    which are marked in Python (`_stemmed_piece`). Only a text in which no word starts with
    a lexeme (a stem that is not a prefix of its word, `happi`) gets a `ts_headline`, in a
    second query: at ~0.5 ms a monograph, headlines for a page of 50 results matched in
    their text were most of the page's time."""
    ts_query = _ts_query(query)
    text_only = Q(body_doc=ts_query) & ~Q(names_doc=ts_query)
    rows = (
        Edition.objects.filter(pk__in=[e.pk for e in editions])
        .order_by()
        .alias(names_doc=names_document(), body_doc=body_document())
        .annotate(
            synonyms=KeyTextTransform("synonyms", "content"),
            chinese_synonyms=KeyTextTransform("chinese_synonyms", "content"),
            products=KeyTransform("products", "content"),
            atc_code=KeyTextTransform("atc_code", "content"),
            body=Case(When(text_only, then=BodyText("content")), default=Value(None, output_field=TextField())),
            # Fixed SQL; the query is a bound parameter.
            stems=RawSQL(
                "pg_catalog.tsvector_to_array(pg_catalog.to_tsvector('pg_catalog.english'::regconfig, %s))",
                [query],
                output_field=ArrayField(TextField()),
            ),
        )
    )
    fields = ["pk", "synonyms", "chinese_synonyms", "products", "atc_code", "body", "stems"]
    runs = [run for run in CJK_RUN.findall(query) if len(run) >= 2]
    if runs:
        # Chinese in section text, either language: a piece around the first occurrence of the
        # query's longest Chinese run (the text-search parser does not split Chinese into
        # words, so ts_headline cannot mark it).
        run = max(runs, key=len)
        rows = rows.annotate(position=StrIndex(ChineseText("content"), Value(run))).annotate(
            body_piece=Case(
                When(
                    Q(position__gt=0),
                    then=Substr(
                        ChineseText("content"),
                        Greatest(F("position") - _CONTEXT_CHARS, Value(1)),
                        len(run) + 2 * _CONTEXT_CHARS,
                    ),
                ),
                default=Value(None),
                output_field=TextField(),
            )
        )
        fields.append("body_piece")
    sources = {}
    for row in rows.values(*fields):
        sources[row.pop("pk")] = {
            "synonyms": row["synonyms"] or "",
            "chinese_synonyms": row["chinese_synonyms"] or "",
            "products": row["products"] or [],
            "atc_code": row["atc_code"] or "",
            "headline": _stemmed_piece(row["body"], row["stems"]) if row["body"] else None,
            "body": row["body"] is not None,
            "body_piece": row.get("body_piece"),
        }
    unmarked = [pk for pk, source in sources.items() if source.pop("body") and source["headline"] is None]
    if unmarked:
        headlines = (
            Edition.objects.filter(pk__in=unmarked)
            .order_by()
            .alias(names_doc=names_document(), body_doc=body_document())
            .filter(text_only)
            .annotate(
                headline=SearchHeadline(
                    BodyText("content"),
                    ts_query,
                    config="english",
                    start_sel=_START,
                    stop_sel=_STOP,
                    max_fragments=2,
                    min_words=5,
                    max_words=_FRAGMENT_WORDS,
                    fragment_delimiter=" … ",
                )
            )
            .values_list("pk", "headline")
        )
        for pk, headline in headlines:
            sources[pk]["headline"] = headline
    return sources


def _stemmed_piece(text, stems):
    """About _FRAGMENT_WORDS words of `text` (as plain text) from shortly before the first
    word that starts with one of `stems` (the query's English lexemes, as PostgreSQL's
    stemmer made them: `photosensit`, `pregnanc`), every such word marked; None if none does."""
    stems = sorted({stem for stem in stems or [] if stem}, key=len, reverse=True)
    if not stems:
        return None
    # A stem of one or two characters ("b12" → "b12", "iv") must be the whole word.
    pattern = re.compile(
        "|".join(r"(?<!\w)" + re.escape(stem) + (r"\w*" if len(stem) >= 3 else r"(?!\w)") for stem in stems),
        re.IGNORECASE,
    )
    found = pattern.search(text)
    if found is None:
        return None
    # Only a window around the first match is cleaned and split (a monograph is ~10,000
    # characters); the window's first word may be cut, so it is dropped.
    window_start, window_end = max(found.start() - 200, 0), found.start() + 400
    words = _plain_section_text(text[window_start:window_end].replace(_START, "").replace(_STOP, "")).split()
    words = words[1:] if window_start else words
    first = next((i for i, word in enumerate(words) if pattern.search(word)), 0)
    start = max(first - _FRAGMENT_WORDS // 3, 0)
    marked = pattern.sub(lambda m: _START + m.group(0) + _STOP, " ".join(words[start : start + _FRAGMENT_WORDS]))
    more_after = start + _FRAGMENT_WORDS < len(words) or window_end < len(text)
    return ("… " if window_start or start else "") + marked + (" …" if more_after else "")
