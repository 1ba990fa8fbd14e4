"""monographs.services: every write to the working copy is validated, atomic and one
revision with a user and a reason; a write that changes nothing makes no revision."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from reversion.models import Revision, Version

from monographs import services, working_copy
from monographs.demo import load_lenalidomide
from monographs.models import Entry, EntryState, Product, State
from monographs.services import entry_update, product_upsert

from .factories import make_entry, one_product, product


def test_entry_update_validates_saves_and_records_a_revision(db):
    entry = load_lenalidomide()
    pharmacist = get_user_model().objects.create_user("pharmacist", password="pw-pharm-123")
    before = Version.objects.get_for_object(entry).count()
    returned = entry_update(entry=entry, user=pharmacist, reason="Class from the PI", drug_class="Thalidomide analogue")
    assert returned.drug_class == entry.drug_class
    assert Entry.objects.get().drug_class.name == "Thalidomide analogue"
    versions = Version.objects.get_for_object(entry)
    assert versions.count() == before + 1
    assert versions.first().revision.user == pharmacist
    assert versions.first().revision.comment == "Class from the PI"


def test_entry_update_refuses_invalid_values_and_changes_nothing(db):
    entry = load_lenalidomide()
    before = Version.objects.get_for_object(entry).count()
    with pytest.raises(ValidationError) as exc_info:
        entry_update(entry=entry, reason="Typo", atc_code="not-an-atc")
    assert "atc_code" in exc_info.value.message_dict
    assert Entry.objects.get().atc_code == "L04AX04"
    assert Version.objects.get_for_object(entry).count() == before


def test_entry_update_needs_a_reason_and_keyword_arguments(db):
    entry = load_lenalidomide()
    with pytest.raises(ValidationError, match="reason"):
        entry_update(entry=entry, reason="  ", drug_class="X")
    with pytest.raises(TypeError):
        entry_update(entry, "reason")  # keyword-only, so a swapped argument cannot slip through
    assert Entry.objects.get().drug_class.name == "Immunomodulatory imide drug"


def test_entry_update_that_changes_nothing_makes_no_revision(db):
    entry = load_lenalidomide()
    before = Version.objects.get_for_object(entry).count()
    entry_update(entry=entry, reason="Same again", atc_code="L04AX04", drug_class="Immunomodulatory imide drug")
    assert Version.objects.get_for_object(entry).count() == before


def test_product_upsert_records_a_revision_only_when_something_changed(db):
    entry = load_lenalidomide()
    revlimid = Product.objects.get(name="Revlimid")
    common = {
        "entry": entry,
        "name": "Revlimid",
        "certificate_holder": revlimid.certificate_holder,
        "kind": "brand",
        "legal_classification": revlimid.legal_classification,
        "sale_requirement": revlimid.sale_requirement,
        "formulary_status": revlimid.formulary_status,
        "notes": revlimid.notes,
    }
    strength = {"amount": Decimal("5.0"), "unit": "mg", "dosage_form": "capsule", "route": "oral"}
    before = Revision.objects.count()
    product_upsert(**common, strengths=[{**strength, "pack_size": "21 capsules"}], reason="Same again")
    assert Revision.objects.count() == before

    product_upsert(**common, strengths=[{**strength, "pack_size": "7 capsules"}], reason="New pack size")
    assert Revision.objects.count() == before + 1
    assert Revision.objects.latest("pk").comment == "New pack size"
    assert revlimid.strengths.get(amount=5).pack_size == "7 capsules"
    # The other strengths are untouched, and nothing was duplicated.
    assert revlimid.strengths.count() == 6
    assert revlimid.strengths.get(amount=10).pack_size == "21 capsules"


# entry_replace: the bulk import's door, sharing validation and strength identity with the admin


def replace_data(entry):
    """The entry's working copy in the shape entry_replace takes (the export shape)."""
    from monographs.transfer import entry_data

    return entry_data(entry)


def test_entry_replace_creates_an_entry_in_one_revision_with_user_and_reason(editor):
    entry = make_entry("Metformin", user=editor, products=[one_product("Metformin", registration="HK-11111")])
    versions = Version.objects.get_for_object(entry)
    assert versions.count() == 1
    assert versions.first().revision.user == editor and versions.first().revision.comment == "Test data"
    assert entry.products.get().strengths.get().registration_number == "HK-11111"


def test_entry_replace_keeps_a_strength_whose_identity_is_unchanged(editor):
    entry = make_entry("Metformin", user=editor, products=[product("Metformin XR", strengths=2)])
    ids = {s.amount: s.pk for s in entry.products.get().strengths.all()}
    data = replace_data(entry)
    # Same strength written differently ("10" vs "10.0000") with a new pack: same identity, same row.
    data["products"][0]["strengths"][0].update(amount="10.0", pack_size="60 tablets")
    del data["products"][0]["strengths"][1]

    _entry, created = services.entry_replace(data=data, user=editor, reason="New pack")

    assert not created
    strengths = list(entry.products.get().strengths.all())
    assert [(s.pk, s.pack_size) for s in strengths] == [(ids[Decimal("10")], "60 tablets")]


def test_entry_replace_names_the_part_that_is_invalid_and_saves_nothing(editor):
    entry = make_entry("Metformin", user=editor, products=[product("Metformin XR")])
    data = replace_data(entry)
    data["products"][0]["strengths"][0]["registration_number"] = "12345"
    before = Revision.objects.count()

    with pytest.raises(ValidationError) as refused:
        services.entry_replace(data=data, user=editor, reason="Bad number")

    assert "Metformin, product Metformin XR, strength 10 mg tablet" in refused.value.messages[0]
    assert "HK- followed by 5 digits" in refused.value.messages[0]
    assert Revision.objects.count() == before


def test_entry_replace_of_a_published_entry_makes_it_a_draft(published_lenalidomide, editor2):
    data = replace_data(published_lenalidomide)
    data["drug_class"] = "Thalidomide analogue"
    services.entry_replace(data=data, user=editor2, reason="Class")
    assert EntryState.objects.get(entry=published_lenalidomide).state == State.DRAFT


# section_update and products_delete


def test_section_update_is_one_revision_and_a_no_op_makes_none(lenalidomide, editor):
    section = lenalidomide.sections.get(kind="storage")
    before = Revision.objects.count()
    services.section_update(section=section, user=editor, reason="Fridge", body="Store in a fridge.")
    services.section_update(section=section, user=editor, reason="Same", body="Store in a fridge.")
    assert Revision.objects.count() == before + 1
    assert working_copy.latest_revision(lenalidomide).comment == "Fridge"
    with pytest.raises(ValidationError, match="reason"):
        services.section_update(section=section, user=editor, reason=" ", body="x")


def test_products_delete_is_a_reviewed_edit_of_the_entry(published_lenalidomide, editor2):
    revlimid = published_lenalidomide.products.get(name="Revlimid")
    services.products_delete(products=[revlimid], user=editor2)
    assert not Product.objects.filter(pk=revlimid.pk).exists()
    assert EntryState.objects.get(entry=published_lenalidomide).state == State.DRAFT
    latest = working_copy.latest_revision(published_lenalidomide)
    assert latest.user == editor2 and "Revlimid" in latest.comment
    assert Entry.objects.filter(pk=published_lenalidomide.pk).exists()
