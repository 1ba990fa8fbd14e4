"""Which state of the public formulary a page shows: the publication counters, written by the
workflow in every publishing transaction and read by every public request.

Both sides live here because they are one invariant: whatever changes what the public sees
(a publication, a scheduled go-live, a withdrawal) is counted in the transaction that makes the
change (`count`, called by `workflow`), and whatever keeps or validates a page reads the counter
from PostgreSQL (`publication_stamp`, `entry_stamp`), never from a cache. PostgreSQL is the truth
and Redis only a copy, so a page cached before a change is unreachable the moment it commits,
whichever process made it and whatever Redis was doing.

Two counters:

- the formulary's (`PublicationCounter`, one row): every change anywhere. Pages that can list
  any entry (the lists, search, the changes page and feed, the A–Z strip, class pages) are
  keyed by it.
- the entry's (`EntryState.publications`): changes to that entry only. An entry's own pages are
  keyed by it alone, so approving one entry leaves every other entry's cached page reachable.

Each stamp carries the database's identity (its OID and the counter table's), so a restored
copy, or another install's database, never shares a stamp with this one.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import EntryState, PublicationCounter


@dataclass(frozen=True)
class PublicationStamp:
    """The formulary's publication counter, when it last moved, and the database's identity."""

    number: int
    changed_at: datetime | None
    database: str

    def __str__(self):
        moment = self.changed_at.timestamp() if self.changed_at else 0
        return f"{self.database}.{self.number}.{moment:.6f}"


@dataclass(frozen=True)
class EntryStamp:
    """One live entry's publication counter (and the database's identity)."""

    entry_id: int
    number: int
    database: str

    def __str__(self):
        return f"{self.database}.e{self.entry_id}.{self.number}"


# Constant statements, one round trip each (~0.1 ms more than `SELECT 1` on a persistent
# connection: docs/benchmarks.md, "The publication stamp"). Each also reads the database's
# identity, so another install's or a restored database never shares a stamp.
_STAMP_SQL = (
    "SELECT c.value, c.changed_at, c.tableoid, (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "FROM monographs_publicationcounter c WHERE c.id = 1"
)
# The entry live at an address: its state row through its live edition (slug is indexed; only
# one live edition may use an address, `workflow._check_address_free`).
_ENTRY_STAMP_SQL = (
    "SELECT s.entry_id, s.publications, s.tableoid, (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "FROM monographs_entrystate s JOIN monographs_edition e ON e.id = s.live_edition_id "
    "WHERE e.slug = %s"
)


def publication_stamp():
    """The formulary's current `PublicationStamp`, read from PostgreSQL on every call."""
    with connection.cursor() as cursor:
        cursor.execute(_STAMP_SQL)
        row = cursor.fetchone()
    if row is None:  # a database emptied without its migration's row (a flushed test database)
        return PublicationStamp(number=0, changed_at=None, database="empty")
    value, changed_at, table_oid, database_oid = row
    return PublicationStamp(number=value, changed_at=changed_at, database=f"{database_oid}.{table_oid}")


def entry_stamp(slug):
    """The `EntryStamp` of the entry live at /entries/<slug>/, read from PostgreSQL; None when
    no live entry uses that address (the page is a 404, nothing to key)."""
    with connection.cursor() as cursor:
        cursor.execute(_ENTRY_STAMP_SQL, [slug])
        row = cursor.fetchone()
    if row is None:
        return None
    entry_id, number, table_oid, database_oid = row
    return EntryStamp(entry_id=entry_id, number=number, database=f"{database_oid}.{table_oid}")


def serialize() -> None:
    """Hold the formulary's counter row until the caller's (publishing) transaction ends: every
    publication counts on it anyway (`count`), so taking it first makes publications one at a
    time without a further lock, and what the caller reads next sees every earlier one."""
    held = PublicationCounter.objects.select_for_update().filter(pk=1)
    if held.values_list("pk", flat=True).first() is None:
        # A database made without the migration's row (e.g. flushed by a test): without a row
        # there is nothing to hold, and two publications would pass each other. Make it, hold it.
        PublicationCounter.objects.get_or_create(pk=1)
        held.values_list("pk", flat=True).first()


def count(*, state):
    """The public formulary changed at `state`'s entry: count it in the caller's (publishing)
    transaction, on the formulary's counter and the entry's. `state` is the locked, saved row;
    it is refreshed so that a later save of it keeps the new count."""
    now = timezone.now()
    if not PublicationCounter.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now):
        # A database made without the migration's row (e.g. flushed by a test).
        PublicationCounter.objects.get_or_create(pk=1)
        PublicationCounter.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now)
    EntryState.objects.filter(pk=state.pk).update(publications=F("publications") + 1)
    state.refresh_from_db(fields=["publications"])


def entries_restated(entry_ids):
    """The public pages of these entries changed without a publication (a name they show was
    changed): move each entry's counter, so the shared cache lets go of their pages. The
    formulary's counter is left alone: no list shows what changed."""
    EntryState.objects.filter(entry_id__in=list(entry_ids)).update(publications=F("publications") + 1)
