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
NGINX = "/usr/sbin/nginx"

CACHE_HEADER = "X-Formulary-Cache"  # "hit" or "miss" on public pages when the shared cache is on


def _search_p95_limit(stage):
    """The issue's search target: p95 ≤ 25 ms at 5,000 entries, ≤ 50 ms at 20,000."""
    return 25 if stage["measure"]["entries"] < 10000 else 50


def _search_target(key):
    return lambda r: r["wrk"]["off"][key]["p95_ms"] <= _search_p95_limit(r)


SEARCH_CLASSES = [
    ("search_exact", "exact generic names"),
    ("search_brand", "brand names"),
    ("search_misspelling", "misspelt names"),
    ("search_body_word", "words in section text"),
    ("search_registration", "registration numbers"),
    ("search_chinese", "Chinese names"),
]

TARGETS = [
    # (label, what, check) — evaluated on the largest size
    ("entry page, cache on: ≥ 50 % of baseline", "entry:on", lambda r: r["wrk"]["on"]["entry"]["ratio"] >= 0.50),
    (
        "entry page, cache off, one entry: ≥ 10 % of baseline",
        "entry:off",
        lambda r: r["wrk"]["off"]["entry"]["ratio"] >= 0.10,
    ),
    (
        "A–Z (every letter and page), cache on: ≥ 40 % of baseline",
        "a_z_rotating:on",
        lambda r: r["wrk"]["on"]["a_z_rotating"]["ratio"] >= 0.40,
    ),
    *(
        (f"search p95, cache off, {label}: ≤ 25 ms at 5,000 / ≤ 50 ms at 20,000", f"{key}:off", _search_target(key))
        for key, label in SEARCH_CLASSES
    ),
    (
        "cached entry page through nginx (two servers): ≥ 40 % of baseline through nginx",
        "nginx",
        lambda r: r["nginx"]["two"]["entry"]["ratio"] >= 0.40,
    ),
    (
        "publication visible on every server ≤ 1 s after approval",
        "publication",
        lambda r: r["publication"]["worst_ms"] <= 1000,
    ),
    (
        "entry page queries constant and ≤ 8",
        "queries",
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
    ("a_z_rotating", "A–Z list (every letter and page)"),
    *((key, f"search: {label}") for key, label in SEARCH_CLASSES),
]
CACHE_MODES = [("off", "cache off"), ("on", "shared cache on (Redis)")]
# Through nginx: the bare view and the entry page, with one app server and with two.
NGINX_PAGES = [
    ("baseline", "bare Django view"),
    ("entry", "entry page (one entry)"),
    ("entry_rotating", "entry page (500 entries)"),
]

LUA = r"""
local paths = {%(paths)s}
local threads = {}
local i = 0
hits, misses = 0, 0
setup = function(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end
init = function(args)
  i = offset or 0
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
response = function(status, headers, body)
  local v = headers["%(header)s"] or headers[string.lower("%(header)s")]
  if v == "hit" then hits = hits + 1 elseif v == "miss" then misses = misses + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local h, m = 0, 0
  for _, t in ipairs(threads) do
    h = h + (t:get("hits") or 0)
    m = m + (t:get("misses") or 0)
  end
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"errors_connect": %%d, "errors_read": %%d, "errors_write": %%d, "errors_status": %%d, "errors_timeout": %%d, ' ..
    '"cache_hits": %%d, "cache_misses": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, h, m))
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


def bench_env(server_url, db_name, redis_url=""):
    env = {
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
    # The shared cache (and the throttles' counters) in Redis only when asked: "cache on".
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def redis_available(redis_url):
    """Empty the benchmark's Redis database (each cache-on run starts cold); False if unreachable."""
    if not redis_url:
        return False
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1).flushdb()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means: measure without the cache
        log(f"Redis at {redis_url} unavailable ({exc}); the cache-on runs are skipped")
        return False


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

    def __init__(self, gunicorn, env, port, workers, access_log=None):
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        # The access log, when asked for, holds one word per request: the cache header's value.
        logging_args = (
            ["--access-logfile", str(access_log), "--access-logformat", f"%({{{CACHE_HEADER.lower()}}}o)s"]
            if access_log
            else []
        )
        self.access_log = access_log
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
                *logging_args,
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

    def cache_counts(self):
        """Requests this server logged, by the value of the cache header (hit, miss, - for none)."""
        counts = {}
        if self.access_log and Path(self.access_log).exists():
            for line in Path(self.access_log).read_text().split():
                counts[line] = counts.get(line, 0) + 1
        return counts

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
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths), "header": CACHE_HEADER})
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
        "paths": len(paths),
        "cache_hits": data["cache_hits"],
        "cache_misses": data["cache_misses"],
        # Share of responses the shared cache answered (None: the app sent no cache header).
        "hit_ratio": round(data["cache_hits"] / (data["cache_hits"] + data["cache_misses"]), 3)
        if data["cache_hits"] + data["cache_misses"]
        else None,
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


