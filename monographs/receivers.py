"""Every signal receiver of the app, in one place; `apps.MonographsConfig.ready` imports it.

Receivers stay thin: each hands over to the module that owns the rule.
- A new entry gets its review-state row.
- A committed django-reversion revision of an entry is an edit of the working
  copy (`workflow.record_edit`): it becomes a draft, and ends a review in progress.
- Workflow transitions queue their mails and booklet rebuilds in their own transaction
  (`workflow._record` calls `jobs.transition_recorded`), not here: a receiver runs after
  the commit, where a crash would lose the mail.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver
from reversion.signals import post_revision_commit

from . import workflow
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
