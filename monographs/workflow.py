"""Every state change of an entry, with its permission check, in one place.

Each transition runs in one transaction with the entry's state row locked,
checks who may do it, changes the state, writes one AuditEvent and sends its
signal once the transaction commits. The admin, views and commands call these
functions; none of them re-implements a rule.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import signals, working_copy
from .models import AuditEvent, Edition, Entry, EntryState, State
from .snapshots import listing_fields, snapshot_of_revision

Action = AuditEvent.Action
logger = logging.getLogger(__name__)


class TransitionError(Exception):
    """The entry is not in a state that allows this transition; the message says why."""


class StaleReviewError(TransitionError):
    """The version a reviewer decided on is no longer the one awaiting review.

    `current_revision` is the revision that now awaits review (None when none
    does), so a screen can offer the reviewer the version they have not seen.
    """

    def __init__(self, message, *, current_revision=None):
        super().__init__(message)
        self.current_revision = current_revision


def review_interval():
    """How long a published monograph stays current before it is due for review again."""
    return datetime.timedelta(days=getattr(settings, "FORMULARY_REVIEW_INTERVAL_DAYS", 730))


def _locked_state(entry):
    return EntryState.objects.select_for_update().get_or_create(entry=entry)[0]


def _has(user, perm):
    return bool(user and user.is_active and user.has_perm(f"monographs.{perm}"))


def _require(user, perm, message):
    if not _has(user, perm):
        raise PermissionDenied(message)


def _record(state, *, action, from_state, user, comment="", revision=None, edition=None, signal=None):
    event = AuditEvent.objects.create(
        entry=state.entry,
        action=action,
        from_state=from_state,
        to_state=state.state,
        actor=user,
        comment=comment,
        revision=revision,
        edition=edition,
    )
    if signal is not None:

        def notify():
            # The transition has committed: a failing receiver (the mail server is
            # down, a name with a line break refused as a mail header) must not turn
            # it into an error page or go unnoticed. Logged with the traceback, and
            # marked on the event so the screen can say the mail was not sent.
            # A named function, not functools.partial: Django logs a failing robust
            # callback by its __qualname__, which a partial lacks, so that logging
            # itself raised and the committed transition became a 500.
            try:
                signal.send(sender=Entry, entry=state.entry, user=user, comment=comment, event=event)
            except Exception:
                event.notification_failed = True
                logger.exception(
                    "Notification failed after %s of entry %s (audit event %s); the transition stands.",
                    action,
                    state.entry.pk,
                    event.pk,
                )

        transaction.on_commit(notify, robust=True)
    return event


def _require_comment(comment, message):
    comment = (comment or "").strip()
    if not comment:
        raise TransitionError(message)
    return comment


# "May I?" ------------------------------------------------------------------
# Screens ask these before offering an action; the transitions below ask the
# same questions again under the row lock, so a stale screen cannot slip past.


def _state_of(entry):
    return EntryState.objects.get_or_create(entry=entry)[0]


def _submit_refusal(user, state):
    if not _has(user, "submit_entry"):
        return _("Only editors can submit entries for review.")
    if state.state == State.IN_REVIEW:
        return _("This entry is already in review.")
    if state.state == State.PUBLISHED:
        return _("Nothing to submit: the working copy is the published edition.")
    return None


def can_edit(user, entry):
    """Whether `user` may change the working copy (an edit during review ends that review)."""
    return _has(user, "change_entry")


def can_review_any(user):
    """Whether `user` reviews entries at all (the admin home shows reviewers the queue)."""
    return _has(user, "review_entry")


def can_submit(user, entry, state=None):
    """Whether `user` may send the working copy of `entry` for review now."""
    return _submit_refusal(user, state or _state_of(entry)) is None


def can_review(user, entry, state=None):
    """Whether `user` may decide on `entry` now (a version awaits review and they are a reviewer)."""
    return _has(user, "review_entry") and awaits_review(entry, state)


def awaits_review(entry, state=None):
    """Whether a version of `entry` is awaiting a reviewer's decision (anyone with access may read it)."""
    return (state or _state_of(entry)).state == State.IN_REVIEW


def may_approve(user, entry, revision):
    """Whether `user` may approve `revision` of `entry` under the four-eyes rule, and if not why."""
    if not _has(user, "review_entry"):
        return False, _("Only reviewers can approve entries.")
    if getattr(settings, "FORMULARY_ALLOW_SELF_APPROVAL", False):
        return True, ""
    if user.pk in working_copy.authors_since_publication(entry, revision):
        return False, _("You edited this version, so another reviewer must approve it (four-eyes rule).")
    return True, ""


def can_withdraw(user, entry, state=None):
    """Whether `user` may take `entry` off the public pages now."""
    return _has(user, "withdraw_entry") and (state or _state_of(entry)).live_edition_id is not None


# Transitions ---------------------------------------------------------------


def submit(*, entry, user, comment=""):
    """Send the current working copy for review; it is frozen from now on."""
    _require(user, "submit_entry", _("Only editors can submit entries for review."))
    with transaction.atomic():
        state = _locked_state(entry)
        refusal = _submit_refusal(user, state)
        if refusal is not None:
            raise TransitionError(refusal)
        revision = working_copy.latest_revision(entry)
        if revision is None:
            raise TransitionError(_("This entry has no saved version to submit."))
        from_state = state.state
        state.state = State.IN_REVIEW
        state.submitted_revision = revision
        state.submitted_by = user
        state.submitted_at = timezone.now()
        state.save()
        return _record(
            state,
            action=Action.SUBMITTED,
            from_state=from_state,
            user=user,
            comment=comment,
            revision=revision,
            signal=signals.entry_submitted,
        )