def paths_for(key, measured):
    if key == "entry_rotating":
        return measured["rotating_entry_paths"]
    if key == "a_z_rotating":
        return measured["a_z_paths"]
    if key in measured.get("search_paths", {}):
        return measured["search_paths"][key]
    return [measured["paths"][key]]


def with_ratios(loads):
    baseline_rps = loads["baseline"]["rps"]
    for w in loads.values():
        w["ratio"] = round(w["rps"] / baseline_rps, 3) if baseline_rps else 0.0
    return loads


def load_pages(gunicorn, env, args, measured, workdir, load_during, mode):
    """One server (--workers sync workers); every page of PAGES under wrk; its workers' memory."""
    server_proc = Server(gunicorn, env, args.port or free_port(), args.workers)
    loads = {}
    try:
        server_proc.wait_ready(measured["paths"]["baseline"])
        for key, _label in PAGES:
            paths = paths_for(key, measured)
            log(f"wrk {key} (cache {mode}): {paths[0]}{f' … {len(paths)} paths' if len(paths) > 1 else ''}")
            load_during[f"{key}:{mode}"] = busy_processes(server_proc)
            loads[key] = run_wrk(
                wrk_path(), server_proc.url, paths, args.duration, args.connections, args.threads, workdir
            )
        loads["_memory"] = server_proc.memory()
    finally:
        server_proc.stop()
    memory = loads.pop("_memory", None)
    return with_ratios(loads) | {"_memory": memory}


def load_through_nginx(gunicorn, env, args, measured, workdir):
    """nginx (deploy/nginx/formulary.conf) in front of one, then two app servers, shared cache on;
    per-server hit ratios from each server's access log; then how soon an approval shows everywhere."""
    sys.path.insert(0, str(ROOT))
    from tests.deploy_processes import Nginx

    static_root = Path(os.environ.get("BENCH_STATIC_ROOT") or ROOT / "bench" / "out" / "static")
    results = {}
    publication = None
    for layout, count in (("one", 1), ("two", 2)):
        redis_available(args.redis_url)
        servers = [
            Server(gunicorn, env, free_port(), args.workers, access_log=Path(workdir) / f"access-{layout}-{i}.log")
            for i in range(count)
        ]
        proxy = None
        try:
            for s in servers:
                s.wait_ready(measured["paths"]["baseline"])
            proxy = Nginx(upstream_ports=[s.port for s in servers], static_root=static_root).start()
            loads = {}
            for key, _label in NGINX_PAGES:
                before = [s.cache_counts() for s in servers]
                paths = paths_for(key, measured)
                log(f"wrk {key} through nginx, {count} server(s)")
                loads[key] = run_wrk(
                    wrk_path(), proxy.url, paths, args.duration, args.connections, args.threads, workdir
                )
                loads[key]["per_server"] = [
                    _counts_delta(b, s.cache_counts()) for b, s in zip(before, servers, strict=True)
                ]
            results[layout] = with_ratios(loads)
            if layout == "two":
                out = Path(workdir) / "publication.json"
                run(
                    [
                        PYTHON,
                        "-m",
                        "bench.publication",
                        "--servers",
                        ",".join(s.url for s in servers),
                        "--runs",
                        args.publication_runs,
                        "--output",
                        out,
                    ],
                    env,
                )
                publication = json.loads(out.read_text())
        finally:
            if proxy:
                proxy.stop()
            for s in servers:
                s.stop()
    return results, publication


