"""Writes planned entries in bulk: rows, django-reversion history, editions, states and audit trail."""

import datetime
import itertools
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import reversion
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import connection, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.text import slugify
from reversion.models import Revision, Version

from monographs.models import AuditEvent, Edition, Entry, EntryState, Product, Section, State, Strength
from monographs.snapshots import listing_fields
from monographs.workflow import review_interval

from .history import plan_entry, snapshot_of_plan
from .names import name_sequence
from .products import RegistrationNumbers

Action = AuditEvent.Action


@contextmanager
def historical_timestamps(*models):
    """Let bulk_create store the given created_at/updated_at instead of now()."""
    changed = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                changed.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in changed:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class VersionSerializer:
    """Builds Version rows as django-reversion writes them when a registered object is saved in a
    revision, caching the serialised text of objects unchanged between revisions.

    Only reversion's public API: the model must be registered (`monographs/versioning.py`
    registers each with the default options apart from `follow`), so the row holds Django's
    "json" serialisation of every field, the concrete model's content type and the primary key.
    `tests/bench/test_synthetic.py` checks the rows against ones reversion writes itself.
    """

    FORMAT = "json"

    def __init__(self):
        self.cache = {}
        self.content_types = {}

    def version(self, revision, obj, cache_key=None):
        model = type(obj)
        if model not in self.content_types:
            if not reversion.is_registered(model):
                raise reversion.RegistrationError(f"{model.__name__} is not registered with django-reversion.")
            self.content_types[model] = ContentType.objects.get_for_model(model)
        cached = self.cache.get(cache_key) if cache_key else None
        if cached is None:
            cached = (serializers.serialize(self.FORMAT, (obj,)), force_str(obj))
            if cache_key:
                self.cache[cache_key] = cached
        # The row's values in VERSION_COLUMNS order: a tuple, not a model instance, as there
        # are about 170 an entry and they go straight to COPY.
        return (
            revision.pk,
            force_str(obj.pk),
            self.content_types[model].pk,
            "default",
            self.FORMAT,
            cached[0],
            cached[1],
        )


# Columns (attribute names) of the Version rows VersionSerializer.version returns.
VERSION_COLUMNS = ("revision_id", "object_id", "content_type_id", "db", "format", "serialized_data", "object_repr")


