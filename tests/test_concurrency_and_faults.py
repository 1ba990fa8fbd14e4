"""Several editors and readers at once against a real server, and a PostgreSQL
restart under it. Loopback only, bounded in requests and time."""

import os
import subprocess
import threading
import time

import pytest
from django.db import connection

from .server_process import Browser, ServerProcess, form_fields
from .suite_services import run_database_name

SETUP = """
from django.contrib.auth.models import Group, User
from monographs import workflow, working_copy
from monographs.demo import load_lenalidomide
from monographs.services import entry_import_text
entry = load_lenalidomide()
entry_import_text(generic_name="Thalidomide", text="Thalidomide is an older imide drug.\\n\\nStore it in a dry place.\\n")
for name in ["ed1", "ed2", "ed3", "ed4", "rev"]:
    u = User.objects.create_user(name, f"{name}@example.org", "pw-" + name + "-123", is_staff=True)
    u.groups.add(Group.objects.get(name="Reviewers" if name == "rev" else "Editors"))
workflow.submit(entry=entry, user=User.objects.get(username="ed1"))
workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=User.objects.get(username="rev"), comment="ok")
"""

EDITORS = ["ed1", "ed2", "ed3", "ed4"]
SAVES_PER_EDITOR = 3


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a real PostgreSQL server is needed")


@pytest.fixture(scope="module")
def server():
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("a real PostgreSQL server is needed")
    proc = ServerProcess(run_database_name("live_checks"), base)
    proc.create_database()
    proc.manage("shell", "-c", SETUP)
    proc.start()
    yield proc
    proc.stop()


def entry_ids(server):
    return dict(server.query("SELECT generic_name, id FROM monographs_entry"))


