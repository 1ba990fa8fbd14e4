"""The check that a run leaves the machine's services alone (tests/machine_sentinel.py) does
catch a flush and a restart. Shown on a redis-server of this test's own, never the machine's;
the PostgreSQL side uses a sentinel database of its own on the run's server."""

import os
import subprocess
import sys
import textwrap

import pytest
import redis

from .machine_sentinel import REDIS_DATABASES, MachineSentinel
from .server_process import ROOT
from .suite_services import start_redis


@pytest.fixture
def own_redis(tmp_path):
    process, port = start_redis(tmp_path)
    yield {"process": process, "port": port, "url": f"redis://127.0.0.1:{port}"}
    process.kill()
    process.wait()


def postgres_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("DATABASE_URL must name a PostgreSQL server")
    return url


@pytest.fixture
def sentinel(own_redis):
    watch = MachineSentinel(postgres_url(), own_redis["url"])
    watch.plant()
    yield watch
    watch.remove()


def test_nothing_touched_is_nothing_reported(sentinel, own_redis):
    assert sentinel.problems() == []
    # Other keys coming and going are not the sentinel's business.
    redis.Redis.from_url(f"{own_redis['url']}/4").set("someone-else", "1")
    assert sentinel.problems() == []


def test_a_flushed_redis_database_is_reported(sentinel, own_redis):
    redis.Redis.from_url(f"{own_redis['url']}/7").flushdb()
    (problem,) = sentinel.problems()
    assert "database(s) [7]" in problem


def test_a_flushall_is_reported_for_every_database(sentinel, own_redis):
    redis.Redis.from_url(f"{own_redis['url']}/0").flushall()
    (problem,) = sentinel.problems()
    assert f"database(s) {list(REDIS_DATABASES)}" in problem


def test_a_restarted_redis_is_reported_even_with_its_keys_put_back(sentinel, own_redis, tmp_path):
    own_redis["process"].kill()
    own_redis["process"].wait()
    own_redis["process"] = subprocess.Popen(
        ["redis-server", "--port", str(own_redis["port"]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=own_redis["port"])
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            import time

            time.sleep(0.05)
    for db in REDIS_DATABASES:
        redis.Redis(port=own_redis["port"], db=db).set(sentinel.key, sentinel.token)
    (problem,) = sentinel.problems()
    assert "was restarted" in problem


def test_a_dropped_postgresql_sentinel_database_is_reported(sentinel):
    # The sentinel's own database, created by this test: dropping it harms nobody.
    with sentinel._pg() as conn:
        conn.execute(f'DROP DATABASE "{sentinel.database}" WITH (FORCE)')
    (problem,) = sentinel.problems()
    assert sentinel.database in problem


def test_the_postgresql_postmaster_is_identified_by_pid_and_start_time(sentinel):
    pid, started = sentinel.postgres_process
    assert started
    # As superuser (the suite's role) the postmaster's PID is read; it is not this session's backend.
    with sentinel._pg() as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert pid and pid != backend


FLUSHING_TEST = """
import os

import redis


def test_something():
    if os.environ.get("FLUSH_DB"):
        redis.Redis.from_url(os.environ["FORMULARY_SENTINEL_REDIS_URL"] + "/" + os.environ["FLUSH_DB"]).flushdb()
"""


@pytest.mark.parametrize("flush", ["", "3"])
def test_a_run_that_flushes_a_watched_database_fails(tmp_path, own_redis, flush):
    """The whole mechanism, as `./run test` uses it: the tests pass, the run fails."""
    (tmp_path / "test_flushing.py").write_text(textwrap.dedent(FLUSHING_TEST))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    environment = {
        **os.environ,
        "FORMULARY_SENTINEL": "1",
        "FORMULARY_SENTINEL_REDIS_URL": own_redis["url"],
        "DATABASE_URL": postgres_url(),
        "FLUSH_DB": flush,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:django", "-p", "no:cacheprovider", "-p", "tests.machine_sentinel"]
        + ["-c", str(tmp_path / "pytest.ini"), str(tmp_path / "test_flushing.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    if flush:
        assert result.returncode == 1, result.stdout
        assert "sentinel key gone from database(s) [3]" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "untouched" in result.stdout
    # Either way the sentinels are removed afterwards.
    assert not any(redis.Redis(port=own_redis["port"], db=db).keys("formulary-sentinel:*") for db in REDIS_DATABASES)


def test_ci_allows_only_the_listed_skips():
    from .conftest import ALLOWED_SKIPS, unlisted_skips

    listing = "# a comment\ntests/test_a.py::test_one\n\ntests/test_b.py::test_p[*]\n"
    skipped = ["tests/test_a.py::test_one", "tests/test_b.py::test_p[x]", "tests/test_c.py::test_two"]
    assert unlisted_skips(skipped, listing) == ["tests/test_c.py::test_two"]
    # The shipped list names tests that exist.
    for line in ALLOWED_SKIPS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, name = line.split("::")[:2]
            assert f"def {name.split('[')[0]}(" in (ROOT / path).read_text()
