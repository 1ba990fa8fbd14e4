r"""An index for Chinese text on PostgreSQL (nothing happens on other databases, which search
in Python).

PostgreSQL's text-search parser does not split Chinese into words (`來那度胺用於` is one
"word"), and a trigram index cannot look up a two-character query (`懷孕` has no trigram
that a match must contain). So each edition keeps the overlapping two-character pieces
(bigrams) of its Chinese text as a `tsvector` whose lexemes are the pieces themselves:
`來那度胺` → `來那 那度 度胺`. A query of two or more Chinese characters becomes the AND of
its bigrams (`來那度胺` → `來那 & 那度 & 度胺`) and is one GIN index look-up.

* `monographs_cjk_grams(text, with_characters)`: the distinct bigrams of every run of CJK
  ideographs in the text (and, with `with_characters`, each single character too) as a
  tsvector built by `array_to_tsvector`, so no parser or dictionary touches them;
* `search_cjk_names`: bigrams and single characters of the names: generic name, Chinese
  name, synonyms and Chinese synonyms, every product's name and Chinese name (single
  characters so that a one-character query can look up names, which are short);
* `search_cjk_body`: bigrams of the text: the Chinese boxed warning, each section's
  heading and body and their Chinese versions (English bodies may quote Chinese).

Missing keys (editions published before the Chinese content existed) read as empty. Both
are generated columns over IMMUTABLE functions that name only pg_catalog objects, so
PostgreSQL fills them for every existing edition when they are added (a table rewrite, no
row trigger fires), on every insert, and on a restore with any search_path. GIN indexes
WITH (fastupdate = off), as for the other search columns.

For speed (issue 13), misspelt names are matched by trigrams against a short stored text,
`search_fuzzy_names` (generic name, synonyms, brand names; trigram GIN index): the
trigram index is lossy and every candidate it returns is rechecked by word similarity,
which against `search_name_text` (also every product name, ~230 characters) cost ~50 µs a
row, 26 ms for "REV 10". An exact generic name is a look-up in a b-tree index on
`lower(generic_name)`.

The trigram index of migration 0005 over all section text (`monographs_edition_body_trgm`)
served only the substring match of non-Latin queries that this index replaces; it is
dropped (it cost a trigram GIN entry per word of every published monograph).
"""

from django.db import migrations

# CJK Unified Ideographs Extension A, the URO, Compatibility Ideographs, and Extensions B–G
# (Hong Kong names use HKSCS characters from Extension B). Kept in step with
# monographs.search.CJK_RUN by hand: this file must not import live code.
CJK_CLASS = r"[\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\U00020000-\\U0003134f]"

CJK_GRAMS = rf"""
CREATE OR REPLACE FUNCTION monographs_cjk_grams(texts text, with_characters boolean) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.array_to_tsvector(coalesce(pg_catalog.array_agg(DISTINCT gram), '{{}}'::text[]))
    FROM pg_catalog.regexp_matches(coalesce(texts, ''), E'{CJK_CLASS}+', 'g') AS run,
        pg_catalog.generate_series(1, pg_catalog.length(run[1])) AS i,
        LATERAL (VALUES
            (pg_catalog.substr(run[1], i, 2)),
            (CASE WHEN with_characters THEN pg_catalog.substr(run[1], i, 1) END)
        ) AS grams(gram)
    WHERE gram IS NOT NULL AND (pg_catalog.length(gram) = 2 OR with_characters)
$$
"""
CJK_NAME_TEXT = """
CREATE OR REPLACE FUNCTION monographs_edition_cjk_name_text(generic_name text, content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.concat_ws(E'\\n', generic_name, content ->> 'chinese_name', content ->> 'synonyms',
        content ->> 'chinese_synonyms', (
            SELECT pg_catalog.string_agg(name #>> '{}', E'\\n')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].name') AS name
        ), (
            SELECT pg_catalog.string_agg(name #>> '{}', E'\\n')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].chinese_name') AS name
        ))
$$
"""
CJK_BODY_TEXT = """
CREATE OR REPLACE FUNCTION monographs_edition_cjk_body_text(content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Every string of every section (heading, body, heading_zh, body_zh…): only the Chinese
    -- characters are indexed, so English text and codes add nothing.
    SELECT pg_catalog.concat_ws(E'\\n', content ->> 'boxed_warning_zh', (
        SELECT pg_catalog.string_agg(text #>> '{}', E'\\n')
        FROM pg_catalog.jsonb_path_query(content, 'lax $.sections[*].*') AS text
        WHERE pg_catalog.jsonb_typeof(text) = 'string'
    ))
$$
"""
FUZZY_NAMES = """
CREATE OR REPLACE FUNCTION monographs_edition_fuzzy_names(generic_name text, content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.concat_ws(' ', generic_name, content ->> 'synonyms', (
        SELECT pg_catalog.string_agg(name #>> '{}', ' ')
        FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*] ? (@.kind == "brand").name') AS name
    ))
$$
"""
FORWARD = [
    CJK_GRAMS,
    CJK_NAME_TEXT,
    CJK_BODY_TEXT,
    FUZZY_NAMES,
    """
    ALTER TABLE monographs_edition
        ADD COLUMN search_cjk_names tsvector GENERATED ALWAYS AS
            (monographs_cjk_grams(monographs_edition_cjk_name_text(generic_name, content), true)) STORED,
        ADD COLUMN search_cjk_body tsvector GENERATED ALWAYS AS
            (monographs_cjk_grams(monographs_edition_cjk_body_text(content), false)) STORED,
        ADD COLUMN search_fuzzy_names text GENERATED ALWAYS AS
            (monographs_edition_fuzzy_names(generic_name, content)) STORED
    """,
    "CREATE INDEX monographs_edition_search_fuzzy_names ON monographs_edition "
    "USING gin (search_fuzzy_names gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_generic_name_lower ON monographs_edition (lower(generic_name))",
    "CREATE INDEX monographs_edition_search_cjk_names ON monographs_edition USING gin (search_cjk_names) "
    "WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_cjk_body ON monographs_edition USING gin (search_cjk_body) "
    "WITH (fastupdate = off)",
    "DROP INDEX IF EXISTS monographs_edition_body_trgm",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS monographs_edition_body_trgm ON monographs_edition "
    "USING gin (monographs_edition_body_text(content) gin_trgm_ops)",
    "DROP INDEX IF EXISTS monographs_edition_generic_name_lower",
    "ALTER TABLE monographs_edition DROP COLUMN search_cjk_names, DROP COLUMN search_cjk_body, "
    "DROP COLUMN search_fuzzy_names",
    "DROP FUNCTION IF EXISTS monographs_edition_fuzzy_names(text, jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_cjk_body_text(jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_cjk_name_text(text, jsonb)",
    "DROP FUNCTION IF EXISTS monographs_cjk_grams(text, boolean)",
]


def forward(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("monographs", "0014_bilingual_content")]

    operations = [migrations.RunPython(forward, backward)]
