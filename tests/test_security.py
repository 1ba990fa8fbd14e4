"""Deployment settings: what `check --deploy`, browsers and attackers see."""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from .server_process import manage, production_env

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_nothing_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_production_mail_would_go_to_the_console():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(EMAIL_URL=""))
    assert result.returncode != 0
    assert "formulary.W001" in result.stderr + result.stdout and "EMAIL_URL" in result.stderr + result.stdout


@pytest.mark.parametrize(
    "overrides, code, words",
    [
        ({"FORMULARY_FHIR_SYSTEM_BASE": ""}, "formulary.W002", "FORMULARY_FHIR_SYSTEM_BASE"),
        ({"FORMULARY_FHIR_SYSTEM_BASE": "https://formulary.invalid/fhir"}, "formulary.W002", "placeholder"),
        ({"FORMULARY_SITE_URL": "http://formulary.hospital.example"}, "formulary.W003", "not an https://"),
        ({"REDIS_URL": ""}, "formulary.W004", "REDIS_URL is not set"),
    ],
)
def test_check_deploy_warns_about_a_placeholder_namespace_plain_http_and_no_redis(overrides, code, words):
    environment = production_env(**overrides)
    if not overrides.get("FORMULARY_FHIR_SYSTEM_BASE", "x"):
        del environment["FORMULARY_FHIR_SYSTEM_BASE"]  # unset: the settings' placeholder default
    result = manage("check", "--deploy", "--fail-level", "WARNING", **environment)
    output = result.stderr + result.stdout
    assert result.returncode != 0, output
    assert code in output and words in output, output
    others = {"formulary.W002", "formulary.W003", "formulary.W004"} - {code}
    assert not any(other in output for other in others), output


def test_smtp_is_configured_from_the_environment():
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)"
    result = manage("shell", "-c", code, EMAIL_HOST="smtp.hospital.example", EMAIL_PORT="587", EMAIL_USE_TLS="1")
    assert result.stdout.strip().splitlines()[-1] == (
        "django.core.mail.backends.smtp.EmailBackend smtp.hospital.example 587 True"
    ), result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="formulary.hospital.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_admin_url_is_configurable():
    code = "from django.urls import reverse; print(reverse('admin:index'))"
    result = manage("shell", "-c", code, ADMIN_URL="pharmacy-staff/")
    assert result.stdout.strip().splitlines()[-1] == "/pharmacy-staff/", result.stderr


def test_security_headers_on_every_response(client, db):
    response = client.get(reverse("admin:login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_production_mode_sends_hsts_and_secure_cookies(settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = client.get(reverse("admin:login"), secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response.cookies["csrftoken"]["secure"]


def test_passwords_are_hashed_with_argon2(editor):
    assert editor.password.startswith("argon2$")


def test_repeated_failed_logins_lock_the_account_out(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 3
    url = reverse("admin:login")
    for _ in range(3):
        response = client.post(url, {"username": "editor", "password": "wrong", "next": "/admin/"})
        assert response.status_code in (200, 429)
    # Now even the right password is refused for a while, with a reason.
    response = client.post(url, {"username": "editor", "password": "pw-editor-123", "next": "/admin/"})
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_an_overlong_username_is_a_form_error_not_a_server_error(client, editor):
    """A name longer than any account's is refused by the form, before django-axes records the
    attempt (its record holds 255 characters: a longer one was a 500 for anyone)."""
    response = client.post(reverse("admin:login"), {"username": "a" * 256, "password": "x", "next": "/admin/"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_correct_login_still_works_before_the_limit(client, editor):
    response = client.post(
        reverse("admin:login"), {"username": "editor", "password": "pw-editor-123", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


@pytest.mark.parametrize("path", ["/admin/monographs/auditevent/", "/admin/monographs/entry/review-queue/"])
def test_admin_pages_need_a_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("path", ["/entries/%00/", "/api/v1/entries/%00/", "/fhir/MedicationKnowledge/%00"])
def test_null_character_in_an_address_is_a_clear_400(client, db, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "Null characters" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/entries/", {"drug_class": "a\x00b"}),
        ("/api/v1/search/", {"q": "\x00"}),
        ("/fhir/MedicationKnowledge", {"name": "\x00"}),
    ],
)
def test_null_character_in_api_parameters_is_a_400_with_a_reason(client, db, path, params):
    response = client.get(path, params)
    assert response.status_code == 400
    assert "null character" in response.content.decode()