def test_concurrent_editors_and_readers(server):
    _postgres_only()
    ids = entry_ids(server)
    outcomes, statuses, lock = [], [], threading.Lock()
    stop_readers = threading.Event()

    def editor(username, index):
        browser = Browser(server.base_url)
        browser.login(username, f"pw-{username}-123")
        for i in range(SAVES_PER_EDITOR):
            # Two editors share each entry, so some saves must collide.
            name = "Lenalidomide" if index % 2 == 0 else "Thalidomide"
            path = f"/admin/monographs/entry/{ids[name]}/change/"
            status, html = browser.request(path)
            with lock:
                statuses.append(status)
            fields = form_fields(html, form_id="entry_form")
            marker = f"edit-{username}-{i}"
            data = []
            for key, value in fields:
                if key.endswith("-body") and key.startswith("sections-0"):
                    value = f"{marker}: {value}"
                if key == "change_reason":
                    value = marker
                data.append((key, value))
            if not any(k == "change_reason" for k, _ in data):
                data.append(("change_reason", marker))
            time.sleep(0.05 * index)
            status, html = browser.request(path, data)
            with lock:
                statuses.append(status)
                if status == 302:
                    outcomes.append((marker, "accepted"))
                elif status == 200 and "Someone else changed this entry" in html:
                    outcomes.append((marker, "refused"))
                else:
                    outcomes.append((marker, f"unexpected {status}"))

    def reader():
        browser = Browser(server.base_url)
        count = 0
        while not stop_readers.is_set() and count < 40:
            status, _ = browser.request("/en/entries/lenalidomide/")
            with lock:
                statuses.append(status)
            count += 1

    threads = [threading.Thread(target=editor, args=(u, i)) for i, u in enumerate(EDITORS)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join(timeout=120)
    stop_readers.set()
    for t in readers:
        t.join(timeout=30)

    assert len(outcomes) == len(EDITORS) * SAVES_PER_EDITOR
    assert not [o for o in outcomes if o[1].startswith("unexpected")], outcomes
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    accepted = {m for m, result in outcomes if result == "accepted"}
    refused = {m for m, result in outcomes if result == "refused"}
    print(f"accepted={len(accepted)} refused={len(refused)} requests={len(statuses)}")
    assert accepted, "at least one save must succeed"
    comments = {c for (c,) in server.query("SELECT comment FROM reversion_revision")}
    # Every accepted save is in the history; no refused save left a trace.
    assert accepted <= comments
    assert not (refused & comments)
    stored = " ".join(body for (body,) in server.query("SELECT body FROM monographs_section"))
    assert not any(m in stored for m in refused)


@pytest.fixture
def server_on_own_postgres():
    """The app against a PostgreSQL cluster of this test's own, which it may stop: never the
    machine's server, which other projects (and the rest of this run) are using."""
    from .suite_services import OwnPostgres

    cluster = OwnPostgres()
    try:
        cluster.initdb()
        cluster.start()
        proc = ServerProcess("formulary_restart_checks", cluster.url)
        proc.create_database()
        proc.manage("shell", "-c", SETUP)
        proc.start()
        try:
            yield cluster, proc
        finally:
            if cluster.is_running():
                proc.stop()
            elif proc.process:
                proc.process.terminate()
                proc.process.wait(timeout=10)
    finally:
        cluster.destroy()


def test_database_restart_fails_cleanly_and_recovers(server_on_own_postgres):
    cluster, server = server_on_own_postgres
    browser = Browser(server.base_url)
    assert browser.request("/en/entries/lenalidomide/")[0] == 200
    try:
        cluster.stop()
        during = [browser.request("/en/entries/lenalidomide/", timeout=20) for _ in range(3)]
    finally:
        cluster.start()
    assert {status for status, _ in during} == {503}, during
    assert "try again" in during[0][1]

    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        status, html = browser.request("/en/entries/lenalidomide/")
        if status == 200:
            break
        time.sleep(0.5)
    assert status == 200, "the app must recover without a restart of its own"
    assert "Lenalidomide" in html


STALL_SETUP = """
import datetime
from django.contrib.auth.models import Group, User
from django.utils import timezone
from monographs import workflow, working_copy
from monographs.demo import load_lenalidomide
entry = load_lenalidomide()
rev = User.objects.create_user("rev", "rev@example.org", "pw-rev-123", is_staff=True)
rev.groups.add(Group.objects.get(name="Reviewers"))
ed = User.objects.create_user("ed", "ed@example.org", "pw-ed-123", is_staff=True)
ed.groups.add(Group.objects.get(name="Editors"))
workflow.submit(entry=entry, user=ed)
workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=rev, comment="ok")
workflow.withdraw(entry=entry, user=rev, comment="Recall", effective_at=timezone.now() + datetime.timedelta(seconds=4))
"""


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, which it may stall (SIGSTOP): never the machine's."""
    from .suite_services import start_redis

    process, port = start_redis(tmp_path)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


def test_a_withdrawal_by_publish_scheduled_while_redis_stalls_is_seen_once_redis_answers(own_redis):
    """Item 6 of the publication-truth issue: the command that carried out a planned withdrawal
    while Redis stalled must not leave the withdrawn page served from the cache afterwards."""
    import signal

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("a real PostgreSQL server is needed")
    redis_process, redis_url = own_redis
    proc = ServerProcess(run_database_name("stall_checks"), base)
    proc.env.update(REDIS_URL=redis_url, FORMULARY_PUBLIC_CACHE_HOSTS=f"127.0.0.1:{proc.port}")
    proc.create_database()
    proc.manage("shell", "-c", STALL_SETUP)
    proc.start()
    try:
        browser = Browser(proc.base_url)
        page = "/en/entries/lenalidomide/"
        listing = "/en/entries/?letter=L"
        for address in (page, listing, page, listing):
            status, html = browser.request(address)
            assert status == 200 and "Lenalidomide" in html
        time.sleep(4.5)  # the withdrawal is due

        os.kill(redis_process.pid, signal.SIGSTOP)  # Redis stalls: connections open, no answers
        try:
            done = proc.manage("publish_scheduled", check=False)
        finally:
            os.kill(redis_process.pid, signal.SIGCONT)
        assert done.returncode == 0, done.stderr

        status, _html = browser.request(page)
        assert status == 404, "the withdrawn entry's page was still served after Redis answered again"
        status, html = browser.request(listing)
        assert status == 200 and "lenalidomide/" not in html
    finally:
        proc.stop()


# PostgreSQL and Redis both down. The shared page cache reads the publication stamp
# before any view runs, from the database while Redis is down: that query was outside the 503
# handling (a bare 500). Nothing listens on port 1, so this touches no shared server.
BOTH_DOWN = """
import json
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
for path in ["/en/", "/en/entries/", "/en/entries/lenalidomide/", "/en/search/?q=x", "/en/changes/feed/"]:
    response = client.get(path)
    answers[path] = [response.status_code, response.get("Retry-After"), response.get("Cache-Control"),
                     response.content.decode()[:200]]
print(json.dumps(answers))
"""


def test_public_pages_are_503_with_retry_after_when_postgresql_and_redis_are_both_down():
    import json
    import sys

    from .server_process import ROOT

    environment = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/formulary_nowhere",
        "CONN_MAX_AGE": "0",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", BOTH_DOWN],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for path, (status, retry_after, cache_control, text) in answers.items():
        assert (path, status, retry_after) == (path, 503, "5"), text
        assert "no-store" in cache_control
        assert "try again shortly" in text
