"""Scheduled go-live and withdrawal: workflow.approve/withdraw with an effective time,
publish_due (the `publish_scheduled` command), cancelling, overdue detection, audit."""

import datetime
import io
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from monographs import selectors, workflow, working_copy
from monographs.models import AuditEvent, EntryState, State

from .factories import edit

# Go-live times far enough ahead that no slow machine reaches them between the approval and
# the check that they are still in the future; the tests then move the clock past them.
GO_LIVE = datetime.timedelta(minutes=10)


def soon():
    return timezone.now() + GO_LIVE


def when_due():
    """A moment after every go-live planned with soon() in this test."""
    return timezone.now() + GO_LIVE + datetime.timedelta(hours=1)


def state_of(entry):
    return EntryState.objects.get(entry=entry)


def live_text(entry):
    edition = selectors.live_edition_for_key(entry_id=entry.pk, slug="")
    return edition and str(edition.content)


def submit_change(entry, editor, text):
    edit(entry, user=editor, first_section_body=text)
    return workflow.submit(entry=entry, user=editor).revision


def test_a_scheduled_edition_goes_live_at_its_time_and_not_before(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Second edition wording")
    event = workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="From Monday", effective_at=soon())

    assert event.action == AuditEvent.Action.SCHEDULED
    assert state_of(entry).state == State.SCHEDULED
    assert "Second edition wording" not in live_text(entry)  # the old edition stays live
    assert workflow.publish_due() == []  # not yet due

    out = io.StringIO()
    with time_machine.travel(when_due(), tick=True):  # the timer's next run, after the go-live time
        call_command("publish_scheduled", stdout=out)

    assert "Second edition wording" in live_text(entry)
    state = state_of(entry)
    assert state.state == State.PUBLISHED and state.scheduled_edition is None
    went_live = AuditEvent.objects.filter(entry=entry).first()
    assert went_live.action == AuditEvent.Action.WENT_LIVE and went_live.actor is None
    assert went_live.created_at >= went_live.edition.effective_at
    assert "Went live as scheduled" in out.getvalue()
    # Running again does nothing: never published twice.
    assert workflow.publish_due() == []


