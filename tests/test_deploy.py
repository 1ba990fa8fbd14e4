"""Several app servers: deploy/ as an operator installs it.

Two gunicorn servers started with the systemd unit's command and the example environment,
on one PostgreSQL database and one Redis database, with nginx in front (rendered from
deploy/nginx/formulary.conf) when /usr/sbin/nginx is installed. A reviewer approves and
withdraws through server A's admin over HTTP; server B and nginx must show it on their
next request, and nothing answers 5xx.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.urls import reverse

from .deploy_processes import (
    ENV_EXAMPLE,
    NGINX,
    UNIT,
    AppServer,
    Nginx,
    Worker,
    nginx_test,
    read_environment_file,
    render_nginx,
    unit_command,
    unit_environment,
)
from .server_process import ROOT, Browser, form_fields, manage
from .suite_services import redis_url

needs_nginx = pytest.mark.skipif(
    not os.path.exists(NGINX), reason="nginx is not installed (./run test installs Debian's nginx)"
)
MARKER = "SECOND-EDITION-MARKER"

SETUP = f"""
from monographs import workflow
from tests.factories import edit, make_published, make_user
editor = make_user("deploy-editor", "Editors")
reviewer = make_user("deploy-reviewer", "Reviewers")
entry = make_published(
    "Deploytestamine",
    editor=editor,
    reviewer=reviewer,
    sections=[("overview", "", "First edition text."), ("storage", "Storage", "Store below 25 degrees.")],
)
entry = edit(entry, user=editor, first_section_body="Second edition text: {MARKER}.")
workflow.submit(entry=entry, user=editor, comment="Ready")
print("ENTRY", entry.pk, entry.slug)
other = make_published("Proxysavamine", editor=editor, reviewer=reviewer)
print("EDITABLE", other.pk)
"""


def get(url, headers=None):
    """(status, headers, body) of a GET, without following redirects or raising on 4xx/5xx."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 loopback
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# The configuration files.


def test_the_unit_runs_gunicorn_on_loopback_from_the_environment_file():
    unit = UNIT.read_text()
    assert "EnvironmentFile=/etc/formulary/env" in unit
    assert "ExecReload=/bin/kill -s HUP $MAINPID" in unit
    command = unit_command(8001)
    assert command[1] == "formulary.wsgi"
    assert command[command.index("--bind") + 1] == "127.0.0.1:8001"
    environment = unit_environment()
    # nginx appends one X-Forwarded-For entry: the app must believe exactly one.
    assert environment["FORMULARY_TRUSTED_PROXIES"] == "1"
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "FORMULARY_SITE_URL", "DATABASE_URL", "REDIS_URL"):
        assert name in environment, f"{ENV_EXAMPLE.name} lacks {name}"
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert "## Several app servers" in operations
    for name in ("deploy/nginx/formulary.conf", "formulary@.service", "formulary.env.example", "systemctl reload"):
        assert name in operations
    # Each instance its own control socket, in a runtime directory of its own.
    assert "RuntimeDirectory=formulary-%i" in unit
    assert command[command.index("--control-socket") + 1] == "/run/formulary-8001/gunicorn.ctl"
    assert unit_command(8002)[command.index("--control-socket") + 1] == "/run/formulary-8002/gunicorn.ctl"