def _counts_delta(before, after):
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    requests = sum(delta.values())
    hits = delta.get("hit", 0)
    answered = hits + delta.get("miss", 0)
    return {"requests": requests, "hits": hits, "hit_ratio": round(hits / answered, 3) if answered else None}


_WRK = []


def wrk_path():
    if not _WRK:
        _WRK.append(ensure_wrk())
    return _WRK[0]


# --- Report ------------------------------------------------------------------------------------


def _fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _ratio(w):
    return f"{w['ratio'] * 100:.0f} %" if w and "ratio" in w else "–"


def _hits(w):
    if not w:
        return "–"
    return "n.a." if w.get("hit_ratio") is None else f"{w['hit_ratio'] * 100:.0f} %"


def busy_summary(stages):
    """Which runs other processes competed with (a CPU share of 50 % or more just before), at most 8."""
    runs = [
        (f"{s['measure']['entries']:,}/{key}", v["busy"])
        for s in stages
        for key, v in s.get("load_during", {}).items()
        if sum(int(b.rsplit(" ", 2)[-2]) for b in v["busy"]) >= 50
    ]
    if not runs:
        return "no other process was busy just before any run"
    listed = "; ".join(f"{key} ({', '.join(busy)})" for key, busy in runs[:8])
    more = f"; and {len(runs) - 8} more" if len(runs) > 8 else ""
    total = sum(len(s.get("load_during", {})) for s in stages)
    return f"other processes were busy just before {len(runs)} of {total} runs: {listed}{more}"


