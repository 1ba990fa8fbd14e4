"""Search support in PostgreSQL:

* the pg_trgm extension (trigram similarity for misspelt names);
* IMMUTABLE SQL functions over an edition's columns and content, so names and
  section text can be indexed without a stored column (editions are never
  updated, so an expression index can never go stale):
    monographs_edition_names_document(generic_name, drug_class, content)
        weighted tsvector: A = generic name, synonyms, brand names;
        B = drug class and all product names ('simple' config, no stemming)
    monographs_edition_name_text(generic_name, drug_class, content)
        the same names as one text, for trigram similarity and substring match
    monographs_edition_body_text(content)      all section bodies as one text
    monographs_edition_body_document(content)  its English tsvector
* GIN indexes on each (full text, or trigram for the texts) and a trigram
  index on the generic name.

`monographs.search` calls the functions by these exact names so the planner uses
the indexes. Everything is raw SQL with no model state: the models stay as they
are and `makemigrations --check` stays clean. Function bodies name pg_catalog
objects explicitly so a dump restores with any search_path.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

BODY_TEXT = """
CREATE OR REPLACE FUNCTION monographs_edition_body_text(content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(pg_catalog.string_agg(body #>> '{}', ' '), '')
    FROM pg_catalog.jsonb_path_query(content, 'lax $.sections[*].body') AS body
$$
"""
BODY_DOCUMENT = """
CREATE OR REPLACE FUNCTION monographs_edition_body_document(content jsonb) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.to_tsvector(
        'pg_catalog.english'::regconfig,
        coalesce(pg_catalog.string_agg(body #>> '{}', ' '), '')
    )
    FROM pg_catalog.jsonb_path_query(content, 'lax $.sections[*].body') AS body
$$
"""
NAME_TEXT = """
CREATE OR REPLACE FUNCTION monographs_edition_name_text(generic_name text, drug_class text, content jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT concat_ws(' ', generic_name, content ->> 'synonyms', drug_class, (
        SELECT string_agg(name #>> '{}', ' ')
        FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].name') AS name
    ))
$$
"""
NAMES_DOCUMENT = """
CREATE OR REPLACE FUNCTION monographs_edition_names_document(generic_name text, drug_class text, content jsonb)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, concat_ws(' ',
        generic_name, content ->> 'synonyms', (
            SELECT string_agg(name #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*] ? (@.kind == "brand").name') AS name
        ))), 'A')
    || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, concat_ws(' ',
        drug_class, (
            SELECT string_agg(name #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].name') AS name
        ))), 'B')
$$
"""
FORWARD = [
    BODY_TEXT,
    BODY_DOCUMENT,
    NAME_TEXT,
    NAMES_DOCUMENT,
    "CREATE INDEX IF NOT EXISTS monographs_edition_names_fts ON monographs_edition "
    "USING gin (monographs_edition_names_document(generic_name, drug_class, content))",
    "CREATE INDEX IF NOT EXISTS monographs_edition_names_trgm ON monographs_edition "
    "USING gin (monographs_edition_name_text(generic_name, drug_class, content) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS monographs_edition_name_trgm ON monographs_edition "
    "USING gin (generic_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS monographs_edition_body_fts ON monographs_edition "
    "USING gin (monographs_edition_body_document(content))",
    "CREATE INDEX IF NOT EXISTS monographs_edition_body_trgm ON monographs_edition "
    "USING gin (monographs_edition_body_text(content) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS monographs_edition_names_trgm",
    "DROP INDEX IF EXISTS monographs_edition_names_fts",
    "DROP FUNCTION IF EXISTS monographs_edition_names_document(text, text, jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_name_text(text, text, jsonb)",
    "DROP INDEX IF EXISTS monographs_edition_body_trgm",
    "DROP INDEX IF EXISTS monographs_edition_body_fts",
    "DROP INDEX IF EXISTS monographs_edition_name_trgm",
    "DROP FUNCTION IF EXISTS monographs_edition_body_document(jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_body_text(jsonb)",
]


def forward(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0004_audit_append_only"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(forward, backward),
    ]
