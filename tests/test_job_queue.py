"""Issue 21, live: real `manage.py procrastinate worker` processes on their own PostgreSQL
database, and a real SMTP server (aiosmtpd) started here.

- An approval's mail reaches the SMTP server; with the server down the approval still
  succeeds, the mail waits in the outbox, and it is delivered once the server is back, with
  the Message-ID it was given when it was queued.
- A scheduled go-live fires once with two workers running (each also a scheduler candidate:
  procrastinate's periodic deferral is unique per task and minute in the database).
"""

import os
import re
import subprocess
import sys
import time
from email import message_from_bytes

import psycopg
import pytest

from .deploy_processes import free_port
from .server_process import ROOT

SETUP = """
from monographs import workflow
from tests.factories import edit, make_published, make_user
editor = make_user("queue-editor", "Editors")
reviewer = make_user("queue-reviewer", "Reviewers")
for name in ("Queuetestamine", "Queuetestol"):
    entry = make_published(name, editor=editor, reviewer=reviewer)
    entry = edit(entry, user=editor, first_section_body="Second edition text.")
    workflow.submit(entry=entry, user=editor, comment="Ready")
    print("ENTRY", entry.pk)
"""

APPROVE = """
import datetime
from django.utils import timezone
from monographs import workflow
from monographs.models import Entry, EntryState
from django.contrib.auth import get_user_model
entry = Entry.objects.get(pk={entry_id})
state = EntryState.objects.get(entry=entry)
reviewer = get_user_model().objects.get(username="queue-reviewer")
when = timezone.now() + datetime.timedelta(seconds={delay}) if {delay} else None
workflow.approve(entry=entry, user=reviewer, revision=state.submitted_revision, comment="Checked by the queue test", effective_at=when)
print("APPROVED")
"""


class Sink:
    """An SMTP server on loopback that keeps what it receives."""

    def __init__(self, port):
        self.port = port
        self.messages = []
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.original_content)))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="module")
def queue_db():
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("the job queue needs PostgreSQL")
    server = base.rsplit("/", 1)[0]
    name = f"wtqueue_jobs_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    smtp_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{server}/{name}",
        "CONN_MAX_AGE": "0",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        "FORMULARY_SITE_URL": "https://formulary.hospital.example",
        "FORMULARY_BOOKLET_WORKERS": "1",
        "LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        manage(env, "migrate", "--noinput")
        entries = [int(x) for x in re.findall(r"ENTRY (\d+)", manage(env, "shell", "-c", SETUP))]
        yield {"env": env, "url": f"{server}/{name}", "entries": entries, "smtp_port": smtp_port}
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def start_worker(env, log):
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--no-listen-notify", "-p", "0.5"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query(url, sql, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(message)


def test_mail_waits_while_the_smtp_server_is_down_and_is_delivered_once_with_its_message_id(queue_db, tmp_path):
    env, url = queue_db["env"], queue_db["url"]
    sink = Sink(queue_db["smtp_port"]).start()
    worker = start_worker(env, (tmp_path / "worker.log").open("w"))
    try:
        # Server up: the approval's mail arrives.
        manage(env, "shell", "-c", APPROVE.format(entry_id=queue_db["entries"][0], delay=0))

        def approvals(name):
            return [
                (rcpt, m)
                for rcpt, m in sink.messages
                if f"{name} approved" in m["Subject"] and "Checked by the queue test" in m.get_payload()
            ]

        wait_for(lambda: approvals("Queuetestamine"), 60, "the approval mail never reached the SMTP server")
        [(rcpt, first)] = approvals("Queuetestamine")
        assert rcpt == ["queue-editor@example.org"] and "approved and published" in first["Subject"]

        # Server down: the approval succeeds, the mail waits with its error.
        sink.stop()
        manage(env, "shell", "-c", APPROVE.format(entry_id=queue_db["entries"][1], delay=0))

        def failed_attempt():
            rows = query(
                url,
                "SELECT status, attempts, last_error, message_id FROM monographs_outboxmail"
                " WHERE subject LIKE %s AND body LIKE %s",
                "%Queuetestol approved%",
                "%Checked by the queue test%",
            )
            return rows if rows and rows[0][1] >= 1 else None

        [(status, _attempts, error, message_id)] = wait_for(failed_attempt, 60, "no attempt was made")
        assert status == "queued" and "Connection refused" in error

        # Back up: delivered (procrastinate's retry with back-off), once, with the same Message-ID.
        sink = Sink(queue_db["smtp_port"]).start()
        wait_for(lambda: approvals("Queuetestol"), 90, "the waiting mail was not delivered after the server came back")
        time.sleep(3)
        [(_rcpt, delivered)] = approvals("Queuetestol")
        assert delivered["Message-ID"].strip() == message_id  # (folded: a long header)
        assert query(url, "SELECT status FROM monographs_outboxmail WHERE message_id = %s", message_id) == [("sent",)]
    finally:
        stop(worker)
        sink.stop()


def test_a_scheduled_go_live_fires_once_with_two_workers(queue_db, tmp_path):
    env, url = queue_db["env"], queue_db["url"]
    entry_id = queue_db["entries"][0]
    # A new version of the first entry, approved to go live in a few seconds.
    manage(
        env,
        "shell",
        "-c",
        "from monographs import workflow\nfrom monographs.models import Entry\nfrom tests.factories import edit\n"
        "from django.contrib.auth import get_user_model\n"
        f"e = edit(Entry.objects.get(pk={entry_id}), user=get_user_model().objects.get(username='queue-editor'),"
        " first_section_body='Third edition text.')\n"
        "workflow.submit(entry=e, user=get_user_model().objects.get(username='queue-editor'))\n",
    )
    manage(env, "shell", "-c", APPROVE.format(entry_id=entry_id, delay=5))
    workers = [start_worker(env, (tmp_path / f"worker-{i}.log").open("w")) for i in range(2)]
    try:

        def went_live():
            rows = query(
                url, "SELECT count(*) FROM monographs_auditevent WHERE entry_id = %s AND action = 'went_live'", entry_id
            )
            return rows[0][0]

        wait_for(went_live, 150, "the scheduled edition did not go live")
        time.sleep(70)  # another minute: neither worker publishes it again
        assert went_live() == 1
        # Each minute's publish_due job was deferred once, whichever worker's scheduler got there first.
        per_minute = query(
            url,
            "SELECT args->>'timestamp', count(*) FROM procrastinate_jobs WHERE task_name = 'publish_due'"
            " GROUP BY 1 HAVING count(*) > 1",
        )
        assert per_minute == []
        assert query(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'publish_due'")[0][0] >= 2
    finally:
        for worker in workers:
            stop(worker)
