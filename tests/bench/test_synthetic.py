"""The synthetic formulary generator (bench/synthetic) makes valid, published, versioned entries."""

import datetime
import io

import pytest
import reversion
from django.core.management import call_command, get_commands
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from bench.synthetic.history import SYNTHETIC_NOTE
from bench.synthetic.products import RESERVED_REGISTRATION_BLOCK
from bench.synthetic.writer import generate
from monographs import workflow, working_copy
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
        assert len(rows(generated_latest)) == 1 + entry.sections.count() + 6 + 6 * 3
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
