"""The job queue, live: real `manage.py procrastinate worker` processes on their own PostgreSQL
database, and a real SMTP server (aiosmtpd) started here.

- An approval's mail reaches the SMTP server; with the server down the approval still
  succeeds, the mail waits in the outbox, and it is delivered once the server is back, with
  the Message-ID it was given when it was queued.
- A worker killed (SIGKILL) mid-job: its job goes back to the queue once its heartbeat is stale
  (`tasks.retry_stalled_jobs`) and another worker finishes it, for a booklet being laid out
  and for a mail the SMTP server had not yet answered (delivered once, with its Message-ID).
- A scheduled go-live fires once with two workers running (each also a scheduler candidate:
  procrastinate's periodic deferral is unique per task and minute in the database).
"""

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from email import message_from_bytes

import psycopg
import pytest

from .deploy_processes import free_port
from .server_process import ROOT
from .suite_services import run_database_name

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
    """An SMTP server on loopback that keeps what it receives.

    With `stall=<subject>` it takes the data of a message with that subject but never answers
    it (the client is left waiting mid-send): such a message is kept in `unanswered`, never in
    `messages`, and `stalled` is set when the first one arrives."""

    def __init__(self, port, *, stall=None):
        self.port = port
        self.stall = stall
        self.messages = []
        self.unanswered = []
        self.stalled = threading.Event()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content)
                if sink.stall and message["Subject"] == sink.stall:
                    sink.unanswered.append(message)
                    sink.stalled.set()
                    await asyncio.sleep(3600)  # cancelled by stop()
                sink.messages.append((envelope.rcpt_tos, message))
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
    with _database("jobs") as (env, url):
        manage(env, "migrate", "--noinput")
        entries = [int(x) for x in re.findall(r"ENTRY (\d+)", manage(env, "shell", "-c", SETUP))]
        yield {"env": env, "url": url, "entries": entries, "smtp_port": int(env["EMAIL_PORT"])}