def test_the_example_environment_reads_the_same_in_a_shell_and_in_systemd(tmp_path):
    """The install steps and the cron line source the file (`set -a; . file`); systemd reads it as
    EnvironmentFile=. With every optional line switched on, both must read the same values."""
    enabled = re.sub(r"^# ([A-Z][A-Z0-9_]*=)", r"\1", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)
    path = tmp_path / "env"
    path.write_text(enabled)
    systemd = read_environment_file(enabled)
    assert systemd["ADMINS"] == "Pharmacy IT <pharmacy-it@hospital.example>"
    script = 'set -eu; set -a; . "$1"; set +a; shift; for n in "$@"; do printf "%s\\0%s\\0" "$n" "${!n}"; done'
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(path), *systemd],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    parts = result.stdout.decode().split("\0")[:-1]
    assert dict(zip(parts[::2], parts[1::2], strict=True)) == systemd
    # And the settings accept what both read.
    code = "from django.conf import settings as s; print(s.ADMINS, s.CSRF_TRUSTED_ORIGINS)"
    result = manage("shell", "-c", code, **systemd)
    assert result.stdout.strip().splitlines()[-1] == (
        "[('Pharmacy IT', 'pharmacy-it@hospital.example')] "
        "['https://formulary.hospital.example', 'https://formulary.hospital.example:8443']"
    ), result.stderr


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path):
    tmp_path.chmod(0o755)
    config = render_nginx(tmp_path, listen_port=8080, upstream_ports=[8001, 8002], static_root=tmp_path)
    ok, output = nginx_test(config)
    assert ok, output
    site = (tmp_path / "formulary.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    # No page cache unless a site opts in.
    assert not re.search(r"^\s*proxy_cache\s", site, flags=re.MULTILINE)


@needs_nginx
def test_nginx_accepts_the_documented_opt_in_page_cache(tmp_path):
    tmp_path.chmod(0o755)
    config = render_nginx(
        tmp_path, listen_port=8080, upstream_ports=[8001, 8002], static_root=tmp_path, opt_in_cache=True
    )
    ok, output = nginx_test(config)
    assert ok, output
    assert re.search(r"^\s*proxy_cache formulary;", (tmp_path / "formulary.conf").read_text(), flags=re.MULTILINE)


# Two servers, one database, one Redis, nginx in front.


@pytest.fixture(scope="module")
def deployment():
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("two app servers need a shared PostgreSQL server")
    # The run's own Redis, never the machine's: the servers' caches may empty it.
    redis_location = redis_url(13)
    server = base.rsplit("/", 1)[0]
    db_name = f"{os.environ.get('FORMULARY_TEST_DB_PREFIX', 'formulary_')}deploy_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    static_root = Path(tempfile.mkdtemp(prefix="static-"))
    static_root.chmod(0o755)
    environment = unit_environment(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        FORMULARY_SITE_URL="https://formulary.hospital.example",
        DATABASE_URL=f"{server}/{db_name}",
        REDIS_URL=redis_location,
        STATIC_ROOT=str(static_root),
        CONN_MAX_AGE="0",
        # Plain HTTP on loopback: no TLS in front, no redirect to HTTPS.
        BEHIND_TLS_PROXY="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        FORMULARY_SEARCH_THROTTLE_RATE="3/minute",
        FORMULARY_BOOKLET_WORKERS="1",
        LOG_LEVEL="INFO",
    )
    servers, proxy, worker = [], None, None
    try:
        run_env = {**os.environ, **environment, "PYTHONPATH": str(ROOT)}
        run_env.pop("DJANGO_SETTINGS_MODULE", None)
        for args in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["shell", "-c", SETUP]):
            result = subprocess.run(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=run_env, capture_output=True, text=True
            )
            assert result.returncode == 0, result.stderr
        entry_id, slug = re.search(r"ENTRY (\d+) (\S+)", result.stdout).groups()
        editable_id = int(re.search(r"EDITABLE (\d+)", result.stdout).group(1))
        servers = [AppServer(environment).start(), AppServer(environment).start()]
        worker = Worker(environment).start()
        if os.path.exists(NGINX):
            proxy = Nginx(upstream_ports=[s.port for s in servers], static_root=static_root).start()
        yield {
            "a": servers[0],
            "b": servers[1],
            "nginx": proxy,
            "worker": worker,
            "entry_id": int(entry_id),
            "editable_id": editable_id,
            "slug": slug,
            "database": f"{server}/{db_name}",
        }
    finally:
        for s in servers:
            s.stop()
        if worker:
            worker.stop()
        if proxy:
            proxy.stop()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(static_root, ignore_errors=True)


