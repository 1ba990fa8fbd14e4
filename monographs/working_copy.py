"""Staff reads of the working copy: what awaits review, versions and history.

Public pages never call these (they read published editions through
`selectors`); the admin, the review screens and the workflow do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BinaryField,
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _
from reversion.models import Revision, Version

from .models import AuditEvent, Edition, Entry, EntryState, Section, State, TranslationStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise


def submitted_revision(entry: Entry) -> Revision | None:
    """The revision of `entry` awaiting review, or None when none is."""
    state = EntryState.objects.select_related("submitted_revision").filter(entry=entry).first()
    return state.submitted_revision if state else None


def latest_revision(entry: Entry) -> Revision | None:
    """The newest django-reversion revision of `entry` (its working copy as last saved), or None."""
    version = Version.objects.get_for_object(entry).select_related("revision").first()
    return version.revision if version else None


def last_live_edition(entry: Entry, up_to_revision: Revision | None = None) -> Edition | None:
    """The newest edition of `entry` that actually went live (published at approval or on
    schedule), made from a revision before `up_to_revision`; None when none did.

    An edition approved for later and then cancelled or replaced never went live, so it
    does not count: its changes are still unseen by the public."""
    went_live = AuditEvent.objects.filter(
        entry=entry, action__in=[AuditEvent.Action.APPROVED, AuditEvent.Action.WENT_LIVE], edition__isnull=False
    ).values("edition_id")
    editions = Edition.objects.filter(entry=entry, pk__in=went_live)
    if up_to_revision is not None:
        editions = editions.filter(revision_id__lt=up_to_revision.pk)
    return editions.order_by("-number").first()


def authors_since_publication(entry: Entry, up_to_revision: Revision) -> set[int]:
    """Users who made any revision of the entry after the last edition that went live, up to
    `up_to_revision`: everyone whose changes the next approval would put before the public for
    the first time (the four-eyes rule keeps each of them from approving it).

    A restore is made by whoever restores, but its text is its first authors': for a restored
    revision (`RestoredRevision`) the authors of the revision it brought back, since the last
    edition that went live before that one, count too (and so on, for a restore of a restore).
    """
    went_live = set(
        AuditEvent.objects.filter(
            entry=entry, action__in=[AuditEvent.Action.APPROVED, AuditEvent.Action.WENT_LIVE], edition__isnull=False
        ).values_list("edition__revision_id", flat=True)
    )
    authors: set[int] = set()
    seen: set[int] = set()
    pending = [up_to_revision.pk]
    while pending:
        upper = pending.pop()
        if upper in seen or (upper in went_live and upper != up_to_revision.pk):
            continue  # already counted, or restored text the public has seen
        seen.add(upper)
        since = max((rid for rid in went_live if rid < upper), default=0)
        rows = (
            Version.objects.get_for_object(entry)
            .filter(revision_id__gt=since, revision_id__lte=upper)
            .values_list("revision_id", "revision__user_id", "revision__restored__restored_from")
        )
        for _revision_id, user_id, restored_from in rows:
            if user_id is not None:
                authors.add(user_id)
            if restored_from is not None:
                pending.append(restored_from)
    return authors


def revision_of_version(version_id: str | int | None) -> int | None:
    """The id of the revision holding the version with this id (as an admin address gives it), or None."""
    if not str(version_id or "").isascii() or not str(version_id).isdigit():
        return None
    digits = str(version_id)  # None was refused above
    return Version.objects.filter(pk=int(digits)).values_list("revision_id", flat=True).first()


def state_token(entry_id: int) -> str:
    """What a decision screen saw of the entry: its newest audit event and newest revision.

    Every transition writes an audit event and every save a revision, so the token
    changes with any change to the entry's state or working copy. A screen carries it;
    the transition compares it under the state row's lock (`workflow`).
    """
    event_id = AuditEvent.objects.filter(entry_id=entry_id).order_by("-id").values_list("id", flat=True).first()
    revision_id = (
        Version.objects.get_for_object_reference(Entry, entry_id)
        .order_by("-revision_id")
        .values_list("revision_id", flat=True)
        .first()
    )
    return f"{event_id or 0}.{revision_id or 0}"


@dataclass
class Change:
    """Something that happened to an entry after a screen showed it."""

    when: dt.datetime
    who: User | None  # None: the clock, an import
    what: StrOrPromise


def changes_since(entry_id: int, token: object) -> list[Change]:
    """What happened to the entry since a screen carried `token` (`state_token`), oldest first:
    the audit events and saved versions after it. Empty for a malformed token."""
    try:
        event_id, revision_id = (int(part) for part in str(token).split("."))
    except ValueError:
        return []
    changes = [
        Change(when=event.created_at, who=event.actor, what=event.get_action_display())
        for event in AuditEvent.objects.filter(entry_id=entry_id, id__gt=event_id).select_related(
            "actor__staff_profile"
        )
        if event.action != AuditEvent.Action.EDITED  # the saved version below says it
    ]
    saved = (
        Version.objects.get_for_object_reference(Entry, entry_id)
        .filter(revision_id__gt=revision_id)
        .select_related("revision__user__staff_profile")
    )
    changes += [
        Change(when=v.revision.date_created, who=v.revision.user, what=_("Saved: %s") % (v.revision.comment or "—"))
        for v in saved
    ]
    return sorted(changes, key=lambda change: change.when)


@dataclass
class ReviewNote:
    """One thing an editor or reviewer wrote about the changes under review."""

    when: dt.datetime
    who: User | None  # None for an import without one
    kind: StrOrPromise
    text: str


def review_notes(entry: Entry, up_to_revision: Revision) -> list[ReviewNote]:
    """Every reason for change and note written since the entry's last edition, up to
    `up_to_revision` (the version under review), oldest first: what a reviewer reads before
    deciding. Reasons come from the revisions; notes on submission, rejections and other
    comments from the audit log."""
    last = Edition.objects.filter(entry=entry, revision_id__lt=up_to_revision.pk).order_by("-number").first()
    since = last.revision_id if last else 0
    revision_ids = (
        Version.objects.get_for_object(entry)
        .filter(revision_id__gt=since, revision_id__lte=up_to_revision.pk)
        .values("revision_id")
    )
    notes = [
        ReviewNote(when=r.date_created, who=r.user, kind=_("Reason for change"), text=r.comment)
        for r in Revision.objects.filter(pk__in=revision_ids).select_related("user__staff_profile")
        if r.comment
    ]
    events = (
        AuditEvent.objects.filter(entry=entry, revision_id__gt=since, revision_id__lte=up_to_revision.pk)
        .exclude(comment="")
        .select_related("actor__staff_profile")
    )
    notes += [ReviewNote(when=e.created_at, who=e.actor, kind=e.get_action_display(), text=e.comment) for e in events]
    return sorted(notes, key=lambda note: note.when)


def state_of(entry_id: int) -> EntryState | None:
    """The review state of an entry with its entry and live edition, or None for an unknown id."""
    return (
        EntryState.objects.filter(entry_id=entry_id)
        .select_related("entry", "live_edition", "scheduled_edition")
        .first()
    )


def standing_rejection(entry_id: int) -> AuditEvent | None:
    """The last event of the entry if it is a rejection: the reviewer's reasons stay in view while
    the editor fixes the draft, until the next transition (usually the next submission)."""
    last_event = AuditEvent.objects.filter(entry_id=entry_id).select_related("actor__staff_profile").first()
    return last_event if last_event and last_event.action == AuditEvent.Action.REJECTED else None


def standing_withdrawal(entry_id: int) -> AuditEvent | None:
    """The withdrawal that took the entry off the public pages, if it is off now because of one
    (the review page says so: approving publishes it again), else None."""
    event = (
        AuditEvent.objects.filter(
            entry_id=entry_id,
            action__in=[AuditEvent.Action.WITHDRAWN, AuditEvent.Action.APPROVED, AuditEvent.Action.WENT_LIVE],
        )
        .select_related("actor__staff_profile")
        .order_by("-id")
        .first()
    )
    return event if event and event.action == AuditEvent.Action.WITHDRAWN else None


def overdue_for_review(today: dt.date, limit: int | None = None) -> QuerySet[EntryState]:
    """Published entries whose periodic review date has passed, most overdue first."""
    overdue = (
        EntryState.objects.filter(live_edition__isnull=False, next_review_due__lt=today)
        .select_related("entry")
        .order_by("next_review_due", "entry__generic_name")
    )
    return overdue[:limit] if limit else overdue


def review_queue() -> QuerySet[EntryState]:
    """Entries awaiting review, oldest submission first, with who submitted them."""
    return (
        EntryState.objects.filter(state=State.IN_REVIEW)
        .select_related("entry", "submitted_by__staff_profile")
        .order_by("submitted_at")
    )


def review_state(entry: Entry) -> EntryState:
    """The state row of `entry` with what the review page shows: the revision under review and its author."""
    return EntryState.objects.select_related(
        "submitted_revision__user__staff_profile", "live_edition", "submitted_by__staff_profile"
    ).get(entry=entry)


def history(entry_id: int) -> list[tuple[int, Revision, int | None]]:
    """Every saved version of the entry, newest first, as (version id, revision with its author,
    number of the edition it became or None): the entry's history page."""
    versions = (
        Version.objects.get_for_object_reference(Entry, entry_id)
        .select_related("revision__user__staff_profile")
        .order_by("-revision_id")
    )
    numbers = dict(Edition.objects.filter(entry_id=entry_id).values_list("revision_id", "number"))
    return [(version.pk, version.revision, numbers.get(version.revision_id)) for version in versions]


