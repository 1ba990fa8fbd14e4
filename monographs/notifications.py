"""Email about reviews: reviewers hear of submissions, authors of decisions."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.dispatch import receiver
from django.urls import reverse

from . import signals
from .workflow import authors_since_publication


def _review_url(entry):
    return settings.FORMULARY_SITE_URL + reverse("admin:monographs_entry_review", args=[entry.pk])


def reviewers():
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__name="Reviewers").exclude(email="").distinct()


@receiver(signals.entry_submitted, dispatch_uid="monographs_mail_submitted")
def mail_reviewers(sender, entry, user, comment, event, **kwargs):
    recipients = [u.email for u in reviewers() if u.pk != user.pk]
    if recipients:
        send_mail(
            f"[Formulary] {entry.generic_name} submitted for review",
            f"{user.get_full_name() or user.username} submitted {entry.generic_name} for review.\n"
            f"Comment: {comment or '(none)'}\nReview it at {_review_url(entry)}\n",
            None,
            recipients,
        )


def _mail_authors(entry, event, verdict):
    User = get_user_model()
    author_ids = authors_since_publication(entry, event.revision)
    recipients = list(User.objects.filter(pk__in=author_ids).exclude(email="").values_list("email", flat=True))
    if recipients:
        send_mail(
            f"[Formulary] {entry.generic_name} {verdict}",
            f"{event.actor.get_full_name() or event.actor.username} {verdict} your changes to "
            f"{entry.generic_name}.\nComment: {event.comment}\n",
            None,
            recipients,
        )


@receiver(signals.entry_approved, dispatch_uid="monographs_mail_approved")
def mail_author_approved(sender, entry, event, **kwargs):
    _mail_authors(entry, event, "approved and published")


@receiver(signals.entry_rejected, dispatch_uid="monographs_mail_rejected")
def mail_author_rejected(sender, entry, event, **kwargs):
    _mail_authors(entry, event, "rejected")
