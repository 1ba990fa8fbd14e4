"""Every state change of an entry, with its permission check, in one place.

Each transition runs in one transaction with the entry's state row locked,
checks who may do it, changes the state, writes one AuditEvent and sends its
signal once the transaction commits. The admin, views and commands call these
functions; none of them re-implements a rule.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from directory import accounts

from . import checks, jobs, publication, signals, working_copy
from .models import AuditEvent, Edition, Entry, EntryState, State, TranslationStatus
from .periods import local_datetime
from .snapshots import listing_fields, snapshot_of_revision, translation_findings
from .transitions import Action as Move
from .transitions import NotInTable, next_state, offered

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.dispatch import Signal
    from reversion.models import Revision

    from .checks import Finding
    from .snapshots import Snapshot
    from .working_copy import Change

Action = AuditEvent.Action
logger = logging.getLogger(__name__)


class TransitionError(Exception):
    """The entry is not in a state that allows this transition; the message says why."""


class StaleReviewError(TransitionError):
    """The version a reviewer decided on is no longer the one awaiting review.

    `current_revision` is the revision that now awaits review (None when none
    does), so a screen can offer the reviewer the version they have not seen.
    """

    def __init__(self, message: str, *, current_revision: Revision | None = None) -> None:
        super().__init__(message)
        self.current_revision = current_revision


class StaleStateError(TransitionError):
    """The entry changed after the deciding screen was opened (another decision, a withdrawal,
    a save): nothing was done. `changes` lists what happened since (`working_copy.Change`)."""

    def __init__(self, changes: list[Change]) -> None:
        super().__init__(
            _(
                "Nothing was done: this entry changed after your page was opened. "
                "Read what changed below, then open the page again and decide on what it shows now."
            )
        )
        self.changes = changes


class WaitingEditionError(TransitionError):
    """Approving would replace an edition approved earlier and still waiting to go live; the
    reviewer has not confirmed that (`edition` is the waiting one)."""

    def __init__(self, edition: Edition) -> None:
        super().__init__(
            _(
                "Not approved: edition %(number)d, approved earlier, is waiting to go live on %(when)s. "
                "Approving this version replaces it (it will never go live). Tick “Replace edition "
                "%(number)d, waiting to go live” to confirm."
            )
            % {"number": edition.number, "when": local_datetime(edition.effective_at)}
        )
        self.edition = edition


class ContentCheckError(TransitionError):
    """The version has blocking content-check findings (`checks.py`); `findings` lists them."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(
            ngettext(
                "Not submitted: the content checks found %(count)d problem that must be fixed first.",
                "Not submitted: the content checks found %(count)d problems that must be fixed first.",
                len(findings),
            )
            % {"count": len(findings)}
        )
        self.findings = findings


class StaleTranslationError(TransitionError):
    """The version has Chinese text made from older English and the reviewer did not accept
    publishing it marked as outdated; `sections` names the parts concerned."""

    def __init__(self, sections: list[str]) -> None:
        super().__init__(
            _(
                "Not approved: the Chinese text of %(sections)s was translated from older English. "
                "Tick “publish with the Chinese text marked as outdated” to publish it anyway, "
                "or reject so the translation is updated."
            )
            % {"sections": ", ".join(f"“{title}”" for title in sections)}
        )
        self.sections = sections


def review_interval() -> datetime.timedelta:
    """How long a published monograph stays current before it is due for review again."""
    return datetime.timedelta(days=settings.FORMULARY_REVIEW_INTERVAL_DAYS)


def _locked_state(entry: Entry) -> EntryState:
    return EntryState.objects.select_for_update().get_or_create(entry=entry)[0]


def _has(user: User | AnonymousUser | None, perm: str) -> bool:
    if perm == "review_entry" and user and not accounts.may_hold_reviewer_role(user):
        # With directory sign-in on, a local account never reviews, whatever its groups or
        # superuser flag: it could be a second identity of one person (docs/security.md).
        return False
    return bool(user and user.is_active and user.has_perm(f"monographs.{perm}"))


def _require(user: User | AnonymousUser | None, perm: str, message: str) -> None:
    if not _has(user, perm):
        raise PermissionDenied(message)


