"""An index for the A–Z list on PostgreSQL (nothing happens on other databases).

The list of one letter filters live editions with `generic_name__istartswith`, which
PostgreSQL runs as `upper(generic_name::text) LIKE 'C%'`. Without an index on that
expression every page (and its count) read all editions: about 17 ms each at 20,000
entries (40,000 editions), so an uncached A–Z page cost ~100 ms (issue 13). A b-tree with
`text_pattern_ops` serves a LIKE prefix whatever the database's collation.

Also an index on the audit log's created_at: the publication stamp
(`selectors.formulary_last_changed`, the latest approval, go-live or withdrawal) was a scan
of the whole log, ~100,000 rows at 20,000 entries, on every list and search page when the
shared cache is off.
"""

from django.db import migrations, models

INDEX = "monographs_edition_upper_name_prefix"


def forward(apps, schema_editor):
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON monographs_edition ((upper(generic_name::text)) text_pattern_ops)"
    )


def backward(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("monographs", "0015_chinese_search_index")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["created_at"], name="auditevent_created_at_idx"),
        ),
    ]
