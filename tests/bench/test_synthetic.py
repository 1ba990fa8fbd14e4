"""The synthetic formulary generator (bench/synthetic) makes valid, published, versioned entries."""

import datetime
import io
import json

import pytest
import reversion
from django.core.management import call_command, get_commands
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from bench.synthetic import writer
from bench.synthetic.history import SYNTHETIC_NOTE
from bench.synthetic.products import RESERVED_REGISTRATION_BLOCK
from bench.synthetic.writer import generate
from monographs import search, workflow, working_copy
from monographs.models import AuditEvent, Edition, Entry, EntryState, Strength, split_lines
from monographs.snapshots import snapshot_of_revision

VERSIONS = 4


@pytest.fixture
def generated(db):
    result = generate(
        entries=8, products_per_entry=6, strengths_per_product=3, versions=VERSIONS, seed=5, progress=None
    )
    return Entry.objects.filter(pk__in=result.entry_ids).order_by("pk")


def test_generated_rows_pass_full_clean(generated):
    assert generated.count() == 8
    for entry in generated:
        entry.full_clean()
        assert SYNTHETIC_NOTE in entry.notes
        assert 10 <= entry.sections.count() <= 12
        for section in entry.sections.all():
            section.full_clean()
        assert entry.products.count() == 6
        for product in entry.products.all():
            product.full_clean()
            assert "SYNTHETIC DATA" in product.notes
            assert product.strengths.count() == 3
            for strength in product.strengths.all():
                strength.full_clean()


def test_content_is_realistic(generated):
    bodies = [s.body for e in generated for s in e.sections.all()]
    assert any(line.startswith("- ") for body in bodies for line in body.splitlines())  # bullet lists
    assert any("\u4e00" <= ch <= "\u9fff" for body in bodies for ch in body)  # some Chinese
    assert all(len(split_lines(e.synonyms)) >= 2 for e in generated)
    kinds = {p.kind for e in generated for p in e.products.all()}
    assert kinds == {"brand", "generic"}


def test_registration_numbers_are_unique_and_outside_the_demo_block(generated):
    numbers = list(Strength.objects.values_list("registration_number", flat=True))
    assert len(numbers) == 8 * 6 * 3 == len(set(numbers))
    assert all(int(n[3:]) not in RESERVED_REGISTRATION_BLOCK for n in numbers)


def test_every_entry_has_a_live_edition_matching_its_revision(generated, client):
    for entry in generated:
        state = EntryState.objects.get(entry=entry)
        edition = state.live_edition
        assert edition is not None and Edition.objects.live().filter(pk=edition.pk).exists()
        assert edition.content == snapshot_of_revision(edition.revision, entry.pk)
        assert AuditEvent.objects.filter(entry=entry, action=AuditEvent.Action.APPROVED, edition=edition).exists()
    entry = generated.first()
    response = client.get(reverse("monographs:entry_detail", args=[entry.state.live_edition.slug]))
    assert response.status_code == 200
    assert entry.generic_name in response.content.decode()


def test_history_has_the_requested_versions_and_can_be_reverted(generated):
    for entry in generated:
        versions = list(Version.objects.get_for_object(entry).select_related("revision").order_by("revision_id"))
        assert len(versions) == VERSIONS
        dates = [v.revision.date_created for v in versions]
        assert dates == sorted(dates) and (dates[-1] - dates[0]).days > 14 * (VERSIONS - 1) / 2

    entry = generated.first()
    first = Version.objects.get_for_object(entry).order_by("revision_id").first().revision
    old = snapshot_of_revision(first, entry.pk)
    first.revert(delete=True)
    assert {s.pk: s.body for s in entry.sections.all()} == {s["id"]: s["body"] for s in old["sections"]}
    assert set(entry.products.values_list("pk", flat=True)) == {p["id"] for p in old["products"]}


def test_history_rows_are_the_ones_reversion_writes(generated):
    """The generator builds Version rows itself, for speed; reversion must store the same for the same rows.

    Compared as reversion reads them back: the text differs only in decimal places
    (the generator serialises 20, the database gives back 20.0000).
    """

    def rows(revision):
        return {
            (v.content_type_id, v.object_id): (v.db, v.format, v.field_dict, v.object_repr)
            for v in revision.version_set.all()
        }

    for entry in generated[:3]:
        generated_latest = Version.objects.get_for_object(entry).order_by("-revision_id").first().revision
        with reversion.create_revision():
            reversion.add_to_revision(entry)  # follows its sections, products and strengths
        by_reversion = Version.objects.get_for_object(entry).order_by("-revision_id").first().revision
        assert by_reversion != generated_latest
        # The entry, its class (which it follows), sections, products and strengths.
        assert len(rows(generated_latest)) == 1 + 1 + entry.sections.count() + 6 + 6 * 3
        assert rows(by_reversion) == rows(generated_latest)