def _check_reviewable(state, user, *, refused, not_in_review):
    _require(user, "review_entry", refused)
    if state.state != State.IN_REVIEW:
        raise TransitionError(not_in_review % {"state": state.get_state_display().lower()})


def _check_reviewed_revision(state, revision):
    """Refuse a decision taken on another version than the one awaiting review.

    The reviewer's screen sends the revision it showed; if the editor changed
    and resubmitted the entry meanwhile, publishing "whatever is submitted now"
    would put an unseen text live under the reviewer's name.
    """
    reviewed_id = getattr(revision, "pk", revision)
    if reviewed_id is None or state.submitted_revision_id != int(reviewed_id):
        raise StaleReviewError(
            _(
                "The version you reviewed is no longer the one awaiting review: the entry was changed and "
                "submitted again after you opened it. Nothing was done; review the current version."
            ),
            current_revision=state.submitted_revision,
        )


def approve(*, entry, user, revision, comment):
    """Approve `revision`, the submitted revision the reviewer saw: it becomes a new edition,
    which is then published (four-eyes enforced).

    Refused with StaleReviewError when `revision` is no longer the one awaiting review.
    """
    with transaction.atomic():
        state = _locked_state(entry)
        _check_reviewable(
            state,
            user,
            refused=_("Only reviewers can approve entries."),
            not_in_review=_("Only a version submitted for review can be approved; this entry is %(state)s."),
        )
        _check_reviewed_revision(state, revision)
        comment = _require_comment(comment, _("A comment is required to approve."))
        revision = state.submitted_revision
        if working_copy.latest_revision(entry).pk != revision.pk:
            raise TransitionError(_("The entry changed after it was submitted; the new draft needs its own review."))
        allowed, reason = may_approve(user, entry, revision)
        if not allowed:
            raise PermissionDenied(reason)

        now = timezone.now()
        content = snapshot_of_revision(revision, entry.pk)
        last_number = Edition.objects.filter(entry=entry).order_by("-number").values_list("number", flat=True).first()
        edition = Edition(
            entry=entry,
            number=(last_number or 0) + 1,
            revision=revision,
            content=content,
            **listing_fields(content),
            approved_by=user,
            approved_at=now,
            next_review_due=timezone.localdate(now) + review_interval(),
        )
        from_state = state.state
        state.submitted_revision = None
        publish(edition=edition, state=state)
        return _record(
            state,
            action=Action.APPROVED,
            from_state=from_state,
            user=user,
            comment=comment,
            revision=revision,
            edition=edition,
            signal=signals.entry_approved,
        )


def publish(*, edition, state=None):
    """Make an approved edition the live one of its entry, in the caller's transaction.

    Separate from `approve` because publication is the step that a scheduled
    go-live will run later; it checks what only matters at publication time:
    that no other live entry already uses the public address.
    """
    state = state or _locked_state(edition.entry)
    if Edition.objects.live().filter(slug=edition.slug).exclude(entry=edition.entry).exists():
        raise TransitionError(
            _("Another published entry already uses the address /entries/%(slug)s/; change the slug first.")
            % {"slug": edition.slug}
        )
    if edition.pk is None:
        edition.save()
    state.state = State.PUBLISHED
    state.live_edition = edition
    state.next_review_due = edition.next_review_due
    state.save()
    return edition


def reject(*, entry, user, revision, comment):
    """Send `revision`, the submitted version the reviewer saw, back to its author with the reviewer's comment."""
    with transaction.atomic():
        state = _locked_state(entry)
        _check_reviewable(
            state,
            user,
            refused=_("Only reviewers can reject entries."),
            not_in_review=_("Only a version submitted for review can be rejected; this entry is %(state)s."),
        )
        _check_reviewed_revision(state, revision)
        comment = _require_comment(comment, _("A comment is required to reject."))
        revision = state.submitted_revision
        from_state = state.state
        state.state = State.DRAFT
        state.submitted_revision = None
        state.save()
        return _record(
            state,
            action=Action.REJECTED,
            from_state=from_state,
            user=user,
            comment=comment,
            revision=revision,
            signal=signals.entry_rejected,
        )


def withdraw(*, entry, user, comment):
    """Take the entry off the public pages; approval of a version publishes it again."""
    _require(user, "withdraw_entry", _("Only reviewers can withdraw published entries."))
    with transaction.atomic():
        state = _locked_state(entry)
        if state.live_edition is None:
            raise TransitionError(_("This entry is not on the public pages."))
        comment = _require_comment(comment, _("A comment is required to withdraw."))
        edition = state.live_edition
        from_state = state.state
        state.live_edition = None
        if state.state == State.PUBLISHED:
            state.state = State.WITHDRAWN
        state.save()
        return _record(
            state,
            action=Action.WITHDRAWN,
            from_state=from_state,
            user=user,
            comment=comment,
            revision=edition.revision,
            edition=edition,
            signal=signals.entry_withdrawn,
        )


def record_edit(*, entry, revision):
    """A new revision of the working copy: it is a draft until reviewed.

    An edit during review ends that review, because the reviewer would
    otherwise approve something other than what they saw.
    """
    with transaction.atomic():
        state = _locked_state(entry)
        if state.state not in (State.IN_REVIEW, State.PUBLISHED, State.WITHDRAWN):
            return None
        from_state = state.state
        state.state = State.DRAFT
        state.submitted_revision = None
        state.save()
        comment = _("Edited after submission; the submission was withdrawn.") if from_state == State.IN_REVIEW else ""
        return _record(
            state, action=Action.EDITED, from_state=from_state, user=revision.user, comment=comment, revision=revision
        )
