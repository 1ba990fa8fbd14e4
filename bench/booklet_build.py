#!/usr/bin/env python3
"""Booklet build cost and the home page under load while a rebuild runs.

    DATABASE_URL=postgres://…/any .venv/bin/python bench/booklet_build.py --entries 100

On a database of its own (`<prefix>bench_booklet`, dropped afterwards) with `--entries`
synthetic entries (`manage.py generate_formulary`):

1. builds the whole-formulary booklet in each language in a fresh process, as the worker does
   (`booklet_store.build`, one layout process, no laid-out parts to reuse), and reports its
   time and the process's peak memory (ru_maxrss, Django loaded included) per 100 entries;
2. starts one gunicorn server as the systemd unit does (2 sync workers) and loads the home
   page with 8 connections (a Python load generator: p95 needs every latency) for --seconds,
   first idle, then while a whole-formulary rebuild runs beside it.

Prints the figures as JSON; docs/benchmarks.md records a run.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy_processes import AppServer, unit_environment  # noqa: E402

BUILD = """
import json, resource, time
from monographs import booklet_store
from monographs.models import BookletPart, BuiltBooklet
BookletPart.objects.all().delete()  # lay every part out: the cost of a cold build
BuiltBooklet.objects.all().delete()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
built = booklet_store.build("", "{language}", worker_count=1)
print("RESULT", json.dumps({{"seconds": time.monotonic() - started, "bytes": built.size,
    "rss_before_mb": before / 1024, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def manage(env, *args):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return result.stdout


def build(env, language):
    out = manage(env, "shell", "-c", BUILD.format(language=language))
    return json.loads(out.split("RESULT", 1)[1])


def load(url, seconds, connections=8):
    """Latencies (ms) of GETs of `url` from `connections` threads for `seconds`."""
    latencies, errors = [], []
    stop = time.monotonic() + seconds

    def run():
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=30) as response:  # nosec B310 loopback
                    response.read()
                latencies.append((time.monotonic() - started) * 1000)
            except Exception as exc:  # counted, not hidden
                errors.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20, help="load duration per phase")
    options = parser.parse_args()
    base = os.environ["DATABASE_URL"]
    server = base.rsplit("/", 1)[0]
    name = f"{os.environ.get('FORMULARY_TEST_DB_PREFIX', 'formulary_')}bench_booklet"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    static_root = tempfile.mkdtemp(prefix="static-")
    environment = unit_environment(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"{server}/{name}",
        REDIS_URL=os.environ.get("FORMULARY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
        STATIC_ROOT=static_root,
        CONN_MAX_AGE="0",
        BEHIND_TLS_PROXY="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        FORMULARY_BOOKLET_WORKERS="1",
    )
    env = {**os.environ, **environment, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    results = {"entries": options.entries, "cores": os.cpu_count()}
    app = None
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        manage(env, "generate_formulary", "--entries", str(options.entries), "--versions", "1", "--quiet")
        for language in ("en", "zh-hant"):
            figures = build(env, language)
            figures["seconds_per_100"] = round(figures["seconds"] * 100 / options.entries, 1)
            results[f"build_{language}"] = figures
            print(language, figures, file=sys.stderr)
        app = AppServer(environment).start()
        home = app.url + "/"
        urllib.request.urlopen(home).read()  # nosec B310 loopback
        results["home_idle"] = load(home, options.seconds)
        print("idle", results["home_idle"], file=sys.stderr)
        rebuild = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", BUILD.format(language="en")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(3)  # past Django's start-up, into the layout
        results["home_during_rebuild"] = load(home, options.seconds)
        results["rebuild_still_running_at_end"] = rebuild.poll() is None
        print("during rebuild", results["home_during_rebuild"], file=sys.stderr)
        rebuild.wait()
    finally:
        if app:
            app.stop()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