def revision_ids(entry: Entry) -> set[int]:
    """Ids of every revision that holds `entry`."""
    return set(Version.objects.get_for_object(entry).values_list("revision_id", flat=True))


def revisions(ids: Any) -> list[Revision]:
    """The revisions with these ids, oldest first, with their authors."""
    return list(Revision.objects.select_related("user__staff_profile").filter(pk__in=ids).order_by("pk"))


def audit_trail(entry_id: int) -> QuerySet[AuditEvent]:
    """The entry's audit events, newest first, with actors and editions."""
    return AuditEvent.objects.filter(entry_id=entry_id).select_related("actor__staff_profile", "edition")


def entries_with_content() -> QuerySet[Entry]:
    """Every entry with its sections, products and strengths loaded, A–Z (for the bulk export)."""
    return Entry.objects.order_by("generic_name").prefetch_related("sections", "products__strengths")


def entry_by_name(generic_name: str, *, lock: bool = False) -> Entry | None:
    """The entry of this generic name (case-insensitive), or None; `lock` holds its row until commit."""
    entries = Entry.objects.select_for_update() if lock else Entry.objects
    return entries.filter(generic_name__iexact=generic_name).first()


def entries_with_schedule_due(now: dt.datetime) -> list[Entry]:
    """Entries whose scheduled edition or planned withdrawal is due at `now`."""
    from django.db.models import Q

    due = EntryState.objects.filter(Q(scheduled_edition__effective_at__lte=now) | Q(withdraw_at__lte=now))
    return list(Entry.objects.filter(pk__in=due.values("entry_id")).order_by("pk"))


