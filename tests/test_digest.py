"""`manage.py send_digest`: the changes of a period mailed once to the configured staff."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from monographs import outbox, periods
from monographs.models import DigestSent, ImmutableRecordError, OutboxMail

from .factories import make_user
from .job_queue import run_jobs
from .test_changes import Q1, at, hk, make_history


@pytest.fixture(autouse=True)
def digest_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FORMULARY_DIGEST_RECIPIENTS = ["pharmacy-staff@example.org", "Chief@example.org"]
    settings.FORMULARY_DIGEST_GROUPS = ["Reviewers"]
    settings.FORMULARY_SITE_URL = "https://formulary.example"


@pytest.fixture
def history(db, editor, reviewer):
    return make_history(editor, reviewer)


def digests_sent():
    """Run the queued mail jobs; the digests among the mails sent (the history's review mails
    go to named people, a digest only to Bcc)."""
    run_jobs("send_mail")
    return [m for m in mail.outbox if m.bcc]


def run(*args):
    out = StringIO()
    call_command("send_digest", *args, stdout=out)
    return out.getvalue()


def test_digest_is_sent_once_per_period_with_text_and_html(history, reviewer):
    make_user("reader-with-mail", "Readers")
    make_user("chief", "Reviewers")  # chief@example.org, also configured as Chief@example.org: one copy

    output = run("--since", Q1["from"], "--until", Q1["to"])
    assert "Queued for 3 address(es): 1 new, 1 changed, 1 withdrawn." in output
    # Recorded as sent only once the worker has handed it to the mail server.
    assert not DigestSent.objects.exists()
    [message] = digests_sent()
    assert sorted(message.recipients()) == ["Chief@example.org", "pharmacy-staff@example.org", "reviewer@example.org"]
    assert "2025-01-01" in message.subject and "2025-03-31" in message.subject
    text = message.body
    assert "Aspirin" in text and "Amoxicillin" in text and "Gonadorelin" in text
    assert "https://formulary.example/en/entries/amoxicillin/compare/1/2/" in text
    for outside in ("Labetalol", "Metformin", "Nifedipine", "Secret"):
        assert outside not in text
    [(html, mime)] = message.alternatives
    assert mime == "text/html"
    assert '<a href="https://formulary.example/en/entries/aspirin/">Aspirin</a>' in html and "Secret" not in html
    record = DigestSent.objects.get()
    assert (record.first_day, record.last_day) == (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))

    again = run("--since", Q1["from"], "--until", Q1["to"])

    assert len(digests_sent()) == 1
    assert "Already sent" in again and DigestSent.objects.count() == 1


def test_without_since_the_last_complete_quarter_is_sent_once(history):
    with at(hk(2025, 4, 1, 8)):
        run()
        assert "Already queued" in run()  # before the worker sent it
        digests_sent()
        assert "Already sent" in run()

    [message] = digests_sent()
    assert "2025-01-01" in message.subject and "Aspirin" in message.body


def test_digest_in_chinese(history):
    run("--since", Q1["from"], "--until", Q1["to"], "--language", "zh-hant")

    [message] = digests_sent()
    assert "新增條目" in message.body


@pytest.mark.parametrize(
    "args",
    [
        ("--since", "last quarter"),
        ("--since", "2025-02-30"),
        ("--since", "2025-03-01", "--until", "2025-01-01"),
        ("--since", "2020-01-01", "--until", "2025-01-01"),
        ("--until", "2025-01-01"),
    ],
)
def test_bad_dates_are_a_clear_command_error(db, args):
    with pytest.raises(CommandError) as error:
        run(*args)

    assert str(error.value)
    assert not mail.outbox and not DigestSent.objects.exists()


def test_nobody_to_send_to_is_an_error_and_nothing_is_recorded(db, settings):
    settings.FORMULARY_DIGEST_RECIPIENTS = []

    with pytest.raises(CommandError, match="FORMULARY_DIGEST_RECIPIENTS"):
        run("--since", "2025-01-01", "--until", "2025-03-31")

    assert not DigestSent.objects.exists()


def test_a_failing_mail_server_records_nothing_and_the_mail_waits_for_a_retry(db, settings):
    settings.EMAIL_BACKEND = "tests.failing_mail.EmailBackend"

    run("--since", "2025-01-01", "--until", "2025-03-31")
    run_jobs("send_mail", errors="keep")

    assert not DigestSent.objects.exists()
    waiting = OutboxMail.objects.get(kind="digest")
    assert waiting.status == OutboxMail.Status.QUEUED and "unreachable" in waiting.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox.send(waiting.pk)  # the retry
    assert DigestSent.objects.count() == 1 and len(mail.outbox) == 1


def test_sent_periods_are_append_only(db):
    record = DigestSent.objects.create(
        first_day=datetime.date(2025, 1, 1), last_day=datetime.date(2025, 3, 31), recipients="a@example.org", summary=""
    )

    with pytest.raises(ImmutableRecordError):
        record.delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            DigestSent.objects.filter(pk=record.pk).delete()


def test_quarters():
    assert periods.last_complete_quarter(datetime.date(2025, 1, 5)) == periods.Period(
        datetime.date(2024, 10, 1), datetime.date(2024, 12, 31)
    )
    assert periods.last_complete_quarter(datetime.date(2025, 7, 1)) == periods.Period(
        datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)
    )
    assert periods.this_quarter_so_far(datetime.date(2025, 11, 30)).first == datetime.date(2025, 10, 1)