@contextlib.contextmanager
def _database(label):
    """A database of its own (a shared machine may set the prefix of its test databases) and
    the environment of a worker or `manage.py` on it; dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("the job queue needs PostgreSQL")
    server = base.rsplit("/", 1)[0]
    name = run_database_name(f"queue_{label}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"{server}/{name}",
        "CONN_MAX_AGE": "0",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(free_port()),
        "EMAIL_TIMEOUT": "5",
        "FORMULARY_SITE_URL": "https://formulary.hospital.example",
        "FORMULARY_BOOKLET_WORKERS": "1",
        "LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        yield env, f"{server}/{name}"
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
    """Poll `condition` until it is true; `message` may be a callable (read when it fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(message() if callable(message) else message)


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

        def last_run(statuses=("succeeded",)):
            rows = query(
                url,
                "SELECT max((args->>'timestamp')::bigint) FROM procrastinate_jobs"
                " WHERE task_name = 'publish_due' AND status::text = ANY(%s)",
                list(statuses),
            )
            return rows[0][0] or 0

        # The minute that published it (its job may still be finishing) or a later one.
        published_by = last_run(("todo", "doing", "succeeded"))
        # Another minute's run (not a fixed sleep: done as soon as it is): neither worker publishes it again.
        wait_for(lambda: last_run() > published_by, 90, "no later publish_due ran")
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


# How long a killed worker's job may take to run again: its heartbeat (every 10 s) goes stale
# after tasks.STALLED_AFTER_SECONDS, then retry_stalled_jobs puts it back in the queue (the
# tests queue it as soon as the heartbeat is stale, see below; otherwise the next minute's
# periodic run does); plus a minute for a loaded machine.
STALLED_JOB_BACK_WITHIN = 30 + 60 + 60


def retry_stalled_jobs_once_stale(env, killed_at):
    """Queue retry_stalled_jobs as soon as the killed worker's heartbeat is stale instead of
    waiting up to a minute for its periodic run: the same task, run by the running worker. Its
    cron schedule is the only thing not exercised here; the go-live test exercises procrastinate's
    periodic deferral."""
    from monographs.tasks import STALLED_AFTER_SECONDS

    # The last heartbeat was at most 10 s before the kill; a little spare for clock steps.
    time.sleep(max(0.0, killed_at + STALLED_AFTER_SECONDS + 2 - time.monotonic()))
    manage(env, "shell", "-c", "from monographs import jobs; jobs._defer('retry_stalled_jobs', timestamp=0)")


MAIL = """
from django.db import transaction
from monographs import jobs, outbox
with transaction.atomic():
    mail = outbox.write(kind="test", subject="{subject}", body="Sent by the queue test.", to=["kill@example.org"])
    jobs.queue_mail(mail)
print("MAIL", mail.message_id)
"""


def job_statuses(url, task_name):
    return [row[0] for row in query(url, "SELECT status FROM procrastinate_jobs WHERE task_name = %s", task_name)]


def kill(process):
    """SIGKILL: no shutdown, no chance to mark the job; as a machine lost or the OOM killer."""
    process.kill()
    process.wait(timeout=10)


def test_a_booklet_build_killed_mid_job_is_finished_by_another_worker(tmp_path):
    with _database("killbooklet") as (env, url):
        manage(env, "migrate", "--noinput")
        # 20 synthetic entries: the whole-formulary booklet takes some 7 s to lay out here,
        # long enough to be killed in the middle of it.
        manage(env, "generate_formulary", "--entries", "20", "--versions", "1", "--quiet")
        manage(env, "shell", "-c", "from monographs import jobs; jobs.queue_booklet('', 'en')")
        first = start_worker(env, (tmp_path / "worker-1.log").open("w"))
        try:
            wait_for(lambda: job_statuses(url, "build_booklet") == ["doing"], 60, "the build never started")
            time.sleep(1)  # into the layout
            kill(first)
            killed_at = time.monotonic()
        finally:
            stop(first)
        # Killed mid-build: nothing stored, and the job still says "doing" (no one left to say otherwise).
        assert query(url, "SELECT count(*) FROM monographs_builtbooklet")[0][0] == 0, "built before it was killed"
        assert job_statuses(url, "build_booklet") == ["doing"]

        second = start_worker(env, (tmp_path / "worker-2.log").open("w"))
        try:
            retry_stalled_jobs_once_stale(env, killed_at)
            wait_for(
                lambda: job_statuses(url, "build_booklet") == ["succeeded"],
                STALLED_JOB_BACK_WITHIN,
                lambda: (
                    "the killed worker's build was not finished by the next worker:\n"
                    + (tmp_path / "worker-2.log").read_text()[-3000:]
                ),
            )
        finally:
            stop(second)
        assert "retrying job" in (tmp_path / "worker-2.log").read_text()
        # One file, and it is the booklet of what is live now.
        assert query(url, "SELECT drug_class, language FROM monographs_builtbooklet") == [("", "en")]
        current = manage(
            env, "shell", "-c", "from monographs import booklet_store; print(booklet_store.choose('', 'en').current)"
        )
        assert current.strip().endswith("True")


def test_a_mail_killed_mid_send_is_delivered_once_with_its_message_id(queue_db, tmp_path):
    # The worker waits for the SMTP server's answer longer than the test waits to kill it.
    env, url = {**queue_db["env"], "EMAIL_TIMEOUT": "120"}, queue_db["url"]
    subject = "Killed mid-send"
    [message_id] = re.findall(r"MAIL (\S+)", manage(env, "shell", "-c", MAIL.format(subject=subject)))
    sink = Sink(queue_db["smtp_port"], stall=subject).start()
    first = start_worker(env, (tmp_path / "worker-1.log").open("w"))
    try:
        assert sink.stalled.wait(60), "the worker never sent the mail"
        kill(first)  # while it waits for the server's "250 OK"
        killed_at = time.monotonic()
    finally:
        stop(first)
        sink.stop()
    [unanswered] = sink.unanswered
    assert unanswered["Message-ID"].strip() == message_id
    # The worker died inside the outbox row's transaction: it is still queued, no attempt counted.
    assert query(url, "SELECT status, attempts FROM monographs_outboxmail WHERE message_id = %s", message_id) == [
        ("queued", 0)
    ]

    sink = Sink(queue_db["smtp_port"]).start()
    second = start_worker(env, (tmp_path / "worker-2.log").open("w"))
    try:
        retry_stalled_jobs_once_stale(env, killed_at)

        def delivered():
            return [m for _rcpt, m in sink.messages if m["Subject"] == subject]

        wait_for(
            delivered,
            STALLED_JOB_BACK_WITHIN,
            "the mail was not delivered after the worker was killed:\n"
            + (tmp_path / "worker-2.log").read_text()[-3000:],
        )
        time.sleep(3)  # a second delivery would come at once
        # Delivered once (the server never accepted the first try), with the Message-ID it was given when queued.
        [mail] = delivered()
        assert mail["Message-ID"].strip() == message_id
        assert query(url, "SELECT status FROM monographs_outboxmail WHERE message_id = %s", message_id) == [("sent",)]
    finally:
        stop(second)
        sink.stop()
