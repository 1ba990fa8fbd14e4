"""Migrations stand on their own: they import no application code, and their frozen copies still match it."""

import ast
import importlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import RunPython

from monographs.roles import ROLES

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_PACKAGES = {"monographs", "formulary", "bench", "directory"}


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


def test_migrations_import_no_application_code():
    migrations = sorted((ROOT / "monographs" / "migrations").glob("[0-9]*.py")) + sorted(
        (ROOT / "directory" / "migrations").glob("[0-9]*.py")
    )
    assert migrations
    offending = {
        path.name: name
        for path in migrations
        for name in imported_modules(path)
        if name.startswith(".") or name.split(".")[0] in APPLICATION_PACKAGES
    }
    assert offending == {}


def test_roles_migration_makes_the_roles_the_app_defines(db):
    """0003 and 0021 hold frozen copies of the roles; a change to monographs/roles.py needs a new migration."""
    state = MigrationLoader(connection).project_state(("monographs", "0003_roles"))
    migration = importlib.import_module("monographs.migrations.0003_roles")
    Group.objects.all().delete()
    migration.create_roles(state.apps, None)
    # 0021 gave the roles the drug-class permissions (drug classes are content since then).
    later = importlib.import_module("monographs.migrations.0021_drug_class_table")
    later.grant_class_permissions(
        MigrationLoader(connection).project_state(("monographs", "0021_drug_class_table")).apps, None
    )
    made = {group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
    assert made == {name: set(codenames) for name, codenames in ROLES.items()}


def test_0018_cleans_the_working_copy_then_adds_the_constraints(db):
    """Rows saved before the rule lose their control characters; a Chinese text that was up to
    date with its English stays so; then the database refuses such characters."""
    if connection.vendor != "postgresql":
        return
    from django.db import IntegrityError, transaction

    from monographs.models import Entry, Section, english_fingerprint

    migration = importlib.import_module("monographs.migrations.0018_text_without_control_characters")
    entry = Entry.objects.create(generic_name="Thalidomide", slug="thalidomide")
    section = Section.objects.create(entry=entry, kind="uses", body="Treats myeloma.", body_zh="治療骨髓瘤。")
    constraints = [
        ("monographs_entry", "entry_text_without_control_characters"),
        ("monographs_section", "section_text_without_control_characters"),
        ("monographs_product", "product_text_without_control_characters"),
        ("monographs_strength", "strength_text_without_control_characters"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        # 0018 is replayed on the schema it was written for: 0021 made the entry's drug class a
        # foreign key instead of this text column (the test's transaction rolls it back).
        cursor.execute("ALTER TABLE monographs_entry ADD COLUMN drug_class varchar(200) NOT NULL DEFAULT ''")
        # As saved before the rule: a pasted vertical tab and an override, fingerprint current.
        body = "Treats\x0b myeloma\u202e."
        cursor.execute(
            "UPDATE monographs_section SET body = %s, zh_source = %s WHERE id = %s",
            [body, english_fingerprint("", body), section.pk],
        )
        cursor.execute("UPDATE monographs_entry SET generic_name = %s WHERE id = %s", ["Thalido\x07mide", entry.pk])

    loader = MigrationLoader(connection)
    state = loader.project_state(("monographs", "0017_publication_counter"))
    with connection.schema_editor(atomic=False) as editor:
        for operation in migration.Migration.operations:
            after = state.clone()
            operation.state_forwards("monographs", after)
            operation.database_forwards("monographs", editor, state, after)
            state = after

    section.refresh_from_db()
    entry.refresh_from_db()
    assert section.body == "Treats myeloma." and entry.generic_name == "Thalidomide"
    assert section.zh_source == english_fingerprint("", "Treats myeloma.")  # still up to date
    assert section.translation == "current"
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.filter(pk=section.pk).update(body_zh="治療\x1b骨髓瘤。")


def _state_before(operation_index, name="0021_drug_class_table"):
    """The project state just before operation `operation_index` of migration `name`, and the migration."""
    migration = importlib.import_module(f"monographs.migrations.{name}")
    state = MigrationLoader(connection).project_state(("monographs", "0020_restored_revision"))
    for operation in migration.Migration.operations[:operation_index]:
        operation.state_forwards("monographs", state)
    return state, migration


def test_0021_makes_one_class_per_spelling_and_points_entries_editions_and_revisions_to_it(db, django_user_model):
    """Every class name in entries, editions and recorded revisions becomes one DrugClass (case and
    spacing variants made one, under the spelling most entries use); entries point to it, editions
    get its slug, recorded revisions its id; and packs are read as count and unit."""
    import json

    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    migration = importlib.import_module("monographs.migrations.0021_drug_class_table")
    index = next(
        i
        for i, op in enumerate(migration.Migration.operations)
        if isinstance(op, RunPython) and op.code is migration.classes_from_text
    )
    state, _ = _state_before(index)
    apps = state.apps
    with connection.cursor() as cursor:
        # The schema as it stands at that step: the text column beside the new foreign key.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE monographs_entry RENAME COLUMN drug_class_id TO drug_class_ref_id")
        cursor.execute("ALTER TABLE monographs_entry ADD COLUMN drug_class varchar(200) NOT NULL DEFAULT ''")
    Entry = apps.get_model("monographs", "Entry")
    Edition = apps.get_model("monographs", "Edition")
    DrugClass = apps.get_model("monographs", "DrugClass")
    Revision = apps.get_model("reversion", "Revision")
    Version = apps.get_model("reversion", "Version")
    metformin = Entry.objects.create(generic_name="Metformin", slug="metformin", drug_class="Biguanide")
    Entry.objects.create(generic_name="Phenformin", slug="phenformin", drug_class="Biguanide")
    buformin = Entry.objects.create(generic_name="Buformin", slug="buformin", drug_class=" biguanide  ")
    Entry.objects.create(generic_name="Aspirin", slug="aspirin", drug_class="")
    reviewer = django_user_model.objects.create(username="migration-reviewer")
    revision = Revision.objects.create(date_created=timezone.now(), comment="before 0021")
    Edition.objects.create(
        entry_id=buformin.pk,
        number=1,
        revision=revision,
        generic_name="Buformin",
        slug="buformin",
        drug_class="BIGUANIDE",
        content={},
        approved_by_id=reviewer.pk,
        approved_at=timezone.now(),
        next_review_due=timezone.now().date(),
    )
    entry_type = ContentType.objects.get(app_label="monographs", model="entry")
    old = Version.objects.create(
        revision=revision,
        object_id=str(metformin.pk),
        content_type_id=entry_type.pk,
        db="default",
        format="json",
        serialized_data=json.dumps(
            [
                {
                    "model": "monographs.entry",
                    "pk": metformin.pk,
                    "fields": {"generic_name": "Metformin", "drug_class": "Sulfonylurea"},
                }
            ]
        ),
        object_repr="Metformin",
    )

    with connection.schema_editor(atomic=False) as editor:
        migration.classes_from_text(apps, editor)

    classes = {c.name: c for c in DrugClass.objects.all()}
    assert sorted(classes) == ["Biguanide", "Sulfonylurea"]
    assert classes["Biguanide"].slug == "biguanide" and classes["Biguanide"].name_zh == ""
    by_name = dict(Entry.objects.values_list("generic_name", "drug_class_ref_id"))
    assert by_name == {
        "Metformin": classes["Biguanide"].pk,
        "Phenformin": classes["Biguanide"].pk,
        "Buformin": classes["Biguanide"].pk,
        "Aspirin": None,
    }
    assert Edition.objects.get().drug_class_slug == "biguanide"
    assert Edition.objects.get().drug_class == "BIGUANIDE"  # the published text stays as it was
    old.refresh_from_db()
    assert json.loads(old.serialized_data)[0]["fields"]["drug_class"] == classes["Sulfonylurea"].pk


def test_0021_reads_packs_it_can_and_keeps_the_others_as_text():
    migration = importlib.import_module("monographs.migrations.0021_drug_class_table")
    assert migration._parse_pack("21 capsules") == (21, "capsule")
    assert migration._parse_pack("28 film-coated tablets") == (28, "tablet")
    assert migration._parse_pack("5 x 1 mL ampoules") is None
    assert migration._parse_pack("Blister of 14") is None
