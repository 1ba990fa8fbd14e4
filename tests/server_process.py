"""A real server process on loopback against its own PostgreSQL database.

For tests that must cross process and network boundaries (concurrent editors,
a database restart): the app runs in `manage.py runserver` with persistent
connections and health checks, as in production, and is driven over HTTP.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, db_name, base_database_url):
        parts = urllib.parse.urlsplit(base_database_url)
        self.admin_conninfo = f"host={parts.hostname} port={parts.port or 5432} user={parts.username} dbname=postgres"
        self.conninfo = f"host={parts.hostname} port={parts.port or 5432} user={parts.username} dbname={db_name}"
        self.db_name = db_name
        self.database_url = urllib.parse.urlunsplit(parts._replace(path=f"/{db_name}"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DEBUG": "1",
            "CONN_MAX_AGE": "600",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = None

    def manage(self, *args, check=True):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=check, capture_output=True, text=True
        )

    def create_database(self):
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.manage("migrate", "--noinput")

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def query(self, sql, params=()):
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(sql, params).fetchall()


class _FormParser(HTMLParser):
    """Collects what a browser would submit from the first form with method=post and inputs."""

    def __init__(self, form_id=None):
        super().__init__()
        self.form_id = form_id
        self.in_form = False
        self.done = False
        self.fields = []
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (self.form_id is None or a.get("id") == self.form_id):
            self.in_form = a.get("method", "").lower() == "post"
            return
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.fields.append([name, a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self.fields.append(self._textarea)
        elif tag == "select" and name:
            self._select = [name, None]
        elif tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in a:
                self._select[1] = a.get("value", "")
                if "selected" in a:
                    self._select.append("chosen")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            self.fields.append(self._select[:2])
            self._select = None
        elif tag == "form" and self.in_form:
            self.in_form = False
            self.done = True

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_fields(html, form_id=None):
    parser = _FormParser(form_id)
    parser.feed(html)
    # A textarea's first newline is not part of its value.
    return [(k, v[1:] if v.startswith("\n") else v) for k, v in parser.fields]


class Browser:
    """Cookie-keeping HTTP client that never raises on 4xx/5xx."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.jar = CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path, data=None, timeout=30):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base_url + path, data=body)
        if data is not None:
            # As a browser posts a form: Django's CSRF check compares the Origin with the Host.
            req.add_header("Origin", self.base_url)
            req.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def login(self, username, password, admin_path="/admin/"):
        status, html = self.request(admin_path + "login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        status, _ = self.request(
            admin_path + "login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": admin_path},
        )
        if status != 302:
            raise RuntimeError(f"login failed for {username}: {status}")


def manage(*args, **env):
    """Run `manage.py` in a fresh process with `env` instead of the test run's DEBUG, SECRET_KEY
    and ALLOWED_HOSTS, as an operator would start it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def production_env(**extra):
    """The environment of a production start (DEBUG off), plus `extra`."""
    import secrets

    from .suite_services import redis_url

    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "formulary.hospital.example",
        "FORMULARY_SITE_URL": "https://formulary.hospital.example",
        # A production install mails through SMTP (`check --deploy` warns about the console).
        "EMAIL_URL": "smtp+tls://formulary:secret@mail.hospital.example:587",
        # ... its own FHIR namespace and shared counters (the other `check --deploy` warnings).
        "FORMULARY_FHIR_SYSTEM_BASE": "https://formulary.hospital.example/fhir",
        # The run's own Redis, never the machine's (tests/suite_services.py).
        "REDIS_URL": redis_url(0),
        **extra,
    }
