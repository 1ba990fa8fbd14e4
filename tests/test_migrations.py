"""Migrations stand on their own: they import no application code, and their frozen copies still match it."""

import ast
import importlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

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
    """0003 holds a frozen copy of the roles; a change to monographs/roles.py needs a new migration."""
    state = MigrationLoader(connection).project_state(("monographs", "0003_roles"))
    migration = importlib.import_module("monographs.migrations.0003_roles")
    Group.objects.all().delete()
    migration.create_roles(state.apps, None)
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
