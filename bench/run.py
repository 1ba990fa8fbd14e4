#!/usr/bin/env python3
"""Benchmark the formulary at Hong Kong hospital scale against a bare-Django baseline.

One command (from the project root):

    .venv/bin/python bench/run.py --entries 5000

For each size (by default 500, then the full --entries) it:

1. creates (once) a separate PostgreSQL database, migrates it, collects static files;
2. generates synthetic entries up to that size (`manage.py generate_formulary`), plus
   entries with a long history (--long-versions) for the history-length figures;
3. in-process (`bench/measure.py`): SQL queries per page with CaptureQueriesContext and the
   test Client, and the median time of save, submit, approve-and-publish and compare;
4. starts gunicorn (2 sync workers, DEBUG=0, loopback) and loads each page with wrk from a
   second process: the bare baseline view, the entry page, the A–Z list and three searches;
5. reads each worker's memory (VmRSS) from /proc.

Then it writes the tables into docs/benchmarks.md (between the bench:results markers, so
the analysis around them stays) and the raw figures to bench/out/results.json, and drops
the database unless --keep-db. Exit code 3 means wrk or gunicorn is unavailable.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_MARK = "<!-- bench:results:start -->"
END_MARK = "<!-- bench:results:end -->"
UNAVAILABLE = 3

TARGETS = [
    # (label, what, check) — evaluated on the largest size
    ("entry page throughput ≥ 50 % of baseline", "entry", lambda r: r["wrk"]["entry"]["ratio"] >= 0.50),
    ("A–Z page throughput ≥ 40 % of baseline", "a_z", lambda r: r["wrk"]["a_z"]["ratio"] >= 0.40),
    ("search p95 ≤ 50 ms (exact name)", "search_exact", lambda r: r["wrk"]["search_exact"]["p95_ms"] <= 50),
    (
        "search p95 ≤ 50 ms (misspelling)",
        "search_misspelling",
        lambda r: r["wrk"]["search_misspelling"]["p95_ms"] <= 50,
    ),
    ("search p95 ≤ 50 ms (body-text word)", "search_body_word", lambda r: r["wrk"]["search_body_word"]["p95_ms"] <= 50),
    (
        "entry page queries constant and ≤ 8",
        "entry",
        lambda r: (
            len(set(r["measure"]["entry_query_counts_20_entries"])) == 1
            and max(r["measure"]["entry_query_counts_20_entries"]) <= 8
            and r["measure"]["pages"]["entry"]["queries_cold"] <= 8
        ),
    ),
    ("approve-and-publish ≤ 200 ms", "approve", lambda r: r["measure"]["ops"][r["short"]]["approve"] <= 200),
    ("compare of two versions ≤ 300 ms", "compare", lambda r: r["measure"]["ops"][r["short"]]["compare"] <= 300),
]

PAGES = [
    ("baseline", "bare Django view (baseline)"),
    ("entry", "entry page (one entry)"),
    ("entry_rotating", "entry page (500 different entries)"),
    ("a_z", "A–Z list (one letter, page 1)"),
    ("search_exact", "search: exact generic name"),
    ("search_misspelling", "search: misspelt name"),
    ("search_body_word", "search: word in section text"),
]

LUA = r"""
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"errors_connect": %%d, "errors_read": %%d, "errors_write": %%d, "errors_status": %%d, "errors_timeout": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def log(message):
    sys.stderr.write(f"[bench {datetime.datetime.now():%H:%M:%S}] {message}\n")
    sys.stderr.flush()


class Unavailable(Exception):
    pass


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found; installing it with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
    if not shutil.which("wrk"):
        raise Unavailable(
            "wrk is not installed and could not be installed (needs root and apt-get: `apt-get install wrk`)."
        )
    return shutil.which("wrk")


