"""Running in production (issue 10): errors leave a trace, bad configuration is refused at start,
logins land in the admin, and the operations guide names every setting it depends on."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from .gunicorn_process import GunicornProcess
from .server_process import Browser, manage, production_env

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
    assert re.search(
        r"ERROR django\.request \[client 203\.0\.113\.9\] Internal Server Error: /test-server-error/", output
    )
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
