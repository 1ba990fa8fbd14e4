"""Search for what is on the box: registration numbers, markings, ATC codes, certificate
holders and Chinese names; each edition's HA formulary statuses copied for results.

On PostgreSQL (nothing happens to the search on other databases, which search in Python):

* `search_names` (the weighted names document of 0007) is recomputed by a new
  IMMUTABLE function, `monographs_edition_search_names`: A = generic name, Chinese name,
  synonyms, brand names; B = drug class, ATC code, every product name; C = certificate
  holders and the strengths' appearance/marking text ('simple' config, no stemming);
* `search_name_text` (trigram and substring matching of names) also holds the Chinese
  name: `monographs_edition_search_name_text`;
* a new stored column `search_registration`, the digits of every HK registration number
  of the edition's strengths (text[], `monographs_edition_registration_numbers`), with a
  GIN index, so a number on the box is an index look-up, not a scan of all contents.

PostgreSQL 15 cannot change a generated column's expression, so the two columns are
dropped (their indexes with them) and added again; PostgreSQL computes them for every
existing edition (a table rewrite, no row trigger fires). The functions of 0005 stay, for
0007's backward migration. Indexes are created WITH (fastupdate = off) like 0007's.

The column `formulary_statuses` is a listing column like those of 0006 and 0010, filled
here by a frozen copy of `monographs.snapshots.listing_fields` (a migration must not
import live application code) and from then on at approval.
"""

from django.db import migrations, models

SEARCH_NAMES = """
CREATE OR REPLACE FUNCTION monographs_edition_search_names(generic_name text, drug_class text, content jsonb)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, pg_catalog.concat_ws(' ',
        generic_name, content ->> 'chinese_name', content ->> 'synonyms', (
            SELECT pg_catalog.string_agg(name #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*] ? (@.kind == "brand").name') AS name
        ))), 'A')
    || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, pg_catalog.concat_ws(' ',
        drug_class, content ->> 'atc_code', (
            SELECT pg_catalog.string_agg(name #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].name') AS name
        ))), 'B')
    || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, pg_catalog.concat_ws(' ', (
            SELECT pg_catalog.string_agg(holder #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].certificate_holder') AS holder
        ), (
            SELECT pg_catalog.string_agg(marking #>> '{}', ' ')
            FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].strengths[*].appearance') AS marking
        ))), 'C')
$$
"""
SEARCH_NAME_TEXT = """
CREATE OR REPLACE FUNCTION monographs_edition_search_name_text(generic_name text, drug_class text, content jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.concat_ws(' ', generic_name, content ->> 'chinese_name', content ->> 'synonyms', drug_class, (
        SELECT pg_catalog.string_agg(name #>> '{}', ' ')
        FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].name') AS name
    ))
$$
"""
REGISTRATION_NUMBERS = """
CREATE OR REPLACE FUNCTION monographs_edition_registration_numbers(content jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(pg_catalog.array_agg(DISTINCT digits), '{}'::text[])
    FROM (
        SELECT pg_catalog.regexp_replace(number #>> '{}', '[^0-9]', '', 'g') AS digits
        FROM pg_catalog.jsonb_path_query(content, 'lax $.products[*].strengths[*].registration_number') AS number
    ) AS numbers
    WHERE digits <> ''
$$
"""
FORWARD = [
    SEARCH_NAMES,
    SEARCH_NAME_TEXT,
    REGISTRATION_NUMBERS,
    "ALTER TABLE monographs_edition DROP COLUMN search_names, DROP COLUMN search_name_text",
    """
    ALTER TABLE monographs_edition
        ADD COLUMN search_names tsvector GENERATED ALWAYS AS
            (monographs_edition_search_names(generic_name, drug_class, content)) STORED,
        ADD COLUMN search_name_text text GENERATED ALWAYS AS
            (monographs_edition_search_name_text(generic_name, drug_class, content)) STORED,
        ADD COLUMN search_registration text[] GENERATED ALWAYS AS
            (monographs_edition_registration_numbers(content)) STORED
    """,
    "CREATE INDEX monographs_edition_search_names ON monographs_edition USING gin (search_names) "
    "WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_name_text ON monographs_edition "
    "USING gin (search_name_text gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_registration ON monographs_edition "
    "USING gin (search_registration) WITH (fastupdate = off)",
]
BACKWARD = [
    "ALTER TABLE monographs_edition DROP COLUMN search_names, DROP COLUMN search_name_text, "
    "DROP COLUMN search_registration",
    """
    ALTER TABLE monographs_edition
        ADD COLUMN search_names tsvector GENERATED ALWAYS AS
            (monographs_edition_names_document(generic_name, drug_class, content)) STORED,
        ADD COLUMN search_name_text text GENERATED ALWAYS AS
            (monographs_edition_name_text(generic_name, drug_class, content)) STORED
    """,
    "CREATE INDEX monographs_edition_search_names ON monographs_edition USING gin (search_names) "
    "WITH (fastupdate = off)",
    "CREATE INDEX monographs_edition_search_name_text ON monographs_edition "
    "USING gin (search_name_text gin_trgm_ops) WITH (fastupdate = off)",
    "DROP FUNCTION IF EXISTS monographs_edition_registration_numbers(jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_search_name_text(text, text, jsonb)",
    "DROP FUNCTION IF EXISTS monographs_edition_search_names(text, text, jsonb)",
]


def search_columns(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)


def search_columns_backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


# Frozen copy of the order of monographs.vocabulary.FormularyStatus and of how
# monographs.snapshots.listing_fields lists an edition's statuses, as when this was written.
FORMULARY_STATUSES = ["general", "special", "sfi_safety_net", "sfi", "non_formulary"]


def formulary_statuses(content):
    present = [p.get("formulary_status") for p in content.get("products", []) if p.get("formulary_status")]
    known = [status for status in FORMULARY_STATUSES if status in present]
    return known + sorted({status for status in present if status not in FORMULARY_STATUSES})


def fill_formulary_statuses(apps, schema_editor):
    Edition = apps.get_model("monographs", "Edition")
    # Editions are append-only; this one-off backfill of a copied column is the exception.
    schema_editor.execute("ALTER TABLE monographs_edition DISABLE TRIGGER monographs_edition_append_only")
    for edition in Edition.objects.only("pk", "content").iterator(chunk_size=500):
        statuses = formulary_statuses(edition.content)
        if statuses:
            Edition.objects.filter(pk=edition.pk).update(formulary_statuses=statuses)
    schema_editor.execute("ALTER TABLE monographs_edition ENABLE TRIGGER monographs_edition_append_only")


class Migration(migrations.Migration):
    dependencies = [("monographs", "0012_digest_sent")]

    operations = [
        migrations.AddField(
            model_name="edition",
            name="formulary_statuses",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="HA formulary status codes of its products, copied so search results show them.",
                verbose_name="HA formulary statuses",
            ),
        ),
        migrations.RunPython(fill_formulary_statuses, migrations.RunPython.noop),
        migrations.RunPython(search_columns, search_columns_backward),
    ]
