"""Proof that a test run leaves the machine's PostgreSQL and Redis alone.

With FORMULARY_SENTINEL=1 (`./run test` sets it), before the first test this plants
sentinels in the servers other projects on the machine use:

- PostgreSQL (the server of DATABASE_URL): a database of its own,
  `formulary_sentinel_<token>`, holding one row with the token;
- Redis (FORMULARY_SENTINEL_REDIS_URL, default redis://127.0.0.1:6379): a key with the
  token in every database 0..15;

and notes each server's process: PostgreSQL's postmaster PID (from its `postmaster.pid`,
read through the server) and start time, Redis's `process_id` and `run_id`. After the last
test it checks that every sentinel is still there and that neither server was restarted,
fails the run (exit status 1) if not, and removes its sentinels either way.

The suite's own servers (tests/suite_services.py) are not watched: tests may flush or stop
those.
"""

import os
import secrets
import urllib.parse

import pytest

REDIS_DATABASES = range(16)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
_KEY = pytest.StashKey()


def enabled():
    return os.environ.get("FORMULARY_SENTINEL", "") not in ("", "0")


class MachineSentinel:
    def __init__(self, postgres_url, redis_url, token=None):
        self.token = token or secrets.token_hex(8)
        self.postgres_url = postgres_url
        self.redis_url = redis_url.rstrip("/")
        parts = urllib.parse.urlsplit(postgres_url) if postgres_url else None
        self.postgres = (
            f"host={parts.hostname} port={parts.port or 5432} user={parts.username or 'postgres'}"
            if parts and parts.scheme.startswith("postgres")
            else None
        )
        self.database = f"formulary_sentinel_{self.token}"
        self.key = f"formulary-sentinel:{self.token}"
        self.postgres_process = None
        self.redis_process = None

    # PostgreSQL

    def _pg(self, dbname="postgres"):
        import psycopg

        return psycopg.connect(f"{self.postgres} dbname={dbname}", autocommit=True, connect_timeout=5)

    def _postmaster(self):
        with self._pg() as conn:
            started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
            try:
                # First line of the data directory's postmaster.pid (needs superuser or
                # pg_read_server_files); the start time alone still shows a restart.
                pid = int(conn.execute("SELECT pg_read_file('postmaster.pid')").fetchone()[0].split("\n", 1)[0])
            except Exception:
                pid = None
        return pid, started.isoformat()

    def _redis(self, db):
        import redis

        return redis.Redis.from_url(f"{self.redis_url}/{db}", socket_connect_timeout=3, socket_timeout=10)

    def _redis_process(self):
        info = self._redis(0).info("server")
        return info["process_id"], info["run_id"]

    def plant(self):
        if self.postgres:
            with self._pg() as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
            with self._pg(self.database) as conn:
                conn.execute("CREATE TABLE sentinel (token text NOT NULL)")
                conn.execute("INSERT INTO sentinel VALUES (%s)", [self.token])
            self.postgres_process = self._postmaster()
        for db in REDIS_DATABASES:
            self._redis(db).set(self.key, self.token)
        self.redis_process = self._redis_process()

    def problems(self):
        """What the run changed, as sentences; empty when everything is as planted."""
        import psycopg
        import redis

        found = []
        if self.postgres:
            try:
                process = self._postmaster()
                if process != self.postgres_process:
                    found.append(
                        f"PostgreSQL at {self.postgres} was restarted: postmaster (pid, start) "
                        f"{self.postgres_process} before the run, {process} after"
                    )
                with self._pg(self.database) as conn:
                    rows = conn.execute("SELECT token FROM sentinel").fetchall()
                if rows != [(self.token,)]:
                    found.append(f"PostgreSQL database {self.database}: sentinel row changed to {rows}")
            except psycopg.Error as exc:
                found.append(f"PostgreSQL sentinel database {self.database} unreadable: {exc}".strip())
        try:
            process = self._redis_process()
            if process != self.redis_process:
                found.append(
                    f"Redis at {self.redis_url} was restarted: (process_id, run_id) "
                    f"{self.redis_process} before the run, {process} after"
                )
            missing = [db for db in REDIS_DATABASES if self._redis(db).get(self.key) != self.token.encode()]
            if missing:
                found.append(f"Redis at {self.redis_url}: sentinel key gone from database(s) {missing}")
        except redis.RedisError as exc:
            found.append(f"Redis at {self.redis_url} unreadable: {exc}")
        return found

    def remove(self):
        import psycopg
        import redis

        if self.postgres:
            try:
                with self._pg() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            except psycopg.Error:
                pass
        for db in REDIS_DATABASES:
            try:
                self._redis(db).delete(self.key)
            except redis.RedisError:
                pass


# pytest hooks (imported by tests/conftest.py; usable alone as `-p tests.machine_sentinel`)


def pytest_sessionstart(session):
    if not enabled() or hasattr(session.config, "workerinput"):  # once per run, not per xdist worker
        return
    sentinel = MachineSentinel(
        os.environ.get("DATABASE_URL", ""), os.environ.get("FORMULARY_SENTINEL_REDIS_URL", DEFAULT_REDIS_URL)
    )
    try:
        sentinel.plant()
    except Exception as exc:
        sentinel.remove()
        raise pytest.UsageError(f"FORMULARY_SENTINEL=1 but the sentinels could not be planted: {exc}") from exc
    session.config.stash[_KEY] = sentinel


def pytest_sessionfinish(session, exitstatus):
    sentinel = session.config.stash.get(_KEY, None)
    if sentinel is None:
        return
    try:
        problems = sentinel.problems()
    finally:
        sentinel.remove()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if problems:
        if reporter:
            reporter.write_sep("=", "the run changed the machine's services", red=True)
            for problem in problems:
                reporter.write_line(problem)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        reporter.ensure_newline()
        reporter.write_line("machine sentinel: PostgreSQL and Redis 0-15 untouched, neither restarted", green=True)