def _record(
    state: EntryState,
    *,
    action: str,
    from_state: str,
    user: User | None,
    comment: str = "",
    revision: Revision | None = None,
    edition: Edition | None = None,
    signal: Signal | None = None,
) -> AuditEvent:
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
    jobs.transition_recorded(event)  # its mails and booklet rebuilds, queued in this transaction
    if signal is not None:

        def notify() -> None:
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
                # Read by the screen that made the transition; not a column.
                event.notification_failed = True  # type: ignore[attr-defined]
                logger.exception(
                    "Notification failed after %s of entry %s (audit event %s); the transition stands.",
                    action,
                    state.entry.pk,
                    event.pk,
                )

        transaction.on_commit(notify, robust=True)
    return event


def _require_comment(comment: str | None, message: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise TransitionError(message)
    return comment


def _move(state: EntryState, action: str) -> None:
    """Set the state the transitions table gives for `action` (`transitions.TABLE`)."""
    try:
        state.state = next_state(state.state, action)
    except NotInTable:
        raise TransitionError(
            _("This cannot be done while the entry is %(state)s.") % {"state": state.get_state_display().lower()}
        ) from None


def _check_seen(state: EntryState, seen: object) -> None:
    """Refuse a decision taken on a screen opened before the entry last changed.

    `seen` is the `working_copy.state_token` the screen showed; None from commands
    and code that decides on the entry as it is now (e.g. the clock).
    """
    if seen is not None and working_copy.state_token(state.entry_id) != str(seen):
        raise StaleStateError(working_copy.changes_since(state.entry_id, seen))


# "May I?" ------------------------------------------------------------------
# Screens ask these before offering an action; the transitions below ask the
# same questions again under the row lock, so a stale screen cannot slip past.


def _state_of(entry: Entry) -> EntryState:
    return EntryState.objects.get_or_create(entry=entry)[0]


def _submit_refusal(user: User | AnonymousUser | None, state: EntryState) -> str | None:
    if not _has(user, "submit_entry"):
        return _("Only editors can submit entries for review.")
    if state.state == State.IN_REVIEW:
        return _("This entry is already in review.")
    if state.state == State.PUBLISHED:
        return _("Nothing to submit: the working copy is the published edition.")
    if state.state == State.SCHEDULED:
        return _("Nothing to submit: the working copy is the edition scheduled to go live.")
    if not offered(state.state, Move.SUBMIT):
        return _("This cannot be done while the entry is %(state)s.") % {"state": state.get_state_display().lower()}
    return None


def can_edit(user: User | AnonymousUser | None, entry: Entry | None) -> bool:
    """Whether `user` may change the working copy (an edit during review ends that review)."""
    return _has(user, "change_entry")


def can_submit_any(user: User | AnonymousUser | None) -> bool:
    """Whether `user` submits entries for review at all (offers the bulk "submit selected" action)."""
    return _has(user, "submit_entry")


def can_review_any(user: User | AnonymousUser | None) -> bool:
    """Whether `user` reviews entries at all (the admin home shows reviewers the queue)."""
    return _has(user, "review_entry")


def can_submit(user: User | AnonymousUser | None, entry: Entry, state: EntryState | None = None) -> bool:
    """Whether `user` may send the working copy of `entry` for review now."""
    return _submit_refusal(user, state or _state_of(entry)) is None


def can_review(user: User | AnonymousUser | None, entry: Entry, state: EntryState | None = None) -> bool:
    """Whether `user` may decide on `entry` now (a version awaits review and they are a reviewer)."""
    return _has(user, "review_entry") and awaits_review(entry, state)


def awaits_review(entry: Entry, state: EntryState | None = None) -> bool:
    """Whether a version of `entry` is awaiting a reviewer's decision (anyone with access may read it)."""
    return (state or _state_of(entry)).state == State.IN_REVIEW


def may_approve(user: User, entry: Entry, revision: Revision) -> tuple[bool, str]:
    """Whether `user` may approve `revision` of `entry` under the four-eyes rule, and if not why."""
    if not _has(user, "review_entry"):
        return False, _("Only reviewers can approve entries.")
    if settings.FORMULARY_ALLOW_SELF_APPROVAL:
        return True, ""
    if user.pk in working_copy.authors_since_publication(entry, revision):
        return False, _("You edited this version, so another reviewer must approve it (four-eyes rule).")
    return True, ""


def submission_findings(entry: Entry, revision: Revision | None = None) -> list[Finding]:
    """The content checks' findings on `revision` of `entry`, by default the working copy
    `submit` would send: screens list them before offering submit and to the reviewer."""
    revision = revision or working_copy.latest_revision(entry)
    if revision is None:
        return []
    return checks.check_content(snapshot_of_revision(revision, entry.pk))


def stale_translations(content: Snapshot) -> list[str]:
    """Titles of the parts of a snapshot whose Chinese text is stale (translated from English that
    has changed since): approving it needs the reviewer's explicit tick, recorded in the audit log.
    Missing translations need nothing: the pages show the English, labelled as English."""
    return [title for title, status in translation_findings(content) if status == TranslationStatus.STALE]


def submitted_stale_translations(entry: Entry, revision: Revision) -> list[str]:
    """`stale_translations` of `revision` of `entry`: the review screen asks before offering the tick."""
    return stale_translations(snapshot_of_revision(revision, entry.pk))


def can_withdraw(user: User | AnonymousUser | None, entry: Entry, state: EntryState | None = None) -> bool:
    """Whether `user` may take `entry` off the public pages (or stop it going live)."""
    state = state or _state_of(entry)
    return (
        _has(user, "withdraw_entry")
        and offered(state.state, Move.WITHDRAW_NOW)
        and (state.live_edition_id is not None or state.scheduled_edition_id is not None)
    )


def can_unschedule(user: User | AnonymousUser | None, entry: Entry, state: EntryState | None = None) -> bool:
    """Whether `user` may cancel what is scheduled for `entry` (a publication or a withdrawal)."""
    state = state or _state_of(entry)
    return (
        _has(user, "review_entry")
        and offered(state.state, Move.CANCEL_SCHEDULE)
        and (state.scheduled_edition_id is not None or state.withdraw_at is not None)
    )


def state_token(entry: Entry) -> str:
    """What a decision screen carries so the decision applies to what it showed (`_check_seen`)."""
    return working_copy.state_token(entry.pk)


# Transitions ---------------------------------------------------------------


def submit(*, entry: Entry, user: User, comment: str = "") -> AuditEvent:
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
        blocking = checks.blocking(submission_findings(entry, revision))
        if blocking:
            raise ContentCheckError(blocking)
        from_state = state.state
        _move(state, Move.SUBMIT)
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


def _check_reviewable(state: EntryState, user: User, *, refused: str, not_in_review: str) -> None:
    _require(user, "review_entry", refused)
    if state.state != State.IN_REVIEW:
        raise TransitionError(not_in_review % {"state": state.get_state_display().lower()})


def _check_reviewed_revision(state: EntryState, revision: Revision | int | str | None) -> None:
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


def _scheduled(moment: datetime.datetime | None) -> datetime.datetime | None:
    """`moment` if it is in the future (an effective time to wait for), else None (now)."""
    return moment if moment is not None and moment > timezone.now() else None


def _cancel_scheduled_publication(
    state: EntryState, *, user: User | None, comment: str, action: str | None = None
) -> AuditEvent | None:
    """Drop the edition waiting to go live (it stays in the record, never live), audited.

    `action` is the transition doing it, when that is a cancellation by itself (its row in
    the table gives the new state); approvals and withdrawals set the state themselves.
    """
    edition = state.scheduled_edition
    if edition is None:
        return None
    from_state = state.state
    state.scheduled_edition = None
    if action is not None:
        _move(state, action)
    state.save()
    return _record(
        state,
        action=Action.UNSCHEDULED,
        from_state=from_state,
        user=user,
        comment=comment,
        revision=edition.revision,
        edition=edition,
    )


def approve(
    *,
    entry: Entry,
    user: User,
    revision: Revision | int | str | None,
    comment: str,
    effective_at: datetime.datetime | None = None,
    accept_stale_translations: bool = False,
    seen: object = None,
    replace_waiting: bool = False,
) -> AuditEvent:
    """Approve `revision`, the submitted revision the reviewer saw: it becomes a new edition,
    which is published at once, or at `effective_at` when that is in the future (four-eyes enforced).

    `seen` is the state token of the review page (`state_token`): anything that happened to
    the entry since (a withdrawal, a cancelled schedule, a save) refuses with StaleStateError.
    A version with stale Chinese text (`stale_translations`) is refused with
    StaleTranslationError unless `accept_stale_translations`; then the audit comment says
    which parts were published with the Chinese text marked as outdated.

    A scheduled edition waits in the entry's state; the previous edition, if any,
    stays live until `publish_due` publishes the new one. An approval replaces an
    edition still waiting (the older one would otherwise go live over the newer), only
    when the reviewer confirmed it (`replace_waiting`), else WaitingEditionError; the
    returned event's `replaced` names the edition replaced, or is None.
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
        _check_seen(state, seen)
        comment = _require_comment(comment, _("A comment is required to approve."))
        revision = state.submitted_revision
        # A submitted entry has a saved revision, so the latest one is never None here.
        if working_copy.latest_revision(entry).pk != revision.pk:  # type: ignore[union-attr]
            raise TransitionError(_("The entry changed after it was submitted; the new draft needs its own review."))
        allowed, reason = may_approve(user, entry, revision)
        if not allowed:
            raise PermissionDenied(reason)
        waiting = state.scheduled_edition
        if waiting is not None and not replace_waiting:
            raise WaitingEditionError(waiting)

        edition = next_edition(
            entry=entry,
            revision=revision,
            approved_by=user,
            approved_at=timezone.now(),
            effective_at=_scheduled(effective_at),
        )
        stale = stale_translations(edition.content)
        if stale and not accept_stale_translations:
            raise StaleTranslationError(stale)
        if stale:
            outdated = _("Published with outdated Chinese text: %(sections)s") % {
                "sections": ", ".join(f"“{title}”" for title in stale)
            }
            comment = f"{comment}\n{outdated}"
        from_state = state.state
        _cancel_scheduled_publication(
            state, user=user, comment=_("Replaced by edition %(number)d.") % {"number": edition.number}
        )
        state.submitted_revision = None
        if edition.effective_at is None:
            _move(state, Move.APPROVE_NOW)
            publish(edition=edition, state=state)
            action = Action.APPROVED
        else:
            _move(state, Move.APPROVE_LATER)
            _check_address_free(edition)
            edition.save()
            state.scheduled_edition = edition
            state.save()
            action = Action.SCHEDULED
        event = _record(
            state,
            action=action,
            from_state=from_state,
            user=user,
            comment=comment,
            revision=revision,
            edition=edition,
            signal=signals.entry_approved,
        )
        # What the screen tells the reviewer; not a column.
        event.replaced = waiting  # type: ignore[attr-defined]
        return event


def next_edition(
    *,
    entry: Entry,
    revision: Revision,
    approved_at: datetime.datetime,
    approved_by: User | None = None,
    effective_at: datetime.datetime | None = None,
) -> Edition:
    """The edition approving `revision` of `entry` makes, unsaved: `approve` saves it and the
    admin's preview renders it, so the preview is the page approval will publish."""
    content = snapshot_of_revision(revision, entry.pk)
    last_number = Edition.objects.filter(entry=entry).order_by("-number").values_list("number", flat=True).first()
    return Edition(
        entry=entry,
        number=(last_number or 0) + 1,
        revision=revision,
        content=content,
        **listing_fields(content),
        approved_by=approved_by,
        approved_at=approved_at,
        effective_at=effective_at,
        next_review_due=timezone.localdate(effective_at or approved_at) + review_interval(),
    )


def _check_address_free(edition: Edition) -> None:
    if Edition.objects.live().filter(slug=edition.slug).exclude(entry=edition.entry).exists():
        raise TransitionError(
            _("Another published entry already uses the address /entries/%(slug)s/; change the slug first.")
            % {"slug": edition.slug}
        )


def publish(*, edition: Edition, state: EntryState | None = None) -> Edition:
    """Make an approved edition the live one of its entry, in the caller's transaction.

    Separate from `approve` because a scheduled edition is published later, by
    `publish_due`; it checks what only matters at publication time: that no
    other live entry already uses the public address. The caller has moved the
    state (the table's row for approving now or going live). The publication is
    counted in this transaction (`publication.count`), so every cached page is
    stale from the commit on, whatever Redis is doing.
    """
    state = state or _locked_state(edition.entry)
    # One publication at a time: the address check must see every publication committed before
    # it, or a scheduled go-live and an approval running at once could both take one address.
    publication.serialize()
    _check_address_free(edition)
    if edition.pk is None:
        edition.save()
    if state.scheduled_edition_id == edition.pk:
        state.scheduled_edition = None
    state.live_edition = edition
    state.live_since = timezone.now()
    # A planned withdrawal stays planned: it is a decision about the entry (a product being
    # discontinued), not about one edition; only "cancel schedule" or a withdrawal ends it.
    state.next_review_due = edition.next_review_due
    state.save()
    publication.count(state=state)
    return edition


def publish_due(*, now: datetime.datetime | None = None) -> list[AuditEvent]:
    """Publish every scheduled edition and carry out every planned withdrawal whose time has come.

    Run every minute by `manage.py publish_scheduled` (a timer). Each entry is
    one transaction under its state lock, so a second runner, or a reviewer
    acting at the same moment, never publishes twice or on top of a newer
    decision. Returns the audit events written.
    """
    now = now or timezone.now()
    events: list[AuditEvent] = []
    for entry in working_copy.entries_with_schedule_due(now):
        with transaction.atomic():
            state = _locked_state(entry)
            edition = state.scheduled_edition
            # `approve` schedules only an edition with a time (effective_at).
            if edition is not None and edition.effective_at <= now:  # type: ignore[operator]
                try:
                    with transaction.atomic():
                        events.append(_go_live(state, edition))
                except TransitionError as error:
                    # Another live entry took the address since the approval. This go-live
                    # waits (the overdue check reports it); the rest of the run goes on, as a
                    # planned withdrawal, here or of another entry, must not wait for it.
                    logger.error("scheduled edition %s of entry %s not published: %s", edition.pk, entry.pk, error)
                    state.refresh_from_db()
            if state.withdraw_at is not None and state.withdraw_at <= now and state.live_edition_id:
                comment = _("Scheduled for %(when)s.") % {"when": local_datetime(state.withdraw_at)}
                events.append(_take_offline(state, user=None, comment=comment, action=Move.WITHDRAWAL_DUE))
                # As a withdrawal now: an edition waiting to go live later would bring the
                # recalled entry back at its time, so it is cancelled too (audited).
                cancelled = _cancel_scheduled_publication(state, user=None, comment=comment)
                if cancelled is not None:
                    events.append(cancelled)
    return events


def _go_live(state: EntryState, edition: Edition) -> AuditEvent:
    """Publish `state`'s scheduled `edition`, whose time has come (`publish_due`)."""
    from_state = state.state
    _move(state, Move.GO_LIVE)
    publish(edition=edition, state=state)
    return _record(
        state,
        action=Action.WENT_LIVE,
        from_state=from_state,
        user=None,
        comment=_("Scheduled for %(when)s.") % {"when": local_datetime(edition.effective_at)},
        revision=edition.revision,
        edition=edition,
        signal=signals.entry_published,
    )


def unschedule(*, entry: Entry, user: User, comment: str, seen: object = None) -> AuditEvent | None:
    """Cancel the scheduled publication and the planned withdrawal of `entry` (reviewers; audited).

    An approved working copy whose publication is cancelled is a draft again: it goes live
    only after another submission and review (`transitions.TABLE`)."""
    _require(user, "review_entry", _("Only reviewers can cancel a scheduled publication or withdrawal."))
    with transaction.atomic():
        state = _locked_state(entry)
        _check_seen(state, seen)
        if state.scheduled_edition_id is None and state.withdraw_at is None:
            raise TransitionError(_("Nothing is scheduled for this entry."))
        comment = _require_comment(comment, _("A comment is required to cancel a schedule."))
        event = _cancel_scheduled_publication(state, user=user, comment=comment, action=Move.CANCEL_SCHEDULE)
        if state.withdraw_at is not None:
            from_state = state.state
            _move(state, Move.CANCEL_SCHEDULE)
            state.withdraw_at = None
            state.save()
            event = _record(state, action=Action.UNSCHEDULED, from_state=from_state, user=user, comment=comment)
        return event


def reject(
    *, entry: Entry, user: User, revision: Revision | int | str | None, comment: str, seen: object = None
) -> AuditEvent:
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
        _check_seen(state, seen)
        comment = _require_comment(comment, _("A comment is required to reject."))
        revision = state.submitted_revision
        from_state = state.state
        _move(state, Move.REJECT)
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


def withdraw(
    *,
    entry: Entry,
    user: User,
    comment: str,
    effective_at: datetime.datetime | None = None,
    seen: object = None,
) -> AuditEvent | None:
    """Take the entry off the public pages now, or at `effective_at` when that is in the future.

    Withdrawing now also cancels an edition waiting to go live: the reviewer
    wants the entry off the pages, not back at the scheduled time. Approval of a
    version publishes it again.
    """
    _require(user, "withdraw_entry", _("Only reviewers can withdraw published entries."))
    with transaction.atomic():
        state = _locked_state(entry)
        _check_seen(state, seen)
        if state.live_edition is None and state.scheduled_edition_id is None:
            raise TransitionError(_("This entry is not on the public pages."))
        comment = _require_comment(comment, _("A comment is required to withdraw."))
        effective_at = _scheduled(effective_at)
        if effective_at is not None:
            if state.live_edition is None:
                raise TransitionError(_("Only a published entry can be withdrawn on a later date."))
            from_state = state.state
            _move(state, Move.WITHDRAW_LATER)
            state.withdraw_at = effective_at
            state.save()
            return _record(
                state,
                action=Action.WITHDRAW_PLANNED,
                from_state=from_state,
                user=user,
                comment=_("%(comment)s (scheduled for %(when)s)")
                % {"comment": comment, "when": local_datetime(effective_at)},
                revision=state.live_edition.revision,
                edition=state.live_edition,
            )
        if not offered(state.state, Move.WITHDRAW_NOW):
            _move(state, Move.WITHDRAW_NOW)  # refused, with the reason
        if state.live_edition is None:
            # Only a waiting edition, never public: cancelling it is the whole withdrawal.
            return _cancel_scheduled_publication(state, user=user, comment=comment, action=Move.WITHDRAW_NOW)
        # Off the pages first (the audit log shows the state it was withdrawn from), then the
        # waiting edition cancelled.
        event = _take_offline(state, user=user, comment=comment, action=Move.WITHDRAW_NOW)
        _cancel_scheduled_publication(state, user=user, comment=comment)
        return event


def _take_offline(state: EntryState, *, user: User | None, comment: str, action: str) -> AuditEvent:
    edition = state.live_edition
    from_state = state.state
    _move(state, action)
    state.live_edition = None
    state.live_since = None
    state.withdraw_at = None
    state.save()
    publication.count(state=state)
    return _record(
        state,
        action=Action.WITHDRAWN,
        from_state=from_state,
        user=user,
        comment=comment,
        revision=edition.revision,  # type: ignore[union-attr]  # callers take only a live entry offline
        edition=edition,
        signal=signals.entry_withdrawn,
    )


def record_edit(*, entry: Entry, revision: Revision) -> AuditEvent | None:
    """A new revision of the working copy: it is a draft until reviewed.

    An edit during review ends that review, because the reviewer would
    otherwise approve something other than what they saw.
    """
    with transaction.atomic():
        state = _locked_state(entry)
        if state.state == State.DRAFT:
            # Already a draft: the new revision itself is the record (and changes the state token).
            return None
        from_state = state.state
        _move(state, Move.EDIT)
        state.submitted_revision = None
        state.save()
        comment = _("Edited after submission; the submission was withdrawn.") if from_state == State.IN_REVIEW else ""
        return _record(
            state, action=Action.EDITED, from_state=from_state, user=revision.user, comment=comment, revision=revision
        )