def copy_rows(model, columns, rows):
    """Insert `rows` (tuples of the values of `columns`, attribute names; the primary key left
    to the database) with PostgreSQL's COPY, several times faster than INSERT for the bulk of
    the history."""
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def synthetic_users():
    """Editors and reviewers who authored the synthetic history (no usable password)."""
    User = get_user_model()
    users = {}
    for role, group_name, count in (("editor", "Editors", 6), ("reviewer", "Reviewers", 3)):
        group = Group.objects.filter(name=group_name).first()
        users[role] = []
        for i in range(1, count + 1):
            user, created = User.objects.get_or_create(
                username=f"synthetic-{role}-{i}",
                defaults={"is_staff": True, "email": f"synthetic-{role}-{i}@example.invalid"},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            if group is not None:
                user.groups.add(group)
            users[role].append(user)
    return users["editor"], users["reviewer"]


@dataclass
class GenerationResult:
    entry_ids: list
    entries: int = 0
    sections: int = 0
    products: int = 0
    strengths: int = 0
    revisions: int = 0
    versions: int = 0
    editions: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    registration_numbers_exhausted: bool = False

    def summary(self):
        return (
            f"{self.entries} entries, {self.sections} sections, {self.products} products, {self.strengths} strengths, "
            f"{self.revisions} revisions, {self.versions} versions, {self.editions} editions, "
            f"{self.audit_events} audit events in {self.seconds:.1f} s"
        )


def _progress(stream, done, total, started):
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0.0
    eta = (total - done) / rate if rate else 0.0
    stream.write(f"  {done}/{total} entries ({rate:.0f} entries/s, elapsed {elapsed:.0f} s, ETA {eta:.0f} s)\n")
    stream.flush()


# Below this many new entries the search indexes are kept and updated row by row; above it
# they are dropped and built again at the end, which is several times faster (a GIN index
# over trigrams of every section costs more to update per row than to build in one go).
REBUILD_INDEXES_FROM = 1000


@contextmanager
def search_indexes_rebuilt(enabled):
    """Drop the GIN indexes of the editions table for a bulk load and create them again after.

    Inside the caller's transaction: PostgreSQL's DDL is transactional, so a failed or
    interrupted run rolls back to the indexes it found, never a table without them. The
    definitions are read from the catalogue, so whatever indexes the migrations made are
    the ones rebuilt.
    """
    if not enabled:
        yield
        return
    table = Edition._meta.db_table
    with connection.cursor() as cursor:
        # Check foreign keys row by row as they come, instead of queueing millions of deferred
        # checks in the server's memory until the one commit at the end.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexdef LIKE '%%USING gin%%'",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        # PostgreSQL builds no index on a table with foreign-key checks still pending: none are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Enough memory to build each index in one sort; for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def generate(
    *,
    entries,
    products_per_entry=6,
    strengths_per_product=3,
    versions=5,
    seed=1,
    batch_size=250,
    progress=sys.stderr,
    progress_every=250,
    rebuild_indexes=None,
):
    """Add `entries` synthetic entries with their products, history and a live edition.

    Deterministic for a seed. Running again adds further entries (names continue
    the same sequence and skip those already present), so a database can grow
    in steps, e.g. from 500 to 5,000 entries.

    One transaction: all entries are added or none. From REBUILD_INDEXES_FROM entries the
    editions' search indexes are built once at the end instead of row by row (20,000
    entries in minutes, not a quarter of an hour); `rebuild_indexes` forces either way.
    """
    if entries < 0 or products_per_entry < 0 or strengths_per_product < 1 or versions < 1:
        raise ValueError("entries and products must be >= 0, strengths and versions >= 1.")
    started = time.monotonic()
    now = timezone.now()
    editors, reviewers = synthetic_users()
    existing = {n.lower() for n in Entry.objects.values_list("generic_name", flat=True)}
    existing_slugs = set(Entry.objects.values_list("slug", flat=True))
    names = (
        item
        for item in name_sequence(seed)
        if item[0].lower() not in existing and slugify(item[0]) not in existing_slugs
    )
    numbers = RegistrationNumbers()
    serializer = VersionSerializer()
    result = GenerationResult(entry_ids=[])
    done = 0
    rebuild = entries >= REBUILD_INDEXES_FROM if rebuild_indexes is None else rebuild_indexes
    with transaction.atomic(), search_indexes_rebuilt(rebuild):
        while done < entries:
            chunk = [
                plan_entry(
                    name,
                    zh_name,
                    drug_class,
                    seed,
                    products_per_entry,
                    strengths_per_product,
                    versions,
                    editors,
                    reviewers,
                    now,
                    numbers,
                )
                for name, zh_name, drug_class in itertools.islice(names, min(batch_size, entries - done))
            ]
            if not chunk:
                raise RuntimeError(f"Ran out of unique generic names after {done} entries.")
            _write_chunk(chunk, serializer, result)
            serializer.cache.clear()
            previous = done
            done += len(chunk)
            if progress is not None and (done // progress_every > previous // progress_every or done == entries):
                _progress(progress, done, entries, started)
        if progress is not None and rebuild:
            progress.write("  building the search indexes and committing\n")
            progress.flush()
    result.seconds = time.monotonic() - started
    result.registration_numbers_exhausted = numbers.exhausted
    return result


def _write_chunk(chunk, serializer, result):
    with transaction.atomic(), historical_timestamps(Entry, AuditEvent):  # a savepoint inside generate()'s transaction
        Entry.objects.bulk_create([p.entry for p in chunk])
        for p in chunk:
            for s in p.sections:
                s.entry = p.entry
            for product, _ in p.products:
                product.entry = p.entry
        Section.objects.bulk_create([s for p in chunk for s in p.sections], batch_size=2000)
        Product.objects.bulk_create([pr for p in chunk for pr, _ in p.products], batch_size=2000)
        for p in chunk:
            for product, strengths in p.products:
                for s in strengths:
                    s.product = product
        Strength.objects.bulk_create([s for p in chunk for _, ss in p.products for s in ss], batch_size=2000)

        revisions = []
        for p in chunk:
            p.revisions = [
                Revision(date_created=p.version_dates[k], user=p.version_users[k], comment=p.version_comments[k])
                for k in range(len(p.version_dates))
            ]
            revisions.extend(p.revisions)
        Revision.objects.bulk_create(revisions, batch_size=2000)

        version_rows = []
        for p in chunk:
            version_rows.extend(_versions_of(p, serializer))
        copy_rows(Version, VERSION_COLUMNS, version_rows)

        editions = []
        for p in chunk:
            p.editions = []
            for number, (k, approved_at, reviewer) in enumerate(
                zip(p.edition_versions, p.approval_dates, p.reviewers, strict=True), start=1
            ):
                content = snapshot_of_plan(p, k)
                p.editions.append(
                    Edition(
                        entry=p.entry,
                        number=number,
                        revision=p.revisions[k],
                        content=content,
                        **listing_fields(content),
                        approved_by=reviewer,
                        approved_at=approved_at,
                        next_review_due=timezone.localdate(approved_at) + review_interval(),
                    )
                )
            editions.extend(p.editions)
        Edition.objects.bulk_create(editions, batch_size=500)

        states, events = [], []
        for p in chunk:
            live = p.editions[-1]
            in_review = p.final_state == State.IN_REVIEW
            states.append(
                EntryState(
                    entry=p.entry,
                    state=p.final_state,
                    live_edition=live,
                    next_review_due=live.next_review_due,
                    submitted_revision=p.revisions[-1] if in_review else None,
                    submitted_by=p.version_users[-1] if in_review else None,
                    submitted_at=p.version_dates[-1] + datetime.timedelta(hours=2) if in_review else None,
                )
            )
            events.extend(_audit_events(p))
        EntryState.objects.bulk_create(states, batch_size=2000)
        AuditEvent.objects.bulk_create(events, batch_size=2000)

    result.entry_ids.extend(p.entry.pk for p in chunk)
    result.entries += len(chunk)
    result.sections += sum(len(p.sections) for p in chunk)
    result.products += sum(len(p.products) for p in chunk)
    result.strengths += sum(len(ss) for p in chunk for _, ss in p.products)
    result.revisions += len(revisions)
    result.versions += len(version_rows)
    result.editions += len(editions)
    result.audit_events += len(events)


def _versions_of(p, serializer):
    rows = []
    entry = p.entry
    final_updated_at = entry.updated_at
    for k, revision in enumerate(p.revisions):
        entry.updated_at = p.version_dates[k]
        rows.append(serializer.version(revision, entry))
        if entry.drug_class is not None:
            # The entry follows its class (django-reversion), so each revision holds the class too.
            drug_class = entry.drug_class
            rows.append(serializer.version(revision, drug_class, cache_key=("drugclass", drug_class.pk)))
        for i, section in enumerate(p.sections):
            body = p.version_bodies[k][i]
            if body == section.body:
                rows.append(serializer.version(revision, section, cache_key=("section", section.pk)))
            else:
                old = Section(
                    pk=section.pk,
                    entry_id=section.entry_id,
                    kind=section.kind,
                    heading=section.heading,
                    position=section.position,
                    body=body,
                )
                rows.append(serializer.version(revision, old, cache_key=("section", section.pk, body)))
        for j, (product, strengths) in enumerate(p.products):
            if j not in p.version_products[k]:
                continue
            rows.append(serializer.version(revision, product, cache_key=("product", product.pk)))
            rows.extend(serializer.version(revision, s, cache_key=("strength", s.pk)) for s in strengths)
    entry.updated_at = final_updated_at
    return rows


def _audit_events(p):
    """The review trail: each publication was submitted, then approved; an edit after one reopened a draft."""
    events = []
    published_state = None
    editions = iter(zip(p.edition_versions, p.editions, strict=True))
    next_edition = next(editions, None)
    for k, revision in enumerate(p.revisions):
        editor, when = p.version_users[k], p.version_dates[k]
        if published_state is not None:
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.EDITED,
                    from_state=State.PUBLISHED,
                    to_state=State.DRAFT,
                    actor=editor,
                    revision=revision,
                    created_at=when,
                )
            )
            published_state = None
        submitted = next_edition is not None and next_edition[0] == k
        if submitted or (k == len(p.revisions) - 1 and p.final_state == State.IN_REVIEW):
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.SUBMITTED,
                    from_state=State.DRAFT,
                    to_state=State.IN_REVIEW,
                    actor=editor,
                    comment="Ready for review",
                    revision=revision,
                    created_at=when + datetime.timedelta(hours=2),
                )
            )
        if submitted:
            edition = next_edition[1]
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.APPROVED,
                    from_state=State.IN_REVIEW,
                    to_state=State.PUBLISHED,
                    actor=edition.approved_by,
                    comment="Checked against the prescribing information",
                    revision=revision,
                    edition=edition,
                    created_at=edition.approved_at,
                )
            )
            published_state = True
            next_edition = next(editions, None)
    return events
