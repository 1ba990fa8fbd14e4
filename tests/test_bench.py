"""Smoke run of the benchmark script end to end on a tiny formulary (no timing asserts).

It uses its own PostgreSQL database (never the pytest test database) and checks that the
script drops it afterwards. Skipped only when wrk or gunicorn cannot be had at all
(the script installs wrk with apt-get and gunicorn from requirements.txt when it can).
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PAGES, TARGETS, UNAVAILABLE  # noqa: E402


def server_url():
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/formulary"))
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        pytest.skip("The benchmark needs PostgreSQL (DATABASE_URL is not a PostgreSQL URL).")
    return f"postgres://{url.netloc}"


def database_exists(server, name):
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def test_benchmark_script_runs_end_to_end_on_a_tiny_formulary(tmp_path):
    server = server_url()
    db_name = f"formulary_bench_smoke_{os.getpid()}"
    report, raw = tmp_path / "benchmarks.md", tmp_path / "results.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--entries",
        "20",
        "--runs",
        "2",
        "--long-versions",
        "8",
        "--duration",
        "1",
        "--connections",
        "1",
        "--db",
        db_name,
        "--server",
        server,
        "--out",
        str(report),
        "--json",
        str(raw),
    ]
    result = None
    try:
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        if database_exists(server, db_name):  # only if the script failed before its own clean-up
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            stderr = result.stderr[-3000:] if result else ""
            pytest.fail(f"The benchmark left its database {db_name} behind.\n{stderr}")
    if result.returncode == UNAVAILABLE:
        pytest.skip(f"wrk or gunicorn unavailable: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr[-5000:]

    text = report.read_text()
    for _key, label in PAGES:
        assert f"| {label} |" in text
    for label, _key, _check in TARGETS:
        assert f"| {label} |" in text
    for op in ("save", "submit", "approve and publish", "compare two versions"):
        assert f"| {op} |" in text
    assert "Command: `" in text and "cores" in text and "memory per worker" in text

    figures = json.loads(raw.read_text())
    stage = figures["stages"][-1]
    assert stage["measure"]["entries"] == 20
    assert set(stage["wrk"]) == {key for key, _label in PAGES}
    assert all(w["requests"] > 0 for w in stage["wrk"].values())
    assert stage["measure"]["pages"]["entry"]["status"] == 200
    assert len(stage["memory"]["workers"]) == 2
    assert not database_exists(server, db_name)
