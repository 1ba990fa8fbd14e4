"""Every signal receiver of the app, in one place; `apps.MonographsConfig.ready` imports it.

Receivers stay thin: each hands over to the module that owns the rule.
- A new entry gets its review-state row.
- A committed django-reversion revision of an entry is an edit of the working
  copy (`workflow.record_edit`): it becomes a draft, and ends a review in progress.
- Workflow transitions tell people by mail (`notifications`).
"""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from reversion.signals import post_revision_commit

from . import notifications, signals, workflow
from .models import Entry, EntryState


@receiver(post_save, sender=Entry, dispatch_uid="monographs_entry_state")
def create_state(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        EntryState.objects.get_or_create(entry=instance)


@receiver(post_revision_commit, dispatch_uid="monographs_record_edit")
def record_edit(sender, revision, versions, **kwargs):
    for version in versions:
        if version.content_type.model_class() is Entry:
            workflow.record_edit(entry=Entry.objects.get(pk=version.object_id), revision=revision)


@receiver(signals.entry_submitted, dispatch_uid="monographs_mail_submitted")
def mail_reviewers(sender, entry, user, comment, event, **kwargs):
    # The screen says whom the mail went to (an empty list: nobody had an address).
    event.notified = notifications.mail_reviewers(entry=entry, user=user, comment=comment)


@receiver(signals.entry_approved, dispatch_uid="monographs_mail_approved")
def mail_author_approved(sender, entry, event, **kwargs):
    if event.edition.effective_at:
        when = timezone.localtime(event.edition.effective_at).strftime("%Y-%m-%d %H:%M")
        verdict = f"approved (goes live on {when})"
    else:
        verdict = "approved and published"
    event.notified = notifications.mail_authors(entry=entry, event=event, verdict=verdict)


@receiver(signals.entry_published, dispatch_uid="monographs_mail_published")
def mail_author_published(sender, entry, event, **kwargs):
    # Going live on schedule is a publication like any other: the authors hear of it.
    event.notified = notifications.mail_authors(entry=entry, event=event, verdict="published as scheduled")


@receiver(signals.entry_rejected, dispatch_uid="monographs_mail_rejected")
def mail_author_rejected(sender, entry, event, **kwargs):
    event.notified = notifications.mail_authors(entry=entry, event=event, verdict="rejected")