def render_report(results):
    stages = results["stages"]
    last = stages[-1]
    short, long_ = results["versions"], results["long_versions"]
    modes = [(m, label) for m, label in CACHE_MODES if m in last["wrk"]]
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
        f"Load: gunicorn, {results['workers']} sync workers per server, DEBUG=0, on 127.0.0.1; wrk from a second "
        f"process, {results['threads']} thread(s), {results['connections']} connections, {results['duration']} s "
        "per page after a 1 s warm-up, rotating over the addresses named in each row (a Lua script). "
        "Each page is loaded twice: with the shared cache off (no REDIS_URL) and on (REDIS_URL, emptied first). "
        f"Hit ratio = share of responses with `{CACHE_HEADER}: hit` among those with the header "
        "(n.a.: the app sent none). Data generated with the default shape: 6 products per entry, 3 strengths per "
        f"product, {short} versions of history per entry, about 11 sections each; each size step adds "
        f"{3 * results['runs']} entries with {long_} versions for the history figures.",
        "",
        "1-minute load average before the load runs: "
        + ", ".join(f"{s['measure']['entries']:,} entries: {s.get('load_before', '–')}" for s in stages)
        + "; "
        + busy_summary(stages)
        + ".",
        "",
        f"### Pages at {last['measure']['entries']:,} entries",
        "",
        "| page | "
        + " | ".join(f"{label}: req/s | p95 ms | vs baseline" for _m, label in modes)
        + (" | hit ratio" if any(m == "on" for m, _l in modes) else "")
        + " | SQL queries (cold / warm) | errors |",
        "|---|"
        + "---:|---:|---:|" * len(modes)
        + ("---:|" if any(m == "on" for m, _l in modes) else "")
        + "---:|---:|",
    ]
    for key, label in PAGES:
        page = last["measure"]["pages"].get({"entry_rotating": "entry", "a_z_rotating": "a_z"}.get(key, key), {})
        queries = f"{page.get('queries_cold', '–')} / {page.get('queries_warm', '–')}" if page else "–"
        cells, errors = [], 0
        for mode, _l in modes:
            w = last["wrk"][mode].get(key)
            if w is None:
                cells += ["–", "–", "–"]
                continue
            cells += [_fmt(w["rps"]), _fmt(w["p95_ms"], 2), _ratio(w)]
            errors += w["errors"]
        if any(m == "on" for m, _l in modes):
            cells.append(_hits(last["wrk"]["on"].get(key)))
        paths = last["wrk"][modes[0][0]].get(key, {}).get("paths", 1) if modes else 1
        name = f"{label} ({paths} addresses)" if paths > 1 else label
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {queries} | {errors} |")

    lines += [
        "",
        "Entry page SQL queries (cold cache) over 20 random live entries: "
        + ", ".join(str(n) for n in last["measure"]["entry_query_counts_20_entries"])
        + f"; on an entry with {long_} versions: {last['measure']['pages']['entry_long_history']['queries_cold']}.",
        "",
    ]
    in_process = last["measure"].get("search_in_process", {})
    queries = last["measure"].get("search_queries", {})
    if in_process:
        lines += [
            f"### Search by query class at {last['measure']['entries']:,} entries",
            "",
            "Each class rotates over its own distinct queries (drawn from 1,000 random live entries); "
            "in-process = what the search view asks for one query (the registration-number short cut, or the "
            "first page of ranked results with why each matched), median and slowest over the class.",
            "",
            "| class | queries | examples | in-process median (max) ms | "
            + " | ".join(f"{label}: p50 / p95 ms" for _m, label in modes)
            + " |",
            "|---|---:|---|---:|" + "---:|" * len(modes),
        ]
        for key, label in SEARCH_CLASSES:
            if key not in in_process:
                continue
            examples = ", ".join(f"`{q}`" for q in queries.get(key, [])[:3])
            cells = [
                f"{_fmt(last['wrk'][m][key]['p50_ms'], 2)} / {_fmt(last['wrk'][m][key]['p95_ms'], 2)}"
                if key in last["wrk"][m]
                else "–"
                for m, _l in modes
            ]
            lines.append(
                f"| {label} | {len(queries.get(key, []))} | {examples} | "
                f"{_fmt(in_process[key]['median_ms'], 2)} ({_fmt(in_process[key]['max_ms'], 1)}) | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("")

    nginx = last.get("nginx")
    if nginx:
        lines += [
            f"### Behind nginx at {last['measure']['entries']:,} entries (shared cache on)",
            "",
            "nginx with `deploy/nginx/formulary.conf` (test ports) in front of one, then two gunicorn servers "
            f"of {results['workers']} workers each, all on this machine; ratios to the bare view through the same "
            "nginx and servers; hit ratio per server from each server's access log.",
            "",
            "| page | one server: req/s | p95 ms | vs baseline | two servers: req/s | p95 ms | vs baseline | "
            "hit ratio per server (requests) |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for key, label in NGINX_PAGES:
            one, two = nginx.get("one", {}).get(key), nginx.get("two", {}).get(key)
            per_server = ", ".join(f"{_hits(p)} ({p['requests']:,})" for p in two.get("per_server", [])) if two else "–"
            row = []
            for w in (one, two):
                row += [_fmt(w["rps"]), _fmt(w["p95_ms"], 2), _ratio(w)] if w else ["–", "–", "–"]
            lines.append(f"| {label} | " + " | ".join(row) + f" | {per_server} |")
        lines.append("")
    publication = last.get("publication")
    if publication:
        per = "; ".join(
            f"server {i + 1}: {', '.join(_fmt(v, 0) if v is not None else 'never' for v in values)} ms"
            for i, values in enumerate(publication["ms_per_server"].values())
        )
        lines += [
            f"Publication: {publication['runs']} approvals, each timed from the approve call until each server "
            f"(polled every 5 ms) served the new text: {per}; worst {_fmt(publication['worst_ms'], 0)} ms.",
            "",
        ]

    lines += [
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

    lines += ["", "### Growth with the formulary's size (cache off)", ""]
    header = "| figure | " + " | ".join(f"{s['measure']['entries']:,} entries" for s in stages) + " |"
    lines += [header, "|---|" + "---:|" * len(stages)]
    for key, label in PAGES:
        lines.append(
            f"| {label}: req/s (p95 ms) | "
            + " | ".join(
                f"{_fmt(s['wrk']['off'][key]['rps'])} ({_fmt(s['wrk']['off'][key]['p95_ms'], 2)})"
                if key in s["wrk"].get("off", {})
                else "–"
                for s in stages
            )
            + " |"
        )
    for key, label in PAGES:
        if key not in ("baseline", "entry", "a_z") and key not in ("search_exact",):
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
        + " | ".join(
            ", ".join(f"{w.get('VmRSS')} ({w.get('VmHWM')})" for w in s.get("memory", {}).get("workers", []))
            for s in stages
        )
        + " |"
    )
    lines.append("| database size | " + " | ".join(s["db_size"] for s in stages) + " |")
    lines.append(
        "| generation time (this step) | " + " | ".join(f"{s['generate_seconds']:.0f} s" for s in stages) + " |"
    )

    # Targets at every size from 5,000 entries (the search limit differs with the size), or the largest.
    judged = [s for s in stages if s["measure"]["entries"] >= 5000 and s is not last] + [last]
    for stage in judged:
        lines += [
            "",
            f"### Targets at {stage['measure']['entries']:,} entries",
            "",
            "| target | result | met |",
            "|---|---|---|",
        ]
        for label, key, check in TARGETS:
            try:
                ok = check({**stage, "short": str(short)})
            except (KeyError, TypeError, ValueError):
                ok = None
            try:
                figure = target_figure(stage, key, str(short))
            except (KeyError, TypeError, ValueError):
                figure = "not measured"
            lines.append(f"| {label} | {figure} | {'yes' if ok else ('no' if ok is False else 'n/a')} |")
    lines += ["", END_MARK]
    return "\n".join(lines) + "\n"


def target_figure(stage, key, short):
    if key in ("approve", "compare"):
        return f"{stage['measure']['ops'][short][key]} ms"
    if key == "queries":
        counts = stage["measure"]["entry_query_counts_20_entries"]
        return f"queries {', '.join(map(str, counts))}"
    if key == "publication":
        return f"worst {stage['publication']['worst_ms']} ms"
    if key == "nginx":
        return f"{_ratio(stage['nginx']['two']['entry'])} of baseline through nginx"
    page, mode = key.split(":")
    w = stage["wrk"][mode][page]
    if page.startswith("search"):
        return f"p95 {w['p95_ms']} ms (limit {_search_p95_limit(stage)} ms)"
    return f"{_ratio(w)} of baseline (hit ratio {_hits(w)})" if mode == "on" else f"{_ratio(w)} of baseline"


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
    global CACHE_HEADER  # --cache-header: read by the wrk script and the servers' access log format
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
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="Redis database for the cache-on runs (emptied before each); empty to measure without it.",
    )
    parser.add_argument("--queries-per-class", type=int, default=50, help="Distinct search queries per class.")
    parser.add_argument(
        "--cache-header",
        default=CACHE_HEADER,
        help=f"Response header whose value hit or miss says whether the shared cache answered (default {CACHE_HEADER}).",
    )
    parser.add_argument("--publication-runs", type=int, default=5, help="Approvals timed across the servers.")
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
    CACHE_HEADER = args.cache_header

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
                    "--queries-per-class",
                    args.queries_per_class,
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
            redis_ok = redis_available(args.redis_url)
            with tempfile.TemporaryDirectory() as workdir:
                for mode, _label in CACHE_MODES:
                    if mode == "on" and not redis_ok:
                        continue
                    redis_available(args.redis_url if mode == "on" else "")
                    mode_env = bench_env(server, args.db, args.redis_url if mode == "on" else "")
                    stage["wrk"][mode] = load_pages(
                        gunicorn, mode_env, args, measured, workdir, stage.setdefault("load_during", {}), mode
                    )
                    if mode == "off":
                        stage["memory"] = stage["wrk"][mode].pop("_memory")
                    else:
                        stage["wrk"][mode].pop("_memory")
                if Path(NGINX).exists():
                    stage["nginx"], stage["publication"] = load_through_nginx(
                        gunicorn,
                        bench_env(server, args.db, args.redis_url if redis_ok else ""),
                        args,
                        measured,
                        workdir,
                    )
                else:
                    log(f"{NGINX} not installed: the two-server runs behind nginx are skipped")
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