OVERDUE_AFTER_MINUTES = 5


def overdue_schedules(now: dt.datetime | None = None, *, entry_id: int | None = None) -> list[EntryState]:
    """Review states whose scheduled publication or withdrawal is more than OVERDUE_AFTER_MINUTES late:
    the timer that runs `publish_scheduled` is not running."""
    import datetime

    from django.db.models import Q
    from django.utils import timezone

    limit = (now or timezone.now()) - datetime.timedelta(minutes=OVERDUE_AFTER_MINUTES)
    states = EntryState.objects.filter(entry_id=entry_id) if entry_id is not None else EntryState.objects
    return list(
        states.filter(Q(scheduled_edition__effective_at__lt=limit) | Q(withdraw_at__lt=limit))
        .select_related("entry", "scheduled_edition")
        .order_by("entry__generic_name")
    )


def scheduled() -> QuerySet[EntryState]:
    """Review states with a publication or withdrawal waiting for its time, soonest first."""
    from django.db.models import Q
    from django.db.models.functions import Coalesce

    return (
        EntryState.objects.filter(Q(scheduled_edition__isnull=False) | Q(withdraw_at__isnull=False))
        .select_related("entry", "scheduled_edition")
        .order_by(Coalesce("scheduled_edition__effective_at", "withdraw_at"))
    )


# --- Chinese translations of the working copy --------------------------------
# Staleness is worked out in SQL, one query however many entries: the English is
# fingerprinted there exactly as `models.english_fingerprint` does it in Python (trimmed of
# every character str.strip() removes, CRLF and CR made LF, joined with U+001F, SHA-256 in
# hex), so no extra column has to be kept in step.

TRANSLATION_FILTERS = ("stale", "missing", "stale_or_missing")
# Every character Python's str.strip() removes, for PostgreSQL's btrim().
_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def _trimmed(column: str) -> Func:
    return Func(F(column), Value(_WHITESPACE), function="btrim", output_field=TextField())


def _fingerprint(*columns: str) -> Func:
    """SQL for `models.english_fingerprint` of these columns of the row."""
    parts = [Replace(Replace(_trimmed(c), Value("\r\n"), Value("\n")), Value("\r"), Value("\n")) for c in columns]
    joined = Func(Value("\x1f"), *parts, function="concat_ws", output_field=TextField())
    utf8 = Func(joined, Value("UTF8"), function="convert_to", output_field=BinaryField())
    digest = Func(utf8, function="sha256", output_field=BinaryField())
    return Func(digest, Value("hex"), function="encode", output_field=CharField())


