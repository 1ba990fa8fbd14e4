"""Email about reviews: reviewers hear of submissions, authors of decisions.

Called from `receivers` once a transition has committed.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from .working_copy import authors_since_publication


def _review_url(entry):
    return settings.FORMULARY_SITE_URL + reverse("admin:monographs_entry_review", args=[entry.pk])


def reviewers():
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__name="Reviewers").exclude(email="").distinct()


def mail_reviewers(*, entry, user, comment):
    """Mail the reviewers (other than the submitter) who have an address; return the users mailed."""
    people = [u for u in reviewers() if u.pk != user.pk]
    recipients = [u.email for u in people]
    if recipients:
        send_mail(
            f"[Formulary] {entry.generic_name} submitted for review",
            f"{user.get_full_name() or user.username} submitted {entry.generic_name} for review.\n"
            f"Comment: {comment or '(none)'}\nReview it at {_review_url(entry)}\n",
            None,
            recipients,
        )
    return people


def mail_authors(*, entry, event, verdict):
    """Mail the authors of the decided changes who have an address; return the users mailed."""
    User = get_user_model()
    author_ids = authors_since_publication(entry, event.revision)
    people = list(User.objects.filter(pk__in=author_ids).exclude(email="").order_by("username"))
    recipients = [u.email for u in people]
    if recipients:
        send_mail(
            f"[Formulary] {entry.generic_name} {verdict}",
            # A scheduled go-live has no actor: the timer published what a reviewer approved earlier.
            f"{(event.actor.get_full_name() or event.actor.username) if event.actor else 'The formulary'} "
            f"{verdict} your changes to "
            f"{entry.generic_name}.\nComment: {event.comment}\n",
            None,
            recipients,
        )
    return people