def ensure_gunicorn():
    gunicorn = Path(PYTHON).with_name("gunicorn")
    if not gunicorn.exists():
        pin = next(
            (
                line.strip()
                for line in (ROOT / "requirements.txt").read_text().splitlines()
                if line.startswith("gunicorn")
            ),
            "gunicorn",
        )
        log(f"gunicorn not found; installing {pin}")
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", pin], capture_output=True)
    if not gunicorn.exists():
        raise Unavailable(f"gunicorn is not installed in {Path(PYTHON).parent} (pip install -r requirements.txt).")
    return str(gunicorn)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_connect(server_url):
    import psycopg

    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def create_database(server_url, name):
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"Unsafe database name: {name!r}")
    with admin_connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url, name):
    with admin_connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum_analyze(server_url, db_name):
    """Fresh statistics after a bulk load, as autovacuum would give a real database."""
    import psycopg

    with psycopg.connect(f"{server_url}/{db_name}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def bench_env(server_url, db_name):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{server_url}/{db_name}",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        # Production refuses to start without it; notification links are not measured.
        "FORMULARY_SITE_URL": "http://127.0.0.1",
        # wrk searches from one address far faster than any person; the search limit is not measured.
        "FORMULARY_SEARCH_THROTTLE_RATE": "off",
        # Notification emails are built and kept in memory instead of printed to the console.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONPATH": str(ROOT),
    }


def run(cmd, env, capture=False, timeout=3600):
    log("$ " + " ".join(shlex.quote(str(c)) for c in cmd))
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=ROOT,
        env=env,
        timeout=timeout,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if result.returncode != 0:
        raise SystemExit(f"Command failed ({result.returncode}): {' '.join(map(str, cmd))}")
    return result.stdout


def entry_count(server_url, db_name):
    import psycopg

    with psycopg.connect(f"{server_url}/{db_name}") as conn:
        return conn.execute("SELECT count(*) FROM monographs_entry").fetchone()[0]


class Server:
    """gunicorn with N sync workers on loopback; stopped on exit."""

    def __init__(self, gunicorn, env, port, workers):
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [
                gunicorn,
                "formulary.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(ROOT),
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
        )

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited during start-up")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:  # nosec B310 loopback
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise SystemExit("gunicorn did not answer in time")

    def workers(self):
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def memory(self):
        def status(pid):
            values = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = round(int(value.split()[0]) / 1024, 1)  # kB -> MiB
            return values

        return {"master": status(self.proc.pid), "workers": [status(pid) for pid in self.workers()]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_quiet(timeout, threshold):
    """Wait (up to `timeout` s) for the machine to be idle; return the 1-minute load average then."""
    deadline = time.monotonic() + timeout
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(10)
    load = round(os.getloadavg()[0], 2)
    log(f"1-minute load average before the load runs: {load}")
    return load


def busy_processes(server, interval=0.5):
    """Other processes that used CPU in a short sample just before a load run (not ours, not PostgreSQL)."""

    def ticks():
        out = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                head, tail = stat.read_text().rsplit(")", 1)
                fields = tail.split()
                out[int(stat.parent.name)] = (head.split("(", 1)[1], int(fields[11]) + int(fields[12]))
            except (OSError, IndexError, ValueError):
                continue
        return out

    ours = {os.getpid(), server.proc.pid, *server.workers()}
    before = ticks()
    time.sleep(interval)
    after = ticks()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (name, t) in after.items():
        if pid in ours or pid not in before or name.startswith("postgres"):
            continue
        share = (t - before[pid][1]) / hz / interval
        if share >= 0.1:
            busy.append(f"{name} {share * 100:.0f} %")
    return {"load": round(os.getloadavg()[0], 2), "busy": busy}


def run_wrk(wrk, base_url, paths, duration, connections, threads, workdir):
    script = Path(workdir) / "paths.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)})
    # Short warm-up so every worker has loaded templates and opened its database connection.
    subprocess.run(
        [wrk, "-t1", f"-c{min(2, connections)}", "-d1s", "-s", str(script), base_url], capture_output=True, text=True
    )
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        base_url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    data = json.loads(line[len("WRKJSON ") :])
    seconds = data["duration_us"] / 1e6
    errors = sum(v for k, v in data.items() if k.startswith("errors_"))
    return {
        "rps": round(data["requests"] / seconds, 1),
        "requests": data["requests"],
        "p50_ms": round(data["p50_us"] / 1000, 2),
        "p95_ms": round(data["p95_us"] / 1000, 2),
        "p99_ms": round(data["p99_us"] / 1000, 2),
        "max_ms": round(data["max_us"] / 1000, 2),
        "errors": errors,
        "non_2xx": data["errors_status"],
    }


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_kb / 1024 / 1024, 1), "os": platform.platform()}


