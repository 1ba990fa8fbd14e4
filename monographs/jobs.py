"""Queueing background work in the caller's transaction.

`workflow._record` calls `transition_recorded(event)` inside every transition's transaction.
From it, the mails the transition causes are written to the outbox and their sending queued,
and a publication, go-live or withdrawal queues the rebuild of the booklets it changes: the
whole formulary's and its drug class's (both, before and after a class change), in every
language. Jobs are rows in procrastinate's PostgreSQL tables written through Django's own
connection, so they commit or roll back with the transition: a transition never happens
without its jobs, and no job runs for a transition that was rolled back. That holds in the
worker too (a scheduled go-live), where procrastinate's own connector is a separate pool.

A publication or go-live also queues the rendering of the new edition's stored page parts
(`fragments`), so its first visitors read them instead of rendering, and the approval does not
wait for the templates.

Rebuilds coalesce: a booklet has one queued job at a time (procrastinate's queueing lock),
and the job builds whatever is live when it runs, so the newest content wins.
"""

from django.db import transaction
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager

from . import booklet_store, notifications
from .models import AuditEvent, Edition

Action = AuditEvent.Action
BOOKLET_ACTIONS = {Action.APPROVED, Action.WENT_LIVE, Action.WITHDRAWN}
# What makes an edition live, so its page parts are worth rendering before anyone asks.
PUBLISHING_ACTIONS = {Action.APPROVED, Action.WENT_LIVE}


def _defer(task_name, *, queueing_lock=None, lock=None, **kwargs):
    """Insert a job through Django's connection (the caller's transaction); False when an
    identical job is already waiting (its queueing lock)."""
    task = app.tasks[task_name]
    options = {key: value for key, value in (("queueing_lock", queueing_lock), ("lock", lock)) if value}
    deferrer = JobDeferrer(JobManager(DjangoConnector(alias="default")), task.configure(**options).job)
    try:
        # A savepoint: the refused insert of a duplicate must not abort the caller's transaction.
        with transaction.atomic():
            deferrer.defer(**kwargs)
    except procrastinate_exceptions.AlreadyEnqueued:
        return False
    return True


def booklet_lock(drug_class, language):
    return f"booklet:{drug_class or '*'}:{language}"


def queue_booklet(drug_class, language):
    """Queue the rebuild of one booklet unless one is already waiting (it will build the newest)."""
    lock = booklet_lock(drug_class, language)
    return _defer("build_booklet", queueing_lock=lock, lock=lock, drug_class=drug_class, language=language)


def queue_booklets(drug_classes):
    for drug_class in sorted(set(drug_classes)):
        for language in booklet_store.languages():
            queue_booklet(drug_class, language)


def queue_rendering(edition_id):
    """Queue the rendering of an edition's stored page parts (one waiting job per edition)."""
    lock = f"render:{edition_id}"
    return _defer("render_edition", queueing_lock=lock, lock=lock, edition_id=edition_id)


def queue_mail(mail):
    """Queue the sending of an OutboxMail row (written in the same transaction)."""
    _defer("send_mail", lock=f"mail:{mail.pk}", mail_id=mail.pk)


def _classes_touched(event):
    classes = {booklet_store.ALL}
    if event.edition is not None:
        classes.add(event.edition.drug_class)
        # A publication may move the entry to another class: the old class's booklet changes too.
        previous = (
            Edition.objects.filter(entry_id=event.entry_id, number__lt=event.edition.number)
            .order_by("-number")
            .values_list("drug_class", flat=True)
            .first()
        )
        if previous is not None:
            classes.add(previous)
    return classes


def transition_recorded(event):
    """Queue what `event` (an AuditEvent just written, in its transaction) sets in motion.

    Sets `event.notified` to the users whose mail was queued (the screens name them)."""
    if event.action in BOOKLET_ACTIONS:
        queue_booklets(_classes_touched(event))
    if event.action in PUBLISHING_ACTIONS and event.edition_id is not None:
        queue_rendering(event.edition_id)
    mails, people = notifications.mails_for_event(event)
    for mail in mails:
        queue_mail(mail)
    if people is not None:
        event.notified = people
