"""Every signal receiver of the app, in one place; `apps.MonographsConfig.ready` imports it.

Receivers stay thin: each hands over to the module that owns the rule.
- A new entry gets its review-state row.
- A committed django-reversion revision of an entry is an edit of the working
  copy (`workflow.record_edit`): it becomes a draft, and ends a review in progress.
- A renamed user's stored entry parts are dropped once the rename commits
  (`fragments.forget_approver`): the public history names each edition's approver.
- Workflow transitions queue their mails and booklet rebuilds in their own transaction
  (`workflow._record` calls `jobs.transition_recorded`), not here: a receiver runs after
  the commit, where a crash would lose the mail.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from reversion.signals import post_revision_commit

from . import fragments, workflow
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


User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="monographs_user_name_before")
def note_rename(sender, instance, raw=False, **kwargs):
    # The old name is only known before the save; the stored parts are dropped after it commits
    # (below), or a page read in between would store the old name again.
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list("first_name", "last_name").first()
    instance._formulary_renamed = before is not None and before != (instance.first_name, instance.last_name)


@receiver(post_save, sender=User, dispatch_uid="monographs_user_renamed")
def forget_renamed_approver(sender, instance, raw=False, **kwargs):
    if not raw and getattr(instance, "_formulary_renamed", False):
        instance._formulary_renamed = False
        user_id = instance.pk
        transaction.on_commit(lambda: fragments.forget_approver(user_id))
