"""Public reads. Everything here sees published (live) editions only, so no
draft, never-published or withdrawn text can reach a public page, search,
feed or API that reads through these functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import BooleanField, Count, F, Func, JSONField, Max, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Lower, Substr, Upper
from django.http import Http404
from django.utils import timezone

from . import publication
from .diffing import ChangeSummary, change_summary, compare
from .models import AuditEvent, Edition, Entry, EntryState, Product, Section, Strength, registration_number_in
from .text_rules import strip_controls

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.utils.safestring import SafeString

    from .diffing import Change
    from .snapshots import Snapshot

    # (edition, product, strength) of one strength of a live edition's snapshot.
    LiveStrength = tuple[Edition, Snapshot, Snapshot]


def live_editions() -> QuerySet[Edition]:
    """Live editions, each with `went_live_at`: when it became the live one (at approval, or when
    a scheduled edition was published), which sync clients, feeds and FHIR count as its update."""
    return Edition.objects.live().annotate(went_live_at=F("live_state__live_since"))


def live_edition_for_slug(slug: str) -> Edition:
    """The live edition at this public address, or Http404.
    Its content is loaded only when used: the entry page usually has the
    rendered monograph cached and needs just the edition's id and dates.
    """
    edition = live_editions().filter(slug=slug).order_by().defer("content").first()
    if edition is None:
        raise Http404("No published entry at this address.")
    return edition


@dataclass
class PublishedEdition:
    """One published edition of a live entry, as the entry page lists it."""

    number: int
    approved_at: datetime
    approved_by: str  # the reviewer's full name, else their username
    changes: ChangeSummary  # compared with the edition before; empty for the first


def edition_history(edition: Edition) -> list[PublishedEdition]:
    """Every published edition of `edition`'s entry up to `edition` itself, newest first, each with
    its reviewer and a summary of what it changed (`diffing.change_summary` of consecutive editions).

    Only for a live entry: a withdrawn or never-published entry has no public history, so this is
    empty (its page is 404 anyway). Editions published before a withdrawal and republication were
    public then and are listed; an edition that never went live (a cancelled schedule) is not. One query; the diffs run in Python, so call it when the entry page
    is rendered into the cache (`views.entry_detail`), not per request. Summaries are labelled in the
    active language.
    """
    # Only editions that went live: a scheduled edition cancelled or replaced before its time
    # was approved but never public, so it is not part of the public history.
    published = _publication_events().filter(entry_id=edition.entry_id).values("edition_id")
    rows = list(
        Edition.objects.filter(
            entry_id=edition.entry_id,
            number__lte=edition.number,
            entry__state__live_edition__isnull=False,
            pk__in=published,
        )
        .select_related("approved_by")
        .only("number", "approved_at", "content", "approved_by")
        .order_by("number")
    )
    history: list[PublishedEdition]
    previous: Snapshot | None
    history, previous = [], None
    for row in rows:
        reviewer = row.approved_by
        history.append(
            PublishedEdition(
                number=row.number,
                approved_at=row.approved_at,
                approved_by=reviewer.get_full_name() or reviewer.get_username(),
                changes=change_summary(previous, row.content) if previous is not None else ChangeSummary(),
            )
        )
        previous = row.content
    history.reverse()
    return history


def earlier_editions(edition: Edition) -> list[PublishedEdition]:
    """The published editions before `edition` of its live entry, newest first (see `edition_history`)."""
    return [row for row in edition_history(edition) if row.number < edition.number]


# --- Public pages (browse, A–Z, drug classes). All built on live_editions(). ---

OTHER_INITIAL = "#"


def live_editions_by_name() -> QuerySet[Edition]:
    """Live editions in A–Z order of generic name (case-insensitive)."""
    # Lists show copied columns (name, brands, class) and each product's status; the snapshot
    # stays unread.
    return with_product_statuses(live_editions().defer("content")).order_by(Lower("generic_name"), "pk")


# The formulary statuses a list can be narrowed to (the HA Drug Formulary's own categories).
LIST_STATUSES = ("general", "special", "sfi_safety_net", "sfi")


def _json_path_array(path: str) -> Func:
    """`jsonb_path_query_array(content, path)`: one array out of every edition's snapshot, read
    in the database, so a list shows what it needs without loading whole snapshots."""
    return Func(
        F("content"),
        Value(path),
        function="jsonb_path_query_array",
        template="%(function)s(%(expressions)s::jsonpath)",
        output_field=JSONField(),
    )


def with_product_statuses(editions: QuerySet[Edition]) -> QuerySet[Edition]:
    """`editions`, each with `product_statuses`: [(product name, formulary status)] in snapshot
    order, so lists and results show each product's status, never one list merged across products
    (a brand's "self-financed" beside its generics' "special drug"). PostgreSQL only; elsewhere
    (SQLite in development) the attribute is left unset and no status is shown."""
    if connection.vendor != "postgresql":
        return editions
    return editions.annotate(
        product_names=_json_path_array("lax $.products[*].name"),
        product_status_codes=_json_path_array("lax $.products[*].formulary_status"),
    )


def product_statuses(edition: Edition) -> list[tuple[str, str]]:
    """[(product name, formulary status)] of an edition annotated by `with_product_statuses`."""
    names = getattr(edition, "product_names", None) or []
    codes = getattr(edition, "product_status_codes", None) or []
    return list(zip(names, codes, strict=False))


def filter_listed(
    editions: QuerySet[Edition], *, status: str | None = None, changed_since: datetime | None = None
) -> QuerySet[Edition]:
    """`editions` narrowed to those with a product of formulary `status` (one of LIST_STATUSES)
    and to those whose live edition went live at or after `changed_since`, when given."""
    if status is not None:
        editions = _with_product(editions, "formulary_status", status)
    if changed_since is not None:
        editions = editions.filter(live_state__live_since__gte=changed_since)
    return editions


def live_editions_with_initial(letter: str) -> QuerySet[Edition]:
    """Live editions whose generic name starts with `letter` (A–Z), or with anything else for '#'."""
    editions = live_editions_by_name()
    if letter == OTHER_INITIAL:
        return editions.exclude(generic_name__regex=r"^[A-Za-z]")
    return editions.filter(generic_name__istartswith=letter)


def live_initials() -> set[str]:
    """The set of upper-case first letters of live generic names ('#' for a non A–Z start)."""
    firsts = (
        live_editions()
        .order_by()
        .annotate(initial=Upper(Substr("generic_name", 1, 1)))
        .values_list("initial", flat=True)
    )
    return {c if "A" <= c <= "Z" else OTHER_INITIAL for c in firsts.distinct() if c}


def live_drug_class_rows() -> list[LiveClass]:
    """[LiveClass(slug, English name, Chinese name, number of live entries)], one per class page,
    sorted by English name whatever its case; blank classes left out. Names are the editions'
    (the class as each was reviewed); an edition made before classes had Chinese names has none."""
    rows = (
        live_editions()
        .order_by()
        .exclude(drug_class_slug="")
        .values("drug_class_slug")
        .annotate(n=Count("pk"), name=Max("drug_class"), name_zh=Max("drug_class_zh"))
        .order_by(Lower("name"), "drug_class_slug")
    )
    return [LiveClass(row["drug_class_slug"], row["name"], row["name_zh"], row["n"]) for row in rows]


@dataclass(frozen=True)
class LiveClass:
    slug: str
    name: str
    name_zh: str
    count: int


def live_class_chinese_name(name: str | None) -> str:
    """The Chinese name the live editions give the class of English name `name` ("" if none)."""
    rows = [row for row in live_drug_class_rows() if row.name.casefold() == (name or "").casefold()]
    return rows[0].name_zh if rows else ""


def live_drug_classes() -> list[tuple[str, int]]:
    """[(drug class, number of live entries)] in A–Z order whatever the case, blank classes left out."""
    return [(row.name, row.count) for row in live_drug_class_rows()]


def live_editions_in_class(slug: str) -> QuerySet[Edition]:
    """Live editions of the class whose page is `slug`, by name."""
    return live_editions_by_name().filter(drug_class_slug=slug)


# --- Look-ups for the API and FHIR. ---


def live_edition_for_entry(entry_id: int) -> Edition | None:
    """The live edition of the entry with this id, or None."""
    return live_editions().filter(entry_id=entry_id).first()


def live_edition_for_key(*, entry_id: int | None = None, slug: str) -> Edition | None:
    """The live edition of the entry with this id, else the one at this public address; or None."""
    edition = live_edition_for_entry(entry_id) if entry_id is not None else None
    return edition or live_editions().filter(slug=slug).first()


def went_live_editions(entry_id: int) -> list[Edition]:
    """Every edition of the entry that went live at some time (FHIR's version history), newest
    first, each with `went_live_at`: when it went live (the live one's `live_since`, else its
    first publication event). A scheduled edition cancelled before its time never went live and
    is not listed. An entry withdrawn later still has them: the caller tells withdrawn by
    `live_edition_for_entry`."""
    events = _publication_events().filter(entry_id=entry_id)
    first_live = events.filter(edition=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    return list(
        Edition.objects.filter(entry_id=entry_id, pk__in=events.values("edition_id"))
        .annotate(went_live_at=Coalesce(F("live_state__live_since"), Subquery(first_live)))
        .order_by("-number")
    )


def entry_of_published_strength(strength_id: int) -> int | None:
    """The entry id of the newest edition that went live with this strength in it, or None."""
    return (
        Edition.objects.filter(
            pk__in=_publication_events().values("edition_id"),
            content__products__contains=[{"strengths": [{"id": strength_id}]}],
        )
        .order_by("-approved_at")
        .values_list("entry_id", flat=True)
        .first()
    )


def live_editions_in_bulk(ids: Iterable[int]) -> dict[int, Edition]:
    """{id: edition} of those of `ids` that are live editions."""
    return live_editions().in_bulk(list(ids))


def _with_product(editions: QuerySet[Edition], field: str, value: str) -> QuerySet[Edition]:
    """Editions with at least one product whose `field` is `value`."""
    return editions.filter(content__products__contains=[{field: value}])


def live_editions_filtered(
    *,
    drug_class: str | None = None,
    formulary_status: str | None = None,
    legal_classification: str | None = None,
    updated_since: datetime | None = None,
    containing: str | None = None,
) -> QuerySet[Edition]:
    """Live editions matching every given filter, in generic-name order.
    `containing` is the plain "contains" text filter of `live_editions_containing`,
    not the ranked search (`search.search`), which the search endpoints use.
    """
    editions = live_editions()
    if drug_class is not None:
        editions = editions.filter(drug_class__iexact=drug_class)
    if formulary_status is not None:
        editions = _with_product(editions, "formulary_status", formulary_status)
    if legal_classification is not None:
        editions = _with_product(editions, "legal_classification", legal_classification)
    if updated_since is not None:
        editions = editions.filter(live_state__live_since__gte=updated_since)
    if containing:
        editions = _containing(editions, containing)
    return editions.order_by("generic_name", "entry_id")


def _containing(editions: QuerySet[Edition], text: str) -> QuerySet[Edition]:

    # Product names are matched in the JSON text of the products, which PostgreSQL writes as
    # `"name": "…"`; re.escape makes the text literal in its regex dialect.
    product_name = r'"name": ?"[^"]*' + re.escape(text)
    return editions.annotate(products_text=KeyTextTransform("products", "content")).filter(
        Q(generic_name__icontains=text)
        | Q(content__synonyms__icontains=text)
        | Q(products_text__iregex=product_name)
        | Q(drug_class__icontains=text)
        | Q(content__atc_code__iexact=text)
    )


def live_editions_containing(text: str) -> QuerySet[Edition]:
    """Live editions whose generic name, synonyms, product names or drug class contain `text`,
    or whose ATC code is `text` (all case-insensitive), in generic-name order.

    A plain filter, not the ranked, typo-tolerant search of `search.search`: the
    API list's `q` and FHIR's `name` string search are defined as "contains",
    and their clients expect exactly those matches in a stable order.
    """
    return live_editions_filtered(containing=text)


def _live_strengths(editions: Iterable[Edition] | None = None, **wanted: Any) -> Iterator[LiveStrength]:
    """(edition, product, strength) of each strength in a live edition whose fields equal `wanted`."""
    if editions is None:
        editions = live_editions().filter(content__products__contains=[{"strengths": [wanted]}])
    for edition in editions:
        for product in edition.content.get("products", []):
            for strength in product.get("strengths", []):
                if all(strength.get(name) == value for name, value in wanted.items()):
                    yield edition, product, strength


def live_strength(strength_id: int) -> LiveStrength | None:
    """(edition, product, strength) of the strength with this id in a live edition, or None."""
    return next(_live_strengths(id=strength_id), None)


def _editions_registering(number: str) -> QuerySet[Edition]:
    """Live editions that may hold registration number `number` (HK-12345): an index look-up
    in the stored column `search_registration` (the digits of every number of the edition,
    migration 0011)."""
    editions = live_editions()
    digits = number.removeprefix("HK-")
    # A fixed column name; the number is a bound parameter.
    holds = RawSQL("search_registration @> ARRAY[%s]::text[]", [digits], output_field=BooleanField())
    return editions.filter(holds)


def live_strengths_registered_as(registration_number: str) -> list[LiveStrength]:
    """[(edition, product, strength)] of live strengths with this HK registration number.
    The number may be written as on a box: `HK-90104`, `hk90104`, `hk 90104` or `90104`
    (`models.registration_number_in`); anything else finds nothing. Only live editions
    are read, so a number found only in a draft or a withdrawn entry finds nothing.
    """
    number = registration_number_in(registration_number)
    if number is None:
        return []
    return list(_live_strengths(_editions_registering(number), registration_number=number))


def first_publication_day() -> date | None:
    """The day (Hong Kong time) of the formulary's first publication, or None."""
    first = _publication_events().order_by("created_at").values_list("created_at", flat=True).first()
    return timezone.localdate(first) if first else None


def formulary_last_changed() -> datetime | None:
    """When the public formulary last changed: the last publication (at approval or on schedule)
    or withdrawal anywhere, or None (the publication counter's time)."""
    return publication.publication_stamp().changed_at


# --- What changed between two moments: the changes page, its feed and the quarterly digest. ---

CHANGES_MAX_ROWS = 200  # publications and withdrawals per listing; more are cut (newest kept)


@dataclass
class NewEntry:
    """An entry first published in the period and live now."""

    at: datetime
    slug: str  # the live edition's address, which may differ from the edition's own
    generic_name: str
    chinese_name: str
    edition: int
    event_id: int


@dataclass
class ChangedEntry:
    """A new edition of an entry that went live in the period; the entry is live now, so both
    editions were public. `old`/`new` are the edition numbers for `public_comparison`."""

    at: datetime
    slug: str
    generic_name: str
    chinese_name: str
    old: int
    new: int
    changes: ChangeSummary
    event_id: int


@dataclass
class WithdrawnEntry:
    """An entry taken off the public pages in the period and not live now: its name and the date only."""

    at: datetime
    generic_name: str
    chinese_name: str
    event_id: int


@dataclass
class FormularyChanges:
    """What changed in [start, end), newest first in each list; `truncated` when rows were cut."""

    start: datetime
    end: datetime
    new: list[NewEntry] = field(default_factory=list)
    changed: list[ChangedEntry] = field(default_factory=list)
    withdrawn: list[WithdrawnEntry] = field(default_factory=list)
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.withdrawn)

    def rows(self) -> list[tuple[str, NewEntry | ChangedEntry | WithdrawnEntry]]:
        """All rows, newest first, each as (kind, row) with kind "new", "changed" or "withdrawn"."""
        rows: list[tuple[str, NewEntry | ChangedEntry | WithdrawnEntry]]
        rows = [("new", r) for r in self.new] + [("changed", r) for r in self.changed]
        rows += [("withdrawn", r) for r in self.withdrawn]
        return sorted(rows, key=lambda pair: (pair[1].at, pair[1].event_id), reverse=True)