def _translation_subqueries() -> tuple[Any, Any, Any]:
    """(stale, missing, translated) conditions on Entry, as SQL."""
    sections = Section.objects.filter(entry=OuterRef("pk")).annotate(zh=_trimmed("body_zh"))
    stale_section = sections.exclude(zh="").annotate(english=_fingerprint("heading", "body"))
    stale_section = stale_section.exclude(zh_source=F("english"))
    has_warning = ~Q(bw_en="")
    stale = Exists(stale_section) | (has_warning & ~Q(bw_zh="") & ~Q(boxed_warning_zh_source=F("bw_fp")))
    missing = Exists(sections.filter(zh="")) | (has_warning & Q(bw_zh=""))
    translated = Exists(sections.exclude(zh="")) | ~Q(bw_zh="")
    return stale, missing, translated


def _with_boxed_warning_columns(queryset: QuerySet[Entry]) -> QuerySet[Entry]:
    return queryset.annotate(
        bw_en=_trimmed("boxed_warning"), bw_zh=_trimmed("boxed_warning_zh"), bw_fp=_fingerprint("boxed_warning")
    )


def _python_translation_state(entry: Entry) -> tuple[bool, bool, bool]:
    statuses = [section.translation for section in entry.sections.all()]
    if entry.boxed_warning_translation is not None:
        statuses.append(entry.boxed_warning_translation)
    translated = bool(entry.boxed_warning_zh.strip()) or any(s.body_zh.strip() for s in entry.sections.all())
    return TranslationStatus.STALE in statuses, TranslationStatus.MISSING in statuses, translated


def entries_by_translation(queryset: QuerySet[Entry], which: str | None) -> QuerySet[Entry]:
    """The entries of `queryset` with a stale Chinese text ("stale"), a part without Chinese text
    ("missing"), or either ("stale_or_missing"): the admin list's filter, in one query."""

    if which not in TRANSLATION_FILTERS:
        return queryset
    stale, missing, _translated = _translation_subqueries()
    condition = {"stale": stale, "missing": missing, "stale_or_missing": stale | missing}[which]
    # On the list's own rows, not as "pk IN (…)": the planner misjudges that subquery's size
    # and joined 5,000 entries with themselves (2 s instead of a few hundred ms).
    if "bw_en" not in queryset.query.annotations:
        queryset = _with_boxed_warning_columns(queryset)
    return queryset.filter(condition)


def with_translation_state(queryset: QuerySet[Entry]) -> QuerySet[Entry]:
    """`queryset` with `zh_stale`, `zh_missing` and `zh_translated` on each entry (the admin
    list's column), computed in the same query."""

    stale, missing, translated = _translation_subqueries()
    return _with_boxed_warning_columns(queryset).annotate(
        zh_stale=ExpressionWrapper(stale, output_field=BooleanField()),
        zh_missing=ExpressionWrapper(missing, output_field=BooleanField()),
        zh_translated=ExpressionWrapper(translated, output_field=BooleanField()),
    )


def translation_state(entry: Entry) -> tuple[bool, bool, bool]:
    """(stale, missing, translated) of an entry from `with_translation_state`, or worked out
    from its rows for an entry read without it."""
    if hasattr(entry, "zh_stale"):
        # Annotations of `with_translation_state`, which the model does not declare.
        return entry.zh_stale, entry.zh_missing, entry.zh_translated  # type: ignore[attr-defined]
    return _python_translation_state(entry)


FIND_LIMIT = 20


def find_entries(term: str | None, limit: int = FIND_LIMIT) -> list[Entry]:
    """The admin home's search: working-copy entries by name (English or Chinese), synonym, product
    (brand) name or a strength's registration number, names starting with the term first.
    Bounded like the list's search: at most `limit` entries, and a term of up to 100 characters."""
    term = " ".join((term or "").split())[:100]
    if not term:
        return []
    matches = (
        Q(generic_name__icontains=term)
        | Q(chinese_name__icontains=term)
        | Q(synonyms__icontains=term)
        | Q(products__name__icontains=term)
        | Q(products__chinese_name__icontains=term)
        | Q(products__strengths__registration_number__iexact=term)
    )
    ids = Entry.objects.filter(matches).values("pk").distinct()
    return list(
        Entry.objects.filter(pk__in=ids)
        .annotate(starts=Case(When(generic_name__istartswith=term, then=0), default=1))
        .order_by("starts", "generic_name")[:limit]
    )
