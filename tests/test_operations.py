"""Running in production: errors leave a trace, bad configuration is refused at start,
logins land in the admin, and the operations guide names every setting it depends on."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from .gunicorn_process import GunicornProcess
from .server_process import Browser, free_port, manage, production_env

ROOT = Path(__file__).resolve().parent.parent


# Server errors.


def test_a_production_500_is_logged_with_its_traceback_and_client_to_stderr():
    server = GunicornProcess(
        f"formulary_unused_{os.getpid()}",
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/formulary"),
        workers=1,
        DJANGO_SETTINGS_MODULE="tests.server_error_settings",
        FORMULARY_TRUSTED_PROXIES="1",
    )
    server.start()
    try:
        browser = Browser(server.base_url)
        browser.opener.addheaders = [("X-Forwarded-For", "6.6.6.6, 203.0.113.9")]
        status, body = browser.request("/test-server-error/")
        output = server.read_output()
    finally:
        server.stop(drop_database=False)
    assert status == 500
    assert "deliberate failure" not in body  # the visitor sees no details
    # Local time with its UTC offset (Hong Kong: +0800), comparable with gunicorn's own UTC lines.
    assert re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0800 ERROR django\.request \[client 203\.0\.113\.9\] "
        r"Internal Server Error: /test-server-error/",
        output,
    ), output[-3000:]
    assert "Traceback (most recent call last):" in output
    assert "RuntimeError: deliberate failure for the error-log test" in output


@pytest.mark.urls("tests.server_error_urls")
def test_a_server_error_is_mailed_to_admins_once(db, settings):
    settings.ADMINS = [("Pharmacy IT", "pharmacy-it@hospital.example")]
    response = Client(raise_request_exception=False).get("/test-server-error/")
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pharmacy-it@hospital.example"]
    assert "Internal Server Error: /test-server-error/" in message.subject
    assert "Traceback" in message.body and "deliberate failure for the error-log test" in message.body


def test_admins_are_read_from_the_environment():
    code = "from django.conf import settings; print(settings.ADMINS)"
    result = manage(
        "shell", "-c", code, ADMINS='"Chan, Tai Man" <chan@hospital.example>, it-duty@hospital.example', DEBUG="1"
    )
    assert result.stdout.strip().splitlines()[-1] == (
        "[('Chan, Tai Man', 'chan@hospital.example'), ('it-duty@hospital.example', 'it-duty@hospital.example')]"
    ), result.stderr


# Configuration refused at start, each with a message that says what to set.


def test_production_refuses_to_start_without_a_site_url():
    env = production_env()
    del env["FORMULARY_SITE_URL"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set FORMULARY_SITE_URL" in result.stderr
    assert "Traceback" in result.stderr  # Django's own start-up failure, not a 500 later


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FORMULARY_SITE_URL", "formulary.hospital.example", "FORMULARY_SITE_URL must be an absolute http(s) address"),
        ("FORMULARY_TRUSTED_PROXIES", "one", "FORMULARY_TRUSTED_PROXIES must be a whole number"),
        ("FORMULARY_TRUSTED_PROXIES", "-1", "FORMULARY_TRUSTED_PROXIES must be a whole number"),
        ("FORMULARY_TRUSTED_PROXIES", "²", "FORMULARY_TRUSTED_PROXIES must be a whole number"),  # isdigit() took it
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL must start with redis://"),
        ("ADMINS", "Pharmacy IT", "ADMINS must read 'Name <address@host>, …'"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be DEBUG, INFO"),
        ("FORMULARY_API_THROTTLE_RATE", "fast", "FORMULARY_API_THROTTLE_RATE must read like 600/minute"),
        ("FORMULARY_SEARCH_THROTTLE_RATE", "10/fortnight", "FORMULARY_SEARCH_THROTTLE_RATE must read like"),
    ],
)
def test_bad_operations_settings_are_refused_with_a_clear_message(variable, value, message):
    result = manage("check", **production_env(**{variable: value}))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_development_needs_no_site_url():
    environment = {k: v for k, v in os.environ.items() if k != "FORMULARY_SITE_URL"}
    code = "from django.conf import settings; print(settings.FORMULARY_SITE_URL)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**environment, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8000", result.stderr


# Login.


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/admin/", ""])
def test_login_with_an_unsafe_or_missing_next_lands_in_the_admin(client, editor, unsafe):
    response = client.post(reverse("admin:login"), {"username": "editor", "password": "pw-editor-123", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200


# The operations guide.


@pytest.mark.parametrize(
    "setting",
    ["REDIS_URL", "FORMULARY_TRUSTED_PROXIES", "ADMINS", "FORMULARY_SITE_URL", "FORMULARY_SEARCH_THROTTLE_RATE"],
)
def test_operations_guide_documents_each_setting(setting):
    assert f"`{setting}`" in (ROOT / "docs" / "operations.md").read_text()


def test_ci_only_runs_the_readme_command():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == "exec ./run test"
    assert not any("apt-get" in line for line in lines)


def test_settings_refuse_to_start_without_a_postgresql_database_url():
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for value in (None, "sqlite:///db.sqlite3"):
        env = environment if value is None else {**environment, "DATABASE_URL": value}
        result = subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and "DATABASE_URL" in result.stderr, result.stderr[-2000:]


def test_csrf_trusted_origins_default_to_the_site_address_and_can_be_set():
    code = "from django.conf import settings; print(settings.CSRF_TRUSTED_ORIGINS)"
    result = manage("shell", "-c", code, **production_env(FORMULARY_SITE_URL="https://formulary.hospital.example/"))
    assert result.stdout.strip().splitlines()[-1] == "['https://formulary.hospital.example']", result.stderr
    origins = "https://formulary.hospital.example,http://10.1.2.3:8080"
    result = manage("shell", "-c", code, **production_env(CSRF_TRUSTED_ORIGINS=origins))
    assert result.stdout.strip().splitlines()[-1] == str(origins.split(",")), result.stderr
    result = manage("shell", "-c", code, **production_env(CSRF_TRUSTED_ORIGINS="formulary.hospital.example"))
    assert result.returncode != 0 and "CSRF_TRUSTED_ORIGINS" in result.stderr


def test_run_help_prints_usage_at_once_without_installing_anything(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    started = time.monotonic()
    result = subprocess.run([str(clone / "run"), "--help"], capture_output=True, text=True, timeout=30)
    assert time.monotonic() - started < 2
    assert result.returncode == 0 and result.stdout.startswith("usage: ./run")
    assert not (clone / ".venv").exists()  # no virtualenv made, nothing installed
    assert subprocess.run([str(clone / "run"), "nonsense"], capture_output=True, timeout=30).returncode == 2


ENTRY_LINK = re.compile(r'<a class="entry-name" href="(?:/[a-z-]+)?/entries/([^/]+)/">')


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # nosec B310 loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError:
        return None, ""


def test_run_on_a_clean_clone_serves_the_demo_from_the_embedded_postgresql_server():
    """`./run` with no DATABASE_URL, as a newcomer starts it: the demo is served from the embedded
    server (data in the clone's .pgdata/), found by the one ranked search production runs, with
    mail links to the port served; stopping ./run stops the server. The clone shares this
    checkout's virtualenv (the install itself is measured by hand: README, Quick start)."""
    # Not under pytest's 0700 temporary root: run as root, the server runs as `nobody`.
    directory = Path(tempfile.mkdtemp(prefix="formulary-clone-"))
    directory.chmod(0o755)
    clone = directory / "clone"
    process = None
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
        # The virtualenv running this test (./run asks pip only if requirements.txt changed).
        (clone / ".venv").symlink_to(sys.prefix, target_is_directory=True)
        port = free_port()
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "FORMULARY_SITE_URL", "DEBUG", "DJANGO_SETTINGS_MODULE", "REDIS_URL")
        }
        log = open(directory / "run.log", "w+")  # noqa: SIM115 closed below
        process = subprocess.Popen(
            [str(clone / "run")],
            cwd=clone,
            env={**environment, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None and _get(base + "/en/")[0] != 200:
            time.sleep(0.5)
        log.flush()
        output = (directory / "run.log").read_text(errors="replace")
        assert _get(base + "/en/")[0] == 200, output[-4000:]

        assert (clone / ".pgdata" / "PG_VERSION").read_text().strip() == "18"
        for query in ("lenalidamide", "懷孕"):
            status, html = _get(base + "/en/search?" + urllib.parse.urlencode({"q": query}))
            assert status == 200
            assert ENTRY_LINK.findall(html) == ["lenalidomide"], (query, html[-2000:])
        # The demo's review mails (printed by the console backend) link to the port served.
        assert f"{base}/admin/" in output and "127.0.0.1:8000" not in output
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        stopped = not (clone / ".pgdata" / "postmaster.pid").exists()
        shutil.rmtree(directory, ignore_errors=True)
    assert stopped, "./run left its PostgreSQL server running"


def test_every_setting_is_declared_once_in_the_settings_and_listed_in_the_readme():
    """The settings module is the one place a setting and its default are written: the app reads
    `settings.NAME`, never `getattr(settings, NAME, default)` with a default of its own, and
    every environment variable the settings read is in the README's table."""
    settings_text = (ROOT / "formulary" / "settings.py").read_text()
    declared = re.findall(r"^([A-Z][A-Z0-9_]*) = ", settings_text, flags=re.MULTILINE)
    twice = sorted({name for name in declared if declared.count(name) > 1})
    assert not twice, twice
    app_code = "\n".join(
        path.read_text()
        for folder in ("formulary", "monographs", "directory")
        for path in (ROOT / folder).rglob("*.py")
    )
    assert not re.findall(r'getattr\(settings, "[A-Z]', app_code)
    used = set(re.findall(r"\bsettings\.(FORMULARY_[A-Z0-9_]+)", app_code))
    assert used and used <= set(declared), sorted(used - set(declared))
    read = set(
        re.findall(r'(?:env\.\w+|_env_count|_rate|_content_check_levels)\(\s*"([A-Z][A-Z0-9_]*)"', settings_text)
    )
    readme = (ROOT / "README.md").read_text()
    assert {"DATABASE_URL", "CSRF_TRUSTED_ORIGINS", "FORMULARY_BOOKLET_WORKERS"} <= read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []
