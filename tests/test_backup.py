"""Backup and restore as docs/operations.md describes it: pg_dump of a live
database, pg_restore into an empty one, and everything comes back."""

import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from monographs import workflow

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = [
    "monographs_entry",
    "monographs_section",
    "monographs_product",
    "monographs_strength",
    "monographs_entrystate",
    "monographs_edition",
    "monographs_auditevent",
    "reversion_revision",
    "reversion_version",
    "auth_user",
    "auth_group",
]


def _conninfo(name):
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER'] or 'postgres'} dbname={name}"


def _rows(name, table):
    with psycopg.connect(_conninfo(name)) as conn:
        # Order by the first column (every table here has its primary key first).
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608 fixed table names


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_pg_dump_and_restore_keeps_entries_history_audit_and_editions(
    published_lenalidomide, editor, reviewer, tmp_path, restored_name
):
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL and its client tools")
    # Leave a draft on top of the published edition, as in real life.
    workflow.withdraw(entry=published_lenalidomide, user=reviewer, comment="Temporarily withdrawn")
    s = connection.settings_dict
    common = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"] or "postgres"]
    dump = tmp_path / "formulary.dump"

    subprocess.run(["pg_dump", *common, "--format=custom", "--file", str(dump), s["NAME"]], check=True)
    subprocess.run(["createdb", *common, restored_name], check=True)
    subprocess.run(["pg_restore", *common, "--no-owner", "--dbname", restored_name, str(dump)], check=True)

    for table in TABLES:
        original = _rows(s["NAME"], table)
        assert original, f"{table} should hold data for the comparison to mean anything"
        assert _rows(restored_name, table) == original, table
    # The append-only guard comes back with the data.
    with psycopg.connect(_conninfo(restored_name)) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute("UPDATE monographs_auditevent SET comment = 'tampered'")
