"""The digest of what changed in a period, mailed to staff (`manage.py send_digest`, and the
job queue's quarterly periodic job).

The content is `selectors.changes_between` (the changes page's), rendered as plain text and
HTML with absolute links (FORMULARY_SITE_URL). Each period is sent once: `send` writes one
outbox mail keyed by the period (a second run finds it and queues nothing), the worker sends
it, and only when the mail server has accepted it is the period recorded as sent
(`record_sent`, a DigestSent row in the same transaction as the outbox row is marked sent).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from . import selectors
from .models import DigestSent, OutboxMail


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
    addresses = [a.strip() for a in settings.FORMULARY_DIGEST_RECIPIENTS if a.strip()]
    groups = list(settings.FORMULARY_DIGEST_GROUPS)
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


class AlreadyQueued(Exception):
    """The digest of this period is waiting in the outbox (`mail` is its OutboxMail row)."""

    def __init__(self, mail):
        super().__init__(f"The digest is queued since {mail.created_at:%Y-%m-%d %H:%M} (attempts: {mail.attempts}).")
        self.mail = mail


def _key(period):
    return f"digest:{period.first.isoformat()}:{period.last.isoformat()}"


def send(period):
    """Queue the digest of `period` for `recipients()` once: returns the OutboxMail written.

    Raises AlreadySent when the period was sent before, AlreadyQueued when its mail waits in the
    outbox, NoRecipients when nobody would get it (nothing is queued then). The period is recorded
    as sent by `record_sent` when the worker has handed the mail to the mail server.
    """
    from . import jobs, outbox

    record = sent_before(period)
    if record is not None:
        raise AlreadySent(record)
    to = recipients()
    if not to:
        raise NoRecipients(
            _("Nobody to send the digest to: set FORMULARY_DIGEST_RECIPIENTS or FORMULARY_DIGEST_GROUPS.")
        )
    subject, text, html, changes = build(period)
    with transaction.atomic():
        existing = OutboxMail.objects.filter(key=_key(period)).first()
        if existing is not None:
            raise AlreadyQueued(existing)
        try:
            with transaction.atomic():
                # One message to staff; each address in Bcc so recipients do not see each other.
                mail = outbox.write(
                    kind="digest",
                    key=_key(period),
                    subject=subject,
                    body=text,
                    html=html,
                    bcc=to,
                    digest={
                        "first_day": period.first.isoformat(),
                        "last_day": period.last.isoformat(),
                        "summary": summary_of(changes)[:200],
                    },
                )
        except IntegrityError:
            raise AlreadyQueued(OutboxMail.objects.get(key=_key(period))) from None
        jobs.queue_mail(mail)
    return mail


def record_sent(mail):
    """Record the period of a digest mail the mail server accepted (in the outbox's transaction)."""
    period = mail.digest
    DigestSent.objects.get_or_create(
        first_day=period["first_day"],
        last_day=period["last_day"],
        defaults={"recipients": "\n".join(mail.bcc + mail.to), "summary": period["summary"]},
    )


def queue_last_quarter():
    """The periodic job: queue the last complete quarter's digest unless done (or nobody to send to)."""
    from django.utils import translation

    from . import periods

    with translation.override(settings.LANGUAGE_CODE):
        try:
            return send(periods.last_complete_quarter())
        except (AlreadySent, AlreadyQueued, NoRecipients):
            return None
