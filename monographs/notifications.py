"""Mail about reviews and recalls: reviewers hear of submissions, authors of decisions, and
authors and the configured staff list of a withdrawal (the recall notice).

`mails_for_event` is called by `jobs.transition_recorded` inside the transition's transaction:
the mails are written to the outbox (`outbox.write`) there, and sent by the worker.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from . import outbox
from .models import AuditEvent
from .working_copy import authors_since_publication

Action = AuditEvent.Action


def _review_url(entry):
    return settings.FORMULARY_SITE_URL + reverse("admin:monographs_entry_review", args=[entry.pk])


def _name(user):
    # A scheduled go-live has no actor: the timer published what a reviewer approved earlier.
    return (user.get_full_name() or user.username) if user else "The formulary"


def reviewers():
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__name="Reviewers").exclude(email="").distinct()


def mail_reviewers(*, entry, user, comment):
    """Queue a mail to the reviewers (other than the submitter) who have an address; return them."""
    people = [u for u in reviewers() if u.pk != user.pk]
    mails = []
    if people:
        mails.append(
            outbox.write(
                kind="submitted",
                subject=f"[Formulary] {entry.generic_name} submitted for review",
                body=f"{_name(user)} submitted {entry.generic_name} for review.\n"
                f"Comment: {comment or '(none)'}\nReview it at {_review_url(entry)}\n",
                to=[u.email for u in people],
            )
        )
    return mails, people


def _authors(entry, revision):
    User = get_user_model()
    author_ids = authors_since_publication(entry, revision) if revision is not None else set()
    return list(User.objects.filter(pk__in=author_ids, is_active=True).exclude(email="").order_by("username"))


def mail_authors(*, entry, event, verdict):
    """Queue a mail to the authors of the decided changes who have an address; return them."""
    people = _authors(entry, event.revision)
    mails = []
    if people:
        mails.append(
            outbox.write(
                kind=event.action,
                subject=f"[Formulary] {entry.generic_name} {verdict}",
                body=f"{_name(event.actor)} {verdict} your changes to {entry.generic_name}.\n"
                f"Comment: {event.comment}\n",
                to=[u.email for u in people],
            )
        )
    return mails, people


def mail_recall(*, entry, event):
    """Queue the recall notice of a withdrawal: to the entry's authors and FORMULARY_RECALL_RECIPIENTS."""
    people = _authors(entry, event.revision)
    staff = [a for a in settings.FORMULARY_RECALL_RECIPIENTS if a.strip()]
    to = [u.email for u in people]
    bcc = [a for a in staff if a.lower() not in {t.lower() for t in to}]
    mails = []
    if to or bcc:
        when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
        mails.append(
            outbox.write(
                kind="withdrawn",
                subject=f"[Formulary] RECALL: {entry.generic_name} withdrawn",
                body=f"{entry.generic_name} was withdrawn from the formulary on {when} by {_name(event.actor)}.\n"
                f"Reason: {event.comment}\n"
                f"Its page and booklets are no longer published: {settings.FORMULARY_SITE_URL}/\n",
                to=to,
                bcc=bcc,
            )
        )
    return mails, people


def _approved_verdict(event):
    if event.edition is not None and event.edition.effective_at:
        when = timezone.localtime(event.edition.effective_at).strftime("%Y-%m-%d %H:%M")
        return f"approved (goes live on {when})"
    return "approved and published"


def mails_for_event(event):
    """(OutboxMail rows written, users they go to) for a transition's AuditEvent; ([], None) when
    the transition mails nobody by design (an edit, a cancelled schedule)."""
    entry = event.entry
    if event.action == Action.SUBMITTED:
        return mail_reviewers(entry=entry, user=event.actor, comment=event.comment)
    if event.action in (Action.APPROVED, Action.SCHEDULED):
        return mail_authors(entry=entry, event=event, verdict=_approved_verdict(event))
    if event.action == Action.WENT_LIVE:
        return mail_authors(entry=entry, event=event, verdict="published as scheduled")
    if event.action == Action.REJECTED:
        return mail_authors(entry=entry, event=event, verdict="rejected")
    if event.action == Action.WITHDRAWN:
        return mail_recall(entry=entry, event=event)
    return [], None