def test_no_moment_with_neither_or_both_editions_live(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    first = state_of(entry).live_edition
    revision = submit_change(entry, editor2, "Second")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    assert list(selectors.live_editions().filter(entry=entry)) == [first]
    workflow.publish_due(now=when_due())
    (live,) = selectors.live_editions().filter(entry=entry)
    assert live.number == 2


def test_editing_or_resubmitting_while_scheduled_keeps_the_schedule_and_the_new_draft(
    published_lenalidomide, editor2, reviewer2
):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Approved wording")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    submit_change(entry, editor2, "Newer draft wording")
    assert state_of(entry).state == State.IN_REVIEW

    workflow.publish_due(now=when_due())

    state = state_of(entry)
    assert "Approved wording" in live_text(entry)
    assert state.state == State.IN_REVIEW and state.submitted_revision is not None  # the newer version awaits review


def test_approving_a_newer_version_replaces_the_waiting_one(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    first = submit_change(entry, editor2, "Old plan")
    workflow.approve(entry=entry, revision=first, user=reviewer2, comment="Later", effective_at=soon())
    second = submit_change(entry, editor2, "New plan")
    # Replacing the waiting edition needs the reviewer's explicit confirmation.
    with pytest.raises(workflow.WaitingEditionError, match="edition 2, approved earlier, is waiting"):
        workflow.approve(entry=entry, revision=second, user=reviewer2, comment="Now")
    assert state_of(entry).scheduled_edition is not None
    event = workflow.approve(entry=entry, revision=second, user=reviewer2, comment="Now", replace_waiting=True)
    assert event.replaced.number == 2

    assert "New plan" in live_text(entry)
    assert state_of(entry).scheduled_edition is None
    assert AuditEvent.objects.filter(entry=entry, action=AuditEvent.Action.UNSCHEDULED).exists()
    workflow.publish_due(now=when_due())
    assert "New plan" in live_text(entry)  # the replaced edition never goes live


def test_withdrawing_while_scheduled_cancels_the_go_live(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Planned")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    workflow.withdraw(entry=entry, user=reviewer2, comment="Recall")
    workflow.publish_due(now=when_due())
    assert live_text(entry) is None
    assert state_of(entry).state == State.WITHDRAWN


def test_cancel_is_audited_and_leaves_the_old_edition_live(published_lenalidomide, editor2, reviewer2, editor):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Never mind")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    with pytest.raises(PermissionDenied):
        workflow.unschedule(entry=entry, user=editor, comment="no")
    workflow.unschedule(entry=entry, user=reviewer2, comment="Committee postponed it")
    workflow.publish_due(now=when_due())
    assert "Never mind" not in live_text(entry)
    event = AuditEvent.objects.filter(entry=entry).first()
    assert event.action == AuditEvent.Action.UNSCHEDULED and event.comment == "Committee postponed it"
    # The cancelled version is the working copy: a draft that can be submitted again.
    assert state_of(entry).state == State.DRAFT and workflow.can_submit(editor2, entry)
    with pytest.raises(workflow.TransitionError, match="Nothing is scheduled"):
        workflow.unschedule(entry=entry, user=reviewer2, comment="again")


def test_withdrawal_on_a_date(published_lenalidomide, reviewer):
    entry = published_lenalidomide
    event = workflow.withdraw(entry=entry, user=reviewer, comment="Discontinued", effective_at=soon())
    assert event.action == AuditEvent.Action.WITHDRAW_PLANNED
    assert live_text(entry) is not None
    events = workflow.publish_due(now=when_due())
    assert [e.action for e in events] == [AuditEvent.Action.WITHDRAWN]
    assert live_text(entry) is None and state_of(entry).state == State.WITHDRAWN


def test_overdue_schedule_is_reported_and_the_health_check_fails(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Late")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    call_command("check_schedule", stdout=io.StringIO())  # not overdue yet

    # The timer has not run for 7 minutes (editions are append-only, so move the clock, not the edition).
    later = timezone.now() + GO_LIVE + datetime.timedelta(minutes=7)
    assert [s.entry for s in working_copy.overdue_schedules(later)] == [entry]
    with mock.patch("django.utils.timezone.now", return_value=later):
        with pytest.raises(CommandError) as failed:
            call_command("check_schedule", stdout=io.StringIO(), stderr=io.StringIO())
    assert failed.value.returncode == 1


def test_publication_stamp_moves_when_the_edition_goes_live_not_at_approval(published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    before = selectors.formulary_last_changed()
    revision = submit_change(entry, editor2, "Stamp")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    assert selectors.formulary_last_changed() == before
    workflow.publish_due(now=when_due())
    assert selectors.formulary_last_changed() > before


# Through the admin -------------------------------------------------------------


def test_reviewer_schedules_from_the_review_page_sees_it_queued_and_cancels_it(
    client, published_lenalidomide, editor2, reviewer2
):
    from django.urls import reverse

    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "From the committee date")
    client.force_login(reviewer2)
    review = reverse("admin:monographs_entry_review", args=[entry.pk])
    when = timezone.localtime(timezone.now() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    past = timezone.localtime(timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    seen = workflow.state_token(entry)
    refused = client.post(
        review, {"decision": "approve", "comment": "OK", "revision": revision.pk, "go_live_at": past, "seen": seen}
    )
    assert refused.status_code == 200 and "Choose a time in the future" in refused.content.decode()
    assert state_of(entry).state == State.IN_REVIEW

    response = client.post(
        review, {"decision": "approve", "comment": "OK", "revision": revision.pk, "go_live_at": when, "seen": seen}
    )
    assert response.status_code == 302
    assert state_of(entry).state == State.SCHEDULED
    assert "From the committee date" not in client.get("/en/entries/lenalidomide/").content.decode()
    queue = client.get(reverse("admin:monographs_entry_review_queue")).content.decode()
    assert "Edition 2 goes live" in queue

    opened = client.get(reverse("admin:monographs_entry_change", args=[entry.pk]))
    page = opened.content.decode()
    assert "Edition 2 goes live on" in page and "Cancel schedule" in page
    cancel = reverse("admin:monographs_entry_unschedule", args=[entry.pk])
    assert client.post(cancel, {"comment": "Postponed", "seen": opened.context["state_token"]}).status_code == 302
    assert state_of(entry).scheduled_edition is None
    # The approved version is a draft again: it goes live only after another submission and review.
    assert state_of(entry).state == State.DRAFT


def test_overdue_schedule_is_shown_on_the_queue_and_entry_page(client, published_lenalidomide, editor2, reviewer2):
    from django.urls import reverse

    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Late")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    client.force_login(reviewer2)
    later = timezone.now() + GO_LIVE + datetime.timedelta(minutes=7)
    with mock.patch("django.utils.timezone.now", return_value=later):
        queue = client.get(reverse("admin:monographs_entry_review_queue")).content.decode()
        page = client.get(reverse("admin:monographs_entry_change", args=[entry.pk])).content.decode()
    assert "more than five minutes overdue" in queue
    assert "more than five minutes overdue" in page


def test_a_cancelled_scheduled_edition_never_appears_in_the_public_history(
    client, published_lenalidomide, editor2, reviewer2
):
    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Cancelled wording")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    workflow.unschedule(entry=entry, user=reviewer2, comment="Postponed")
    revision = submit_change(entry, editor2, "Published wording")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Now")

    live = selectors.live_edition_for_slug("lenalidomide")
    assert live.number == 3
    assert [row.number for row in selectors.edition_history(live)] == [3, 1]
    page = client.get("/en/entries/lenalidomide/").content.decode()
    assert "Cancelled wording" not in page
    assert client.get("/en/entries/lenalidomide/compare/1/2/").status_code == 404


def test_going_live_on_schedule_tells_the_authors(
    published_lenalidomide, editor2, reviewer2, django_capture_on_commit_callbacks
):
    from django.core import mail

    entry = published_lenalidomide
    revision = submit_change(entry, editor2, "Mail me")
    from .job_queue import run_jobs

    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=soon())
    run_jobs("send_mail")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish_due(now=when_due())
    run_jobs("send_mail")
    (message,) = mail.outbox
    assert message.to == [editor2.email]
    assert "published as scheduled" in message.subject and "The formulary published as scheduled" in message.body
