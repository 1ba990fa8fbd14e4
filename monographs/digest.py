"""The digest of what changed in a period, mailed to staff (`manage.py send_digest`).

The content is `selectors.changes_between` (the changes page's), rendered as plain text and
HTML with absolute links (FORMULARY_SITE_URL). Each period is sent once: a DigestSent row is
written in the same transaction as the mail is handed to the mail server, and its unique
constraint makes a second run (or a second timer at the same moment) send nothing.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from . import selectors
from .models import DigestSent


class AlreadySent(Exception):
    """The digest of this period was sent before; `record` is its DigestSent row."""

    def __init__(self, record):
        super().__init__(f"The digest for {record} was sent at {record.sent_at:%Y-%m-%d %H:%M}.")
        self.record = record


class NoRecipients(Exception):
    """Neither FORMULARY_DIGEST_RECIPIENTS nor the members of FORMULARY_DIGEST_GROUPS give an address."""


def recipients():
    """The configured addresses and those of active members of the configured groups, deduplicated
    (case-insensitively), in a stable order."""
    addresses = [a.strip() for a in getattr(settings, "FORMULARY_DIGEST_RECIPIENTS", []) if a.strip()]
    groups = list(getattr(settings, "FORMULARY_DIGEST_GROUPS", []))
    if groups:
        members = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=groups)
            .exclude(email="")
            .order_by("email")
            .values_list("email", flat=True)
            .distinct()
        )
        addresses += list(members)
    seen, unique = set(), []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return unique


def sent_before(period):
    """The DigestSent row of `period`, or None."""
    return DigestSent.objects.filter(first_day=period.first, last_day=period.last).first()


def summary_of(changes):
    return _("%(new)d new, %(changed)d changed, %(withdrawn)d withdrawn") % {
        "new": len(changes.new),
        "changed": len(changes.changed),
        "withdrawn": len(changes.withdrawn),
    }


def build(period):
    """(subject, text, html) of the digest of `period`, in the active language."""
    changes = selectors.changes_between(*period.moments())
    context = {
        "period": period,
        "changes": changes,
        "summary": summary_of(changes),
        "site": settings.FORMULARY_SITE_URL,
        "max_rows": selectors.CHANGES_MAX_ROWS,
    }
    subject = _("[Formulary] Changes from %(first)s to %(last)s") % {
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
    }
    text = render_to_string("monographs/digest.txt", context)
    html = render_to_string("monographs/digest.html", context)
    return subject, text, html, changes


def send(period):
    """Mail the digest of `period` to `recipients()` once: returns the DigestSent row written.

    Raises AlreadySent when the period was sent before, NoRecipients when nobody would get it
    (nothing is recorded then). If the mail server refuses it, the error propagates and nothing
    is recorded, so the next run tries again.
    """
    record = sent_before(period)
    if record is not None:
        raise AlreadySent(record)
    to = recipients()
    if not to:
        raise NoRecipients(
            _("Nobody to send the digest to: set FORMULARY_DIGEST_RECIPIENTS or FORMULARY_DIGEST_GROUPS.")
        )
    subject, text, html, changes = build(period)
    try:
        with transaction.atomic():
            record = DigestSent.objects.create(
                first_day=period.first,
                last_day=period.last,
                recipients="\n".join(to),
                summary=summary_of(changes)[:200],
            )
            # One message to staff; each address in Bcc so recipients do not see each other.
            message = EmailMultiAlternatives(subject, text, None, [], bcc=to)
            message.attach_alternative(html, "text/html")
            message.send()
    except IntegrityError:
        # Another run recorded this period between our check and our insert.
        raise AlreadySent(sent_before(period)) from None
    return record