def _publication_events() -> QuerySet[AuditEvent]:

    Action = AuditEvent.Action
    return AuditEvent.objects.filter(action__in=[Action.APPROVED, Action.WENT_LIVE], edition__isnull=False)


def changes_between(start: datetime, end: datetime, *, limit: int = CHANGES_MAX_ROWS) -> FormularyChanges:
    """What changed on the public pages from `start` (included) to `end` (excluded), two aware
    datetimes, read from the audit log like `formulary_last_changed`: a publication is an
    APPROVED (published at approval) or WENT_LIVE (scheduled) event, a withdrawal a WITHDRAWN one.

    - new: the entry's first publication ever, of an entry live now;
    - changed: a later publication of an entry live now, with `diffing.change_summary` against
      the edition public before it (also across a withdrawal and republication, as
      `edition_history` does) — both editions were public, so `public_comparison` shows them;
    - withdrawn: a withdrawal of an entry not live now, with the name and date only.

    Entries published or changed in the period but withdrawn since are left out of new and
    changed: their text is no longer public. At most `limit` events are read, newest first
    (`truncated` says so). A few queries; the summaries are computed in Python, so callers
    (the page, the feed, the digest) bound the period. Labels are in the active language.
    """
    Action = AuditEvent.Action
    events = list(
        AuditEvent.objects.filter(
            action__in=[Action.APPROVED, Action.WENT_LIVE, Action.WITHDRAWN],
            edition__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("edition")
        .order_by("-created_at", "-id")[: limit + 1]
    )
    result = FormularyChanges(start=start, end=end, truncated=len(events) > limit)
    events = events[:limit]
    entry_ids = {event.entry_id for event in events}
    live = dict(
        EntryState.objects.filter(entry_id__in=entry_ids, live_edition__isnull=False).values_list(
            "entry_id", "live_edition__slug"
        )
    )
    # Every publication of these entries up to the end of the period, oldest first, to find the
    # edition that was public before each one.
    published: dict[int, list[tuple[datetime, int, int, Snapshot]]] = {}
    for entry_id, at, event_id, number, content in (
        _publication_events()
        .filter(entry_id__in=live.keys(), created_at__lt=end)
        .order_by("created_at", "id")
        .values_list("entry_id", "created_at", "id", "edition__number", "edition__content")
    ):
        # Read as values, not through Edition.from_db: cleaned here (`text_rules`).
        published.setdefault(entry_id, []).append((at, event_id, number, strip_controls(content)))

    for event in events:
        # Every event read has an edition (edition__isnull=False above).
        edition: Edition = event.edition  # type: ignore[assignment]
        if event.action == Action.WITHDRAWN:
            if event.entry_id not in live:
                result.withdrawn.append(
                    WithdrawnEntry(
                        at=event.created_at,
                        generic_name=edition.generic_name,
                        chinese_name=edition.chinese_name,
                        event_id=event.pk,
                    )
                )
            continue
        if event.entry_id not in live:
            continue
        earlier = [row for row in published[event.entry_id] if (row[0], row[1]) < (event.created_at, event.pk)]
        common: dict[str, Any] = {
            "at": event.created_at,
            "slug": live[event.entry_id],
            "generic_name": edition.generic_name,
            "chinese_name": edition.chinese_name,
            "event_id": event.pk,
        }
        if not earlier:
            result.new.append(NewEntry(edition=edition.number, **common))
            continue
        _at, _id, previous_number, previous_content = earlier[-1]
        if previous_number == edition.number:
            continue  # republished unchanged after a withdrawal: nothing new to compare
        result.changed.append(
            ChangedEntry(
                old=previous_number,
                new=edition.number,
                changes=change_summary(previous_content, edition.content),
                **common,
            )
        )
    return result


@dataclass
class EditionComparison:
    """Two published editions of a live entry and the word diff between them (`diffing.compare`)."""

    live: Edition
    old: Edition
    new: Edition
    entry_fields: list[tuple[str, SafeString]]
    sections: list[Change]
    products: list[Change]


def public_comparison(slug: str, old: int, new: int) -> EditionComparison:
    """The comparison of editions `old` and `new` (numbers, old < new) of the live entry at `slug`,
    or Http404.

    The public door to once-public text, like `edition_history`: only a live entry, and only
    editions that were published (an APPROVED or WENT_LIVE event; a scheduled edition that was
    cancelled or has not gone live never was). A withdrawn or never-published entry has none.
    """
    live = live_edition_for_slug(slug)
    if not (0 < old < new):
        raise Http404("No such comparison.")
    public = set(
        _publication_events()
        .filter(entry_id=live.entry_id, edition__number__in=[old, new])
        .values_list("edition__number", flat=True)
    )
    if public != {old, new}:
        raise Http404("No such comparison.")
    editions = {e.number: e for e in Edition.objects.filter(entry_id=live.entry_id, number__in=[old, new])}
    entry_fields, sections, products = compare(editions[old].content, editions[new].content)
    for change in sections:
        change.fields = _labelled(Section, change.fields)
    for change in products:
        change.fields = _labelled(Product, change.fields)
        for strength in change.children:
            strength.fields = _labelled(Strength, strength.fields)
    return EditionComparison(
        live=live,
        old=editions[old],
        new=editions[new],
        entry_fields=_labelled(Entry, entry_fields),
        sections=sections,
        products=products,
    )


def _labelled(model: type[Model], fields: Iterable[tuple[str, SafeString]]) -> list[tuple[str, SafeString]]:
    """[(field name, html)] from `diffing.compare` with each name as the field's translated label."""
    labelled = []
    for name, html in fields:
        try:
            # The names diffed are concrete fields, which have a verbose name.
            label = str(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
        except FieldDoesNotExist:
            label = name.replace("_", " ")
        labelled.append((label, html))
    return labelled


# --- The printable booklet: whole snapshots, read in bounded chunks. ---


def live_edition_count(drug_class: str | None = None) -> int:
    """How many live editions there are (in `drug_class` when given)."""
    editions = live_editions()
    if drug_class is not None:
        editions = editions.filter(drug_class=drug_class)
    return editions.order_by().count()


def live_editions_in_chunks(*, drug_class: str | None = None, chunk_size: int = 100) -> Iterator[Sequence[Edition]]:
    """Live editions with their snapshots, in A–Z order of generic name (as `live_editions_by_name`),
    as lists of at most `chunk_size`: one query per chunk, continuing after the last name read
    (keyset paging), so a caller holds one chunk of snapshots at a time whatever the formulary's size."""
    editions = live_editions().annotate(name_key=Lower("generic_name")).order_by("name_key", "pk")
    if drug_class is not None:
        editions = editions.filter(drug_class=drug_class)
    after: tuple[str, int] | None = None
    while True:
        page = editions
        if after is not None:
            page = page.filter(Q(name_key__gt=after[0]) | Q(name_key=after[0], pk__gt=after[1]))
        chunk = list(page[:chunk_size])
        if not chunk:
            return
        yield chunk
        if len(chunk) < chunk_size:
            return
        after = (chunk[-1].name_key, chunk[-1].pk)


def live_booklet_contents(drug_class: str | None = None) -> list[tuple[int, int]]:
    """[(entry id, live edition id)] of the booklet of `drug_class` (None: the whole formulary),
    in its A–Z order: what a built booklet is keyed by. One query on the listing columns."""
    editions = live_editions()
    if drug_class is not None:
        editions = editions.filter(drug_class=drug_class)
    return list(
        editions.annotate(name_key=Lower("generic_name")).order_by("name_key", "pk").values_list("entry_id", "pk")
    )


def live_entry_ids(entry_ids: Iterable[int]) -> set[int]:
    """The ids among `entry_ids` whose entry is on the public pages now."""
    return set(live_editions().filter(entry_id__in=list(entry_ids)).values_list("entry_id", flat=True))


def withdrawn_since(entry_ids: Iterable[int], moment: datetime) -> bool:
    """Whether any of `entry_ids` was withdrawn from the public pages at or after `moment`."""
    return AuditEvent.objects.filter(
        entry_id__in=list(entry_ids), action=AuditEvent.Action.WITHDRAWN, created_at__gte=moment
    ).exists()


def live_names_of_editions(edition_ids: Iterable[int]) -> dict[int, str]:
    """{edition id: generic name} of live editions among `edition_ids`."""
    return dict(live_editions().filter(pk__in=list(edition_ids)).values_list("pk", "generic_name"))


# --- Rendered fragments (`fragments`): what is rendered once per edition. ---


def live_edition_ids() -> list[int]:
    """The ids of every live edition, in id order (what `render_editions` walks through)."""
    return list(live_editions().order_by("pk").values_list("pk", flat=True))


def live_editions_to_render(ids: Iterable[int]) -> list[Edition]:
    """The live editions among `ids`, each as every stored fragment is rendered from it: its
    snapshot and its products' statuses (`with_product_statuses`), whichever page asked. Never a
    withdrawn or superseded edition, so no fragment is made of text the public may not see."""
    return list(with_product_statuses(live_editions().filter(pk__in=list(ids))).order_by("pk"))
