"""Servers and names that belong to one test run, so the suite never touches what other
projects on the machine keep in PostgreSQL or Redis.

- `RUN_TOKEN`: part of every database name a test creates beside the pytest test database,
  so two runs on one server (two checkouts, two CI jobs) never drop each other's databases.
- `redis_url(db)`: the run's own `redis-server` on a free loopback port, started on first use
  and stopped when the process exits. Tests that clear or flush Redis use it, never the
  machine's Redis on 6379.
- `OwnPostgres`: a throwaway PostgreSQL cluster (initdb into a temporary folder, a free
  port) for tests that stop or restart the database server.
"""

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

RUN_TOKEN = f"{os.getpid()}_{secrets.token_hex(3)}"


def run_database_name(purpose):
    """A database name of this run's own: `formulary_<purpose>_<pid>_<random>`."""
    return f"formulary_{purpose}_{RUN_TOKEN}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(directory):
    """A redis-server on a free loopback port, nothing written to disk; returns (process, port)."""
    import redis

    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is needed: `./run test` installs it")
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            return process, port
        except redis.exceptions.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


_redis = {}


def redis_url(db=0):
    """`redis://` address of database `db` on this run's own Redis (started on first use)."""
    if "port" not in _redis:
        directory = tempfile.mkdtemp(prefix="formulary-test-redis-")
        process, port = start_redis(directory)
        _redis.update(process=process, port=port)

        def stop():
            process.kill()
            process.wait()
            shutil.rmtree(directory, ignore_errors=True)

        atexit.register(stop)
    return f"redis://127.0.0.1:{_redis['port']}/{db}"


PG_BIN = Path(os.environ.get("FORMULARY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class OwnPostgres:
    """A PostgreSQL cluster of the test's own, in a temporary folder on a free port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
    system user (Debian's packages create it). Trust authentication on loopback only.
    """

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"no initdb in {PG_BIN} (set FORMULARY_TEST_PG_BIN)")
        self.port = free_port()
        # Not under pytest's tmp_path: as root that folder is closed to the postgres user.
        self.directory = Path(tempfile.mkdtemp(prefix="formulary-test-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.run_as = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args):
        return subprocess.run([*self.run_as, *args], check=True, capture_output=True, text=True, timeout=120)

    def initdb(self):
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self):
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self):
        return (self.data / "postmaster.pid").exists()

    def destroy(self):
        if self.is_running():
            subprocess.run(
                [*self.run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.directory, ignore_errors=True)
