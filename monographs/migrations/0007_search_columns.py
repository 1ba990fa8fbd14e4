"""Stored search columns on PostgreSQL (nothing happens on other databases).

Migration 0005 indexed expressions over each edition's JSON content. The
indexes found candidates quickly, but ranking them recomputed the same
functions over the whole content for every match: at 5,000 entries a search
for a common word spent most of its 900 ms there. PostgreSQL now computes the
three values once, when the edition is written (generated columns over the
IMMUTABLE functions of 0005), and searches index and rank the stored values.
The columns are not model fields: `monographs.search` names them directly.
"""

from django.db import migrations

FORWARD = [
    """
    ALTER TABLE monographs_edition
        ADD COLUMN search_names tsvector GENERATED ALWAYS AS
            (monographs_edition_names_document(generic_name, drug_class, content)) STORED,
        ADD COLUMN search_name_text text GENERATED ALWAYS AS
            (monographs_edition_name_text(generic_name, drug_class, content)) STORED,
        ADD COLUMN search_body tsvector GENERATED ALWAYS AS
            (monographs_edition_body_document(content)) STORED
    """,
    "CREATE INDEX monographs_edition_search_names ON monographs_edition USING gin (search_names) "
    "WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_name_text ON monographs_edition "
    "USING gin (search_name_text gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_body ON monographs_edition USING gin (search_body) "
    "WITH (fastupdate = off)",
    "DROP INDEX IF EXISTS monographs_edition_names_fts",
    "DROP INDEX IF EXISTS monographs_edition_names_trgm",
    "DROP INDEX IF EXISTS monographs_edition_body_fts",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS monographs_edition_names_fts ON monographs_edition "
    "USING gin (monographs_edition_names_document(generic_name, drug_class, content))",
    "CREATE INDEX IF NOT EXISTS monographs_edition_names_trgm ON monographs_edition "
    "USING gin (monographs_edition_name_text(generic_name, drug_class, content) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS monographs_edition_body_fts ON monographs_edition "
    "USING gin (monographs_edition_body_document(content))",
    "ALTER TABLE monographs_edition DROP COLUMN search_names, DROP COLUMN search_name_text, DROP COLUMN search_body",
]


def forward(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("monographs", "0006_edition_listing_columns")]

    operations = [migrations.RunPython(forward, backward)]
