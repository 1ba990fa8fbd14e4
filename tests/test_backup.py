"""Backup and restore as docs/operations.md describes it: pg_dump of a live
database, pg_restore into an empty one, and everything comes back."""

import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from monographs import workflow

from .suite_services import RUN_TOKEN

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
    # This run's own: a fixed name would drop another run's restore on the same server.
    name = f"{connection.settings_dict['NAME']}_restored_{RUN_TOKEN}"
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


STAMP_OF = "from monographs import selectors; print(selectors.publication_stamp())"
PREFIX_OF = "from django.conf import settings; print(settings.FORMULARY_CACHE_PREFIX)"


def _manage_shell(database, code):
    import os
    import sys

    s = connection.settings_dict
    url = f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database}"
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("FORMULARY_CACHE_PREFIX", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]  # after the shell's own "objects imported" line


def test_a_restore_new_or_in_place_makes_every_earlier_cached_page_unreachable(
    published_lenalidomide, tmp_path, restored_name
):
    """Pages are cached under the install's prefix and the publication stamp, which names the
    database (its OID and the counter table's): a copy restored into a new database, or over the
    live one, never reads a page cached before — and no Redis step is needed (docs/operations.md)."""
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL and its client tools")
    s = connection.settings_dict
    common = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"] or "postgres"]
    dump = tmp_path / "formulary.dump"
    subprocess.run(["pg_dump", *common, "--format=custom", "--file", str(dump), s["NAME"]], check=True)
    live_stamp, live_prefix = _manage_shell(s["NAME"], STAMP_OF), _manage_shell(s["NAME"], PREFIX_OF)

    # Into a new database, as the restore procedure says.
    subprocess.run(["createdb", *common, restored_name], check=True)
    subprocess.run(["pg_restore", *common, "--no-owner", "--dbname", restored_name, str(dump)], check=True)
    new_stamp, new_prefix = _manage_shell(restored_name, STAMP_OF), _manage_shell(restored_name, PREFIX_OF)
    assert new_stamp.split(".")[2] == live_stamp.split(".")[2]  # the same publications…
    assert new_stamp != live_stamp and new_prefix != live_prefix  # …under other keys

    # In place: the same database name, its tables replaced from the dump.
    subprocess.run(
        ["pg_restore", *common, "--no-owner", "--clean", "--if-exists", "--dbname", restored_name, str(dump)],
        check=True,
    )
    assert _manage_shell(restored_name, STAMP_OF) != new_stamp
    assert _manage_shell(restored_name, PREFIX_OF) == new_prefix
