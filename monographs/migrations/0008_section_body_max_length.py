"""Section bodies of at most 100,000 characters (issue 10), without touching existing text.

The model refuses a longer body with a form error (its validator) and the
database refuses it too (the CHECK constraint), with the same message.

Bodies already longer are never truncated or lost. The migration lists them
(entry and section ids, with their length) so that an editor can split them,
and the constraint is added so that it cannot fail on them: as NOT VALID, every
new or changed row is checked, the rows already there are not. Such a section
keeps its text and is shown and compared as before; it can only be saved again
once shortened. When the listed sections are split, `ALTER TABLE
monographs_section VALIDATE CONSTRAINT section_body_max_length` makes the
database check all rows.

Django's state gets the ordinary CheckConstraint, so the model, `makemigrations`
and this migration agree; an AddConstraint subclass adds the state and runs the
NOT VALID statement in one operation.
Constants are repeated here rather
than imported: a migration must keep working when the application changes.
"""

import sys

from django.core.validators import MaxLengthValidator
from django.db import migrations, models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

MAX_LENGTH = 100_000
NAME = "section_body_max_length"
MESSAGE = "A section body can have at most 100,000 characters; split a longer text into several sections."
HELP_TEXT = (
    "Paragraphs separated by a blank line; bullet list items start with '- '. **bold** and *italic* "
    "are allowed; HTML is not. At most 100,000 characters."
)
ADD_NOT_VALID = f"ALTER TABLE monographs_section ADD CONSTRAINT {NAME} CHECK (length(body) <= {MAX_LENGTH}) NOT VALID"
DROP = f"ALTER TABLE monographs_section DROP CONSTRAINT IF EXISTS {NAME}"


def long_bodies(apps, schema_editor):
    """(entry id, section id, length) of each body over the limit."""
    Section = apps.get_model("monographs", "Section")
    return list(
        Section.objects.using(schema_editor.connection.alias)
        .annotate(length=Length("body"))
        .filter(length__gt=MAX_LENGTH)
        .order_by("entry_id", "pk")
        .values_list("entry_id", "pk", "length")
    )


def report_long_bodies(apps, schema_editor):
    rows = long_bodies(apps, schema_editor)
    if not rows:
        return
    out = sys.stdout
    out.write(
        f"\n  {len(rows)} section bod{'y is' if len(rows) == 1 else 'ies are'} longer than "
        f"{MAX_LENGTH:,} characters; kept unchanged. Split each into several sections before its next save:\n"
    )
    for entry_id, section_id, length in rows:
        out.write(f"    entry {entry_id}, section {section_id}: {length:,} characters\n")


class AddConstraintKeepingExistingRows(migrations.AddConstraint):
    """AddConstraint whose database part never fails on existing rows (see the module text)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(ADD_NOT_VALID)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("monographs", "0007_search_columns")]

    operations = [
        migrations.AlterField(
            model_name="section",
            name="body",
            field=models.TextField(
                help_text=HELP_TEXT,
                validators=[MaxLengthValidator(MAX_LENGTH, MESSAGE)],
                verbose_name="body",
            ),
        ),
        migrations.RunPython(report_long_bodies, migrations.RunPython.noop),
        AddConstraintKeepingExistingRows(
            model_name="section",
            constraint=models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), MAX_LENGTH),
                name=NAME,
                violation_error_message=MESSAGE,
            ),
        ),
    ]
