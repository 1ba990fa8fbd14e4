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
    if not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL's client tools")
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


STAMP_OF = "from monographs import publication; print(publication.publication_stamp())"
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
    if not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL's client tools")
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


@pytest.fixture
def app_role():
    """A login role like the one docs/operations.md creates for the app: no superuser, no
    CREATEDB; owner of the live database and of the empty one a restore goes into."""
    base = connection.settings_dict["NAME"]
    role, live, restored = f"{base}_app_role", f"{base}_app_live", f"{base}_app_restored"
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as conn:
        for name in (live, restored):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'CREATE DATABASE "{live}" OWNER "{role}"')
    yield role, live, restored
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as conn:
        for name in (live, restored):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_backup_and_restore_as_the_apps_own_role_leave_its_tables_and_a_current_schema(app_role, tmp_path):
    """docs/operations.md, "Backup" and "Restore": the database administrator only creates the
    empty database owned by the app's role; migrate, pg_dump, pg_restore and `migrate --check`
    run as that role. Restored tables belong to it, so the app can use and migrate them."""
    import os
    import sys

    if not shutil.which("pg_dump"):
        pytest.skip("needs PostgreSQL's client tools")
    role, live, restored = app_role
    s = connection.settings_dict
    server = f"postgres://{role}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    env = {**os.environ, "CONN_MAX_AGE": "0"}

    def manage(database, *args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            env={**env, "DATABASE_URL": f"{server}/{database}"},
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert manage(live, "migrate", "--noinput").returncode == 0
    assert manage(live, "load_demo").returncode == 0
    dump = tmp_path / "formulary.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", f"{server}/{live}"], check=True)
    # The one step of the database administrator: an empty database the app's role owns.
    admin = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"] or "postgres"]
    subprocess.run(["createdb", *admin, f"--owner={role}", restored], check=True)
    restore = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={server}/{restored}", str(dump)], capture_output=True, text=True
    )
    assert restore.returncode == 0, restore.stderr

    with psycopg.connect(_conninfo(restored)) as conn:
        owners = dict(
            conn.execute("SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public' GROUP BY 1").fetchall()
        )
    assert set(owners) == {role}, owners
    check = manage(restored, "migrate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    for table in TABLES:
        assert _rows(restored, table) == _rows(live, table), table
    assert _rows(restored, "monographs_edition"), "the demo's published edition came back"
    # Restored in place over itself, still as the app's role.
    again = subprocess.run(
        ["pg_restore", "--no-owner", "--clean", "--if-exists", f"--dbname={server}/{restored}", str(dump)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert manage(restored, "migrate", "--check").returncode == 0