def test_review_dates_follow_the_configured_interval(db, settings):
    settings.FORMULARY_REVIEW_INTERVAL_DAYS = 365
    result = generate(entries=3, products_per_entry=1, strengths_per_product=1, versions=3, seed=9, progress=None)
    editions = Edition.objects.filter(entry_id__in=result.entry_ids)
    assert editions.count() == result.editions >= 3
    for edition in editions:
        approved_on = timezone.localdate(edition.approved_at)
        assert edition.next_review_due == approved_on + datetime.timedelta(days=365)
    for state in EntryState.objects.filter(entry_id__in=result.entry_ids):
        assert state.next_review_due == state.live_edition.next_review_due


def test_generated_entry_goes_through_the_workflow(generated, editor, reviewer):
    entry = generated.first()
    live_before = entry.state.live_edition
    with transaction.atomic(), reversion.create_revision():
        section = entry.sections.first()
        section.body += " Edited."
        section.save()
        reversion.set_user(editor)
    workflow.submit(entry=entry, user=editor)
    workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=reviewer, comment="Checked")
    live = EntryState.objects.get(entry=entry).live_edition
    assert live.number == live_before.number + 1
    assert live.content["sections"][0]["body"].endswith("Edited.")


def test_running_again_adds_more_entries_with_new_names_and_numbers(generated):
    again = generate(entries=5, versions=2, seed=5, progress=None)
    assert Entry.objects.count() == 13 == len(set(Entry.objects.values_list("generic_name", flat=True)))
    assert again.versions > 0
    numbers = list(Strength.objects.values_list("registration_number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_command_reports_progress_and_summary(db):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "generate_formulary",
        entries=3,
        versions=2,
        products_per_entry=2,
        strengths_per_product=1,
        stdout=out,
        stderr=err,
    )
    assert "Generated 3 entries" in out.getvalue()
    assert "3/3 entries" in err.getvalue()
    assert Entry.objects.count() == 3


def test_command_lives_in_the_bench_app_not_in_monographs():
    assert get_commands()["generate_formulary"] == "bench.synthetic"


def _gin_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%USING gin%%'",
            [Edition._meta.db_table],
        )
        return sorted(cursor.fetchall())


def _what_was_generated():
    return (
        list(Edition.objects.order_by("generic_name", "number").values_list("generic_name", "number", "excerpt")),
        # Keys differ between the two runs (sequences do not roll back): compare the fields without them.
        sorted(
            (
                repr_,
                sorted(
                    (k, str(v))
                    for k, v in json.loads(data)[0]["fields"].items()
                    if k not in ("entry", "product", "drug_class")
                ),
            )
            for repr_, data in Version.objects.values_list("object_repr", "serialized_data")
        ),
    )


class Rollback(Exception):
    pass


def test_a_bulk_load_rebuilds_the_search_indexes_and_writes_the_same_formulary(db, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the search indexes are PostgreSQL's")
    # History dates count back from now: the same now for both runs.
    frozen = timezone.now()
    monkeypatch.setattr(writer.timezone, "now", lambda: frozen)
    indexes = _gin_indexes()
    assert indexes, "the editions table has GIN search indexes to rebuild"
    try:
        with transaction.atomic():
            generate(entries=4, versions=3, seed=11, progress=None, rebuild_indexes=False)
            row_by_row = _what_was_generated()
            raise Rollback
    except Rollback:
        pass
    assert Entry.objects.count() == 0

    result = generate(entries=4, versions=3, seed=11, progress=None, rebuild_indexes=True)

    assert _gin_indexes() == indexes
    # Same seed, same formulary, whichever way it was written (the history rows by COPY in both).
    assert _what_was_generated() == row_by_row
    name = Entry.objects.get(pk=result.entry_ids[0]).generic_name
    assert [e.generic_name for e in search.search(name)][:1] == [name]


def test_a_failed_bulk_load_leaves_no_entries_and_keeps_the_indexes(db, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the search indexes are PostgreSQL's")
    indexes = _gin_indexes()
    calls = []
    original = writer.copy_rows

    def fail_on_second_chunk(model, columns, rows):  # the history rows, written once per chunk
        calls.append(model)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(model, columns, rows)

    monkeypatch.setattr(writer, "copy_rows", fail_on_second_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(entries=4, versions=2, batch_size=2, seed=12, progress=None, rebuild_indexes=True)
    assert len(calls) == 2
    assert Entry.objects.count() == 0 and Version.objects.count() == 0
    assert _gin_indexes() == indexes