def software(server_url, db_name, wrk, gunicorn):
    import django
    import psycopg

    with psycopg.connect(f"{server_url}/{db_name}") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split("Copyright")[0]
    gunicorn_version = subprocess.run([gunicorn, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "wrk": wrk_version.strip(),
        "gunicorn": gunicorn_version,
    }


# --- Report ------------------------------------------------------------------------------------


def _fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def render_report(results):
    stages = results["stages"]
    last = stages[-1]
    short, long_ = results["versions"], results["long_versions"]
    lines = [
        START_MARK,
        "",
        f"Measured **{results['date']}** on {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['ram_gib']} GiB RAM ({results['machine']['os']}); "
        f"PostgreSQL {results['software']['postgresql']}, Python {results['software']['python']}, "
        f"Django {results['software']['django']}, {results['software']['gunicorn']}, {results['software']['wrk']}.",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Load: gunicorn, {results['workers']} sync workers, DEBUG=0, on 127.0.0.1; wrk from a second process, "
        f"{results['threads']} thread(s), {results['connections']} connections, {results['duration']} s per page "
        "after a 1 s warm-up. Data generated with the default shape: 6 products per entry, 3 strengths per "
        f"product, {short} versions of history per entry, about 11 sections each; each size step adds "
        f"{3 * results['runs']} entries with {long_} versions for the history figures.",
        "",
        "1-minute load average before the load runs: "
        + ", ".join(f"{s['measure']['entries']:,} entries: {s.get('load_before', '–')}" for s in stages)
        + "; other processes busy just before a page's run: "
        + (
            "; ".join(
                f"{key} ({', '.join(v['busy'])})"
                for s in stages
                for key, v in s.get("load_during", {}).items()
                if v["busy"]
            )
            or "none"
        )
        + ".",
        "",
        f"### Pages at {last['measure']['entries']:,} entries",
        "",
        "| page | req/s | p50 ms | p95 ms | p99 ms | vs baseline | SQL queries (cold / warm cache) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in PAGES:
        w = last["wrk"].get(key)
        page = last["measure"]["pages"].get("entry" if key == "entry_rotating" else key, {})
        queries = f"{page.get('queries_cold', '–')} / {page.get('queries_warm', '–')}" if page else "–"
        if w is None:
            lines.append(f"| {label} | – | – | – | – | – | {queries} | – |")
            continue
        lines.append(
            f"| {label} | {_fmt(w['rps'])} | {_fmt(w['p50_ms'], 2)} | {_fmt(w['p95_ms'], 2)} | "
            f"{_fmt(w['p99_ms'], 2)} | {w['ratio'] * 100:.0f} % | {queries} | {w['errors']} |"
        )
    lines += [
        "",
        "Entry page SQL queries (cold cache) over 20 random live entries: "
        + ", ".join(str(n) for n in last["measure"]["entry_query_counts_20_entries"])
        + f"; on an entry with {long_} versions: {last['measure']['pages']['entry_long_history']['queries_cold']}.",
        "",
        "Searches: "
        + "; ".join(
            f"{k.replace('search_', '')} `{v['query']}` → {v['hits']} hits (top: {', '.join(v['top']) or 'none'})"
            for k, v in last["measure"]["search_hits"].items()
        )
        + ".",
        "",
        "### Workflow operations (in-process, median)",
        "",
        "Save = one editor save of an entry with 11 sections and 6 products (18 strengths) that changes one section, "
        "recorded by django-reversion as one revision of the whole entry; submit and approve-and-publish = "
        "`monographs.workflow`; compare = `diffing.compare` of `snapshot_of_revision` of the entry's first and "
        "latest versions (both snapshots included).",
        "",
        "| operation | "
        + " | ".join(f"{s['measure']['entries']:,} entries, {v} versions" for s in stages for v in (short, long_))
        + " |",
        "|---|" + "---:|" * (2 * len(stages)),
    ]
    for op, label in (
        ("save", "save"),
        ("submit", "submit"),
        ("approve", "approve and publish"),
        ("compare", "compare two versions"),
    ):
        cells = []
        for s in stages:
            for v in (short, long_):
                cells.append(_fmt(s["measure"]["ops"][str(v)].get(op), 1) + " ms")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        "| runs (entries) | "
        + " | ".join(str(s["measure"]["ops"][str(v)]["runs"]) for s in stages for v in (short, long_))
        + " |"
    )

    lines += ["", "### Growth with the formulary's size", ""]
    header = "| figure | " + " | ".join(f"{s['measure']['entries']:,} entries" for s in stages) + " |"
    lines += [header, "|---|" + "---:|" * len(stages)]
    for key, label in PAGES:
        lines.append(
            f"| {label}: req/s (p95 ms) | "
            + " | ".join(
                f"{_fmt(s['wrk'][key]['rps'])} ({_fmt(s['wrk'][key]['p95_ms'], 2)})" if key in s["wrk"] else "–"
                for s in stages
            )
            + " |"
        )
    for key, label in PAGES:
        if key == "entry_rotating":
            continue
        lines.append(
            f"| {label}: SQL queries cold / warm | "
            + " | ".join(
                f"{s['measure']['pages'][key]['queries_cold']} / {s['measure']['pages'][key]['queries_warm']}"
                for s in stages
            )
            + " |"
        )
    lines.append(
        "| memory per worker, VmRSS MiB (peak VmHWM) | "
        + " | ".join(", ".join(f"{w.get('VmRSS')} ({w.get('VmHWM')})" for w in s["memory"]["workers"]) for s in stages)
        + " |"
    )
    lines.append("| database size | " + " | ".join(s["db_size"] for s in stages) + " |")
    lines.append(
        "| generation time (this step) | " + " | ".join(f"{s['generate_seconds']:.0f} s" for s in stages) + " |"
    )

    lines += [
        "",
        f"### Targets at {last['measure']['entries']:,} entries",
        "",
        "| target | result | met |",
        "|---|---|---|",
    ]
    for label, key, check in TARGETS:
        try:
            ok = check({**last, "short": str(short)})
        except (KeyError, TypeError, ValueError):
            ok = None
        figure = target_figure(last, key, str(short))
        lines.append(f"| {label} | {figure} | {'yes' if ok else ('no' if ok is False else 'n/a')} |")
    lines += ["", END_MARK]
    return "\n".join(lines) + "\n"


def target_figure(stage, key, short):
    if key in ("approve", "compare"):
        return f"{stage['measure']['ops'][short][key]} ms"
    if key == "entry" and "entry_query_counts_20_entries" in stage["measure"]:
        w = stage["wrk"]["entry"]
        counts = stage["measure"]["entry_query_counts_20_entries"]
        return f"{w['ratio'] * 100:.0f} % of baseline; queries {', '.join(map(str, counts))}"
    w = stage["wrk"][key]
    if key.startswith("search"):
        return f"p95 {w['p95_ms']} ms"
    return f"{w['ratio'] * 100:.0f} % of baseline"


def write_report(path, results):
    block = render_report(results)
    path = Path(path)
    if path.exists() and START_MARK in path.read_text():
        text = path.read_text()
        before, rest = text.split(START_MARK, 1)
        after = rest.split(END_MARK, 1)[1] if END_MARK in rest else ""
        path.write_text(before + block.rstrip("\n") + after)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Benchmarks\n\n" + block)


# --- Main --------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=5000, help="Final number of entries (default 5000).")
    parser.add_argument("--sizes", help="Comma-separated sizes to measure, e.g. 500,5000 (default: 500 and --entries).")
    parser.add_argument("--versions", type=int, default=5, help="Versions of history per generated entry.")
    parser.add_argument("--long-versions", type=int, default=50, help="Versions of the long-history entries.")
    parser.add_argument("--runs", type=int, default=15, help="Runs of each workflow operation (median).")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per page (default 10).")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8).")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2).")
    parser.add_argument("--port", type=int, default=0, help="Loopback port for gunicorn (default: a free one).")
    parser.add_argument(
        "--db", default="formulary_bench", help="Database to create and drop (default formulary_bench)."
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name.",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        help="Before each size's load runs, wait up to this many seconds for the 1-minute load average "
        "to fall below --quiet-load (other work on the machine skews the figures).",
    )
    parser.add_argument("--quiet-load", type=float, default=0.5)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="Report to write.")
    parser.add_argument("--json", default=str(ROOT / "bench" / "out" / "results.json"), help="Raw figures.")
    parser.add_argument("--keep-db", action="store_true", help="Keep the benchmark database afterwards.")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else sorted({min(500, args.entries), args.entries})
    # A background run stopped with SIGTERM still stops gunicorn and drops its database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        wrk = ensure_wrk()
        gunicorn = ensure_gunicorn()
    except Unavailable as exc:
        log(str(exc))
        return UNAVAILABLE

    server = args.server.rstrip("/")
    env = bench_env(server, args.db)
    results = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(
            shlex.quote(a)
            for a in [os.path.relpath(PYTHON, ROOT), "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "workers": args.workers,
        "connections": args.connections,
        "threads": args.threads,
        "duration": args.duration,
        "versions": args.versions,
        "long_versions": args.long_versions,
        "runs": args.runs,
        "stages": [],
    }
    started = time.monotonic()
    create_database(server, args.db)
    try:
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env)
        results["software"] = software(server, args.db, wrk, gunicorn)
        for size in sizes:
            log(f"=== {size} entries ===")
            stage_start = time.monotonic()
            missing = size - entry_count(server, args.db) - 3 * args.runs
            if missing > 0:
                run(
                    [
                        PYTHON,
                        "manage.py",
                        "generate_formulary",
                        "--entries",
                        missing,
                        "--versions",
                        args.versions,
                        "--seed",
                        args.seed,
                    ],
                    env,
                )
            generate_seconds = time.monotonic() - stage_start
            vacuum_analyze(server, args.db)
            load_before_measure = wait_quiet(args.wait_quiet, args.quiet_load)
            figures = Path(args.json).with_name(f"measure-{size}.json")
            figures.parent.mkdir(parents=True, exist_ok=True)
            run(
                [
                    PYTHON,
                    "-m",
                    "bench.measure",
                    "--runs",
                    args.runs,
                    "--versions",
                    args.versions,
                    "--long-versions",
                    args.long_versions,
                    "--seed",
                    args.seed + size,
                    "--output",
                    figures,
                ],
                env,
            )
            measured = json.loads(figures.read_text())
            stage = {
                "size": size,
                "measure": measured,
                "generate_seconds": generate_seconds,
                "wrk": {},
                "load_before_measure": load_before_measure,
            }
            stage["load_before"] = wait_quiet(args.wait_quiet, args.quiet_load)
            port = args.port or free_port()
            server_proc = Server(gunicorn, env, port, args.workers)
            try:
                server_proc.wait_ready(measured["paths"]["baseline"])
                with tempfile.TemporaryDirectory() as workdir:
                    for key, _label in PAGES:
                        paths = (
                            measured["rotating_entry_paths"] if key == "entry_rotating" else [measured["paths"][key]]
                        )
                        log(f"wrk {key}: {paths[0]}{' …' if len(paths) > 1 else ''} (load {os.getloadavg()[0]:.2f})")
                        stage.setdefault("load_during", {})[key] = busy_processes(server_proc)
                        stage["wrk"][key] = run_wrk(
                            wrk, server_proc.url, paths, args.duration, args.connections, args.threads, workdir
                        )
                stage["memory"] = server_proc.memory()
            finally:
                server_proc.stop()
            baseline_rps = stage["wrk"]["baseline"]["rps"]
            for w in stage["wrk"].values():
                w["ratio"] = round(w["rps"] / baseline_rps, 3) if baseline_rps else 0.0
            import psycopg

            with psycopg.connect(f"{server}/{args.db}") as conn:
                stage["db_size"] = conn.execute(
                    "SELECT pg_size_pretty(pg_database_size(current_database()))"
                ).fetchone()[0]
            results["stages"].append(stage)
            log(f"size {size} done in {time.monotonic() - stage_start:.0f} s")
    finally:
        if not args.keep_db:
            drop_database(server, args.db)
    results["seconds"] = round(time.monotonic() - started)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    write_report(args.out, results)
    log(f"report written to {args.out}, raw figures to {args.json} ({results['seconds']} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