def decide(browser, path, data):
    """Open an admin form page as a reviewer would, then post it with its CSRF token."""
    status, html = browser.request(path)
    assert status == 200, html[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    fields = {"csrfmiddlewaretoken": token, **data}
    for name in ("revision", "seen"):
        shown = re.search(rf'name="{name}" value="([\d.]+)"', html)
        if shown:
            fields[name] = shown.group(1)
    return browser.request(path, fields)


def test_the_worker_builds_a_booklet_once_and_both_servers_serve_it(deployment):
    a, b, worker = deployment["a"], deployment["b"], deployment["worker"]
    url = reverse("monographs:booklet")
    for server in (a, b):
        get(server.url + reverse("monographs:home"))  # each server's first request loads the app
    statuses = set()
    for server in (a, b):
        for _ in range(2):
            started = time.monotonic()
            statuses.add(get(server.url + url)[0])
            # Answered at once: being prepared (503 with Retry-After) or built; never laid out here.
            assert time.monotonic() - started < 3
    assert statuses <= {200, 503}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and get(b.url + url)[0] != 200:
        time.sleep(1)
    first, second = get(a.url + url), get(b.url + url)
    assert first[0] == second[0] == 200, worker.output()[-3000:]
    assert first[2] == second[2] and first[2].startswith(b"%PDF")
    with psycopg.connect(deployment["database"]) as conn:
        built = conn.execute("SELECT count(*) FROM monographs_builtbooklet WHERE drug_class = '' AND language = 'en'")
        assert built.fetchone()[0] == 1
    # Four requests on two servers, one build.
    assert worker.output().count("built booklet 'all' (en)") == 1, worker.output()[-3000:]


def test_approval_and_withdrawal_through_one_server_show_on_the_other_at_once(deployment):
    a, b, proxy = deployment["a"], deployment["b"], deployment["nginx"]
    page = reverse("monographs:entry_detail", args=[deployment["slug"]])
    readers = [b.url] + ([proxy.url] if proxy else [])
    statuses = []

    def read(base):
        status, _headers, body = get(base + page)
        statuses.append(status)
        return status, body.decode(errors="replace")

    # Every reader has served (and may have cached) the first edition.
    for base in readers:
        for _ in range(3):
            status, html = read(base)
            assert status == 200 and "First edition text." in html and MARKER not in html

    reviewer = Browser(a.url)
    reviewer.login("deploy-reviewer", "pw-deploy-reviewer-123")
    review = reverse("admin:monographs_entry_review", args=[deployment["entry_id"]])
    status, _ = decide(reviewer, review, {"decision": "approve", "comment": "Checked against the leaflet"})
    assert status == 302

    approved_at = time.monotonic()
    status, html = read(b.url)
    assert status == 200 and MARKER in html, "server B served the old edition after the approval on A"
    if proxy:
        for _ in range(4):  # round robin: both servers through nginx
            status, html = read(proxy.url)
            assert status == 200 and MARKER in html
    assert time.monotonic() - approved_at < 5

    withdraw = reverse("admin:monographs_entry_withdraw", args=[deployment["entry_id"]])
    status, _ = decide(reviewer, withdraw, {"comment": "Withdrawn from the market"})
    assert status == 302
    assert read(b.url)[0] == 404
    if proxy:
        assert [read(proxy.url)[0] for _ in range(4)] == [404] * 4

    assert all(s < 500 for s in statuses), statuses
    if proxy:
        assert proxy.statuses() and max(proxy.statuses()) < 500, proxy.statuses()
    for server in (a, b):
        # (A booklet being prepared is a deliberate 503 with Retry-After, from the booklet test.)
        errors = [x for x in server.access_lines() if re.search(r" 5\d\d ", x) and "booklet.pdf 503" not in x]
        assert not errors, server.output()[-3000:]


def test_each_server_has_its_own_control_socket(deployment):
    a, b = deployment["a"], deployment["b"]
    assert a.control_socket != b.control_socket
    assert a.control_socket.is_socket() and b.control_socket.is_socket(), a.output()[-2000:] + b.output()[-2000:]


@needs_nginx
def test_an_editor_logs_in_and_saves_an_entry_through_nginx_on_a_non_standard_port(deployment):
    """The browser's Origin (http://127.0.0.1:<port>) must match the Host nginx passes on, or
    Django's CSRF check refuses the login and every save with 403."""
    proxy = deployment["nginx"]
    assert proxy.port not in (80, 443)
    editor = Browser(proxy.url)
    editor.login("deploy-editor", "pw-deploy-editor-123")
    path = reverse("admin:monographs_entry_change", args=[deployment["editable_id"]])
    status, html = editor.request(path)
    assert status == 200, html[:500]
    marker = f"Saved through nginx {secrets.token_hex(4)}"
    data = []
    for key, value in form_fields(html, form_id="entry_form"):
        if key == "sections-0-body":
            value = f"{marker}. {value}"
        data.append((key, value))
    data.append(("change_reason", "Saved through the proxy"))
    status, html = editor.request(path, data)
    assert status == 302, html[:3000]
    with psycopg.connect(deployment["database"]) as conn:
        body = conn.execute(
            "SELECT body FROM monographs_section WHERE entry_id = %s ORDER BY position, id LIMIT 1",
            [deployment["editable_id"]],
        ).fetchone()[0]
    assert body.startswith(marker)
    assert 403 not in proxy.statuses()


@needs_nginx
def test_nginx_spreads_requests_over_both_servers_and_serves_static_files_itself(deployment):
    a, b, proxy = deployment["a"], deployment["b"], deployment["nginx"]
    before = {s.port: len(s.access_lines()) for s in (a, b)}
    home = reverse("monographs:home")
    for _ in range(6):
        status, _headers, _body = get(proxy.url + home)
        assert status == 200
    served = {s.port: len(s.access_lines()) - before[s.port] for s in (a, b)}
    assert served[a.port] >= 2 and served[b.port] >= 2, served

    _status, _headers, body = get(proxy.url + home)
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', body.decode()).group(1)
    # A fingerprinted name (collectstatic's manifest storage) may be kept for a year.
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet), stylesheet
    status, headers, css = get(proxy.url + stylesheet, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"  # the .gz beside it, as collectstatic wrote it
    assert "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]
    assert css[:2] == b"\x1f\x8b"
    # nginx answered: neither app server saw a request for a static file.
    for server in (a, b):
        assert not [x for x in server.access_lines() if " /static/" in x]


@needs_nginx
def test_nginx_tells_the_app_the_client_address_and_passes_its_caching_headers(deployment):
    b, proxy = deployment["b"], deployment["nginx"]
    # A client may write anything into X-Forwarded-For; nginx appends the real address and
    # the app (FORMULARY_TRUSTED_PROXIES=1) believes only that, so a fresh made-up address
    # per request does not escape the search limit (3 a minute here).
    search = reverse("monographs:search") + "?q=deploytestamine"
    statuses = [get(proxy.url + search, {"X-Forwarded-For": f"203.0.113.{i}"})[0] for i in range(1, 5)]
    assert statuses == [200, 200, 200, 429]

    direct = get(b.url + reverse("monographs:entry_list"))[1]
    proxied = get(proxy.url + reverse("monographs:entry_list"))[1]
    assert proxied.get("Server", "").startswith("nginx")
    for name in ("Cache-Control", "ETag", "Last-Modified", "Vary"):
        assert proxied.get(name) == direct.get(name), name
    # nginx keeps no copy of its own (the opt-in cache is off): no cache status header.
    assert "X-Proxy-Cache" not in proxied


@pytest.mark.parametrize(
    "conf, policy", [("formulary-pages.conf", "allkeys-lru"), ("formulary-counters.conf", "noeviction")]
)
def test_the_shipped_redis_configurations_bound_pages_and_keep_counters(tmp_path, conf, policy):
    """Pages may be evicted to stay within maxmemory; the rate-limit counters never are."""
    import redis as redis_client

    from .server_process import free_port

    port = free_port()
    config = ROOT / "deploy" / "redis" / conf
    process = subprocess.Popen(
        ["redis-server", str(config), "--port", str(port), "--dir", str(tmp_path)], stdout=subprocess.DEVNULL
    )
    try:
        client = redis_client.Redis(port=port)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis_client.exceptions.ConnectionError:
                time.sleep(0.1)
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == policy
        assert int(client.config_get("maxmemory")["maxmemory"]) > 0
        assert client.config_get("save")["save"] == ""
    finally:
        process.kill()
        process.wait()


# Six class booklets never built, asked for at once on both servers.

COLD_CLASSES = ["antiemetic", "anticoagulant", "antiepileptic", "antifungal", "antimalarial", "antiviral"]
SIX_CLASSES = f"""
from django.db import connection, transaction
from tests.factories import make_published, make_user
editor = make_user("classes-editor", "Editors")
reviewer = make_user("classes-reviewer", "Reviewers")
with transaction.atomic():
    for i, drug_class in enumerate({COLD_CLASSES!r}):
        for name in ("Coldamine", "Coldol"):
            make_published(f"{{name}}{{'abcdef'[i]}}", editor=editor, reviewer=reviewer, drug_class=drug_class)
    # Cold: no file and no job waiting (as after a restore of a dump taken without its queue);
    # deleted in the publications' transaction, so the worker never sees them.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'build_booklet' AND status = 'todo'")
        print("DELETED", cursor.rowcount)
"""


def timed_get(url):
    started = time.monotonic()
    status, headers, body = get(url)
    return status, headers, body, time.monotonic() - started


def test_six_cold_class_booklets_at_once_are_built_once_each_and_the_home_page_stays_quick(deployment):
    from concurrent.futures import ThreadPoolExecutor

    from monographs.views import class_slug

    a, b, worker = deployment["a"], deployment["b"], deployment["worker"]
    env = a.env  # the servers' environment: same database
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SIX_CLASSES], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(re.search(r"DELETED (\d+)", result.stdout).group(1)) >= 12  # 6 classes (and "all") × 2 languages
    home = reverse("monographs:home")
    for server in (a, b):
        get(server.url + home)
    urls = {
        (drug_class, server.url): server.url + reverse("monographs:class_booklet", args=[class_slug(drug_class)])
        for drug_class in COLD_CLASSES
        for server in (a, b)
    }
    # Twelve booklet requests at once (each class on both servers), and the home page meanwhile.
    with ThreadPoolExecutor(max_workers=len(urls) + 1) as pool:
        booklets = {key: pool.submit(timed_get, url) for key, url in urls.items()}
        homes = []
        while not all(f.done() for f in booklets.values()):
            homes.append(timed_get((a if len(homes) % 2 else b).url + home))
        homes.append(timed_get(a.url + home))
    for key, future in booklets.items():
        status, headers, body, seconds = future.result()
        assert seconds < 3, (key, seconds)
        assert status in (200, 503), (key, status)
        if status == 503:
            assert int(headers["Retry-After"]) > 0 and b"prepared" in body, (key, body[:300])
        else:
            assert body.startswith(b"%PDF")
    # Cold indeed: nothing was built before these requests queued it.
    assert 503 in {future.result()[0] for future in booklets.values()}
    for status, _headers, _body, seconds in homes:
        assert status == 200 and seconds < 2, [(h[0], round(h[3], 2)) for h in homes]

    deadline = time.monotonic() + 240
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        pending = {key: url for key, url in pending.items() if get(url)[0] != 200}
        time.sleep(1)
    assert not pending, (sorted(pending), worker.output()[-3000:])
    with psycopg.connect(deployment["database"]) as conn:
        built = dict(
            conn.execute(
                "SELECT drug_class, count(*) FROM monographs_builtbooklet WHERE language = 'en' AND drug_class <> ''"
                " GROUP BY 1"
            ).fetchall()
        )
    # Twelve requests on two servers, one file and one build per class.
    assert built == dict.fromkeys(COLD_CLASSES, 1), built
    for drug_class in COLD_CLASSES:
        assert worker.output().count(f"built booklet '{drug_class}' (en)") == 1, worker.output()[-3000:]
    for drug_class in COLD_CLASSES:
        assert get(urls[(drug_class, a.url)])[2] == get(urls[(drug_class, b.url)])[2]
