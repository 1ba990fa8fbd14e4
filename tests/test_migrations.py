"""Migrations stand on their own: they import no application code, and their frozen copies still match it."""

import ast
import importlib
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from monographs.roles import ROLES

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_PACKAGES = {"monographs", "formulary", "bench"}


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


def test_migrations_import_no_application_code():
    migrations = sorted((ROOT / "monographs" / "migrations").glob("[0-9]*.py"))
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
