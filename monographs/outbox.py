"""The outbox: mail written to PostgreSQL in the transaction that causes it, sent by the worker.

`write` stores an OutboxMail (with its Message-ID fixed there and then) and `jobs.queue_mail`
queues its sending in the same transaction, so a committed transition always has its mail and
a rolled-back one never does. `send` (run by `tasks.send_mail`) hands it to the mail server
once the row says it is still to be sent; a mail server that is down makes the job fail and
procrastinate retries it with growing waits. Delivery is at least once: a worker killed after
the server accepted a mail but before the row was marked sent sends it again on retry, with
the same Message-ID, so mail clients and servers can recognise the duplicate. An address the
server refuses permanently (a 5xx reply) marks the mail failed for staff to see in the admin.
"""

import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils import timezone

from .models import OutboxMail

logger = logging.getLogger(__name__)
Status = OutboxMail.Status


def _domain():
    return urlsplit(settings.FORMULARY_SITE_URL or "").hostname or "formulary.localhost"


def write(*, kind, subject, body, to=(), bcc=(), html="", key=None, digest=None):
    """Store a mail to send (in the caller's transaction) and return it; `key` makes a second
    write of the same mail return the first (a digest period queued twice)."""
    if key is not None:
        existing = OutboxMail.objects.filter(key=key).first()
        if existing is not None:
            return existing
    return OutboxMail.objects.create(
        key=key,
        kind=kind,
        subject=subject[:300],
        body=body,
        html=html,
        to=list(to),
        bcc=list(bcc),
        message_id=make_msgid(domain=_domain()),
        digest=digest,
    )


def _message(mail):
    message = EmailMultiAlternatives(
        mail.subject, mail.body, None, mail.to, bcc=mail.bcc, headers={"Message-ID": mail.message_id}
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    return message


def _permanent(exc):
    """Whether the mail server's answer means retrying cannot help (a 5xx reply)."""
    if isinstance(exc, ValueError):  # BadHeaderError: a line break in a subject, the same each time
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def send(mail_id, *, final_attempt=False):
    """Send one queued mail unless it was sent already; raise to have the job retried.

    The row is locked while the mail server is asked, so two workers never send it at once;
    the attempt and its error are committed before the error is raised to the queue."""
    from . import digest  # the digest records its period when its mail goes out

    error = None
    with transaction.atomic():
        mail = OutboxMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != Status.QUEUED:
            return mail
        mail.attempts += 1
        try:
            _message(mail).send()
        except Exception as exc:
            mail.last_error = repr(exc)[:2000]
            if _permanent(exc) or final_attempt:
                mail.status = Status.FAILED
                logger.error("mail %s (%s) failed permanently: %s", mail.pk, mail.subject, mail.last_error)
            else:
                error = exc
            mail.save(update_fields=["status", "attempts", "last_error"])
        else:
            mail.status = Status.SENT
            mail.sent_at = timezone.now()
            mail.last_error = ""
            mail.save(update_fields=["status", "sent_at", "attempts", "last_error"])
            if mail.digest:
                digest.record_sent(mail)
    if error is not None:
        logger.warning("mail %s (%s) not sent, will retry: %s", mail.pk, mail.subject, mail.last_error)
        raise error
    return mail
