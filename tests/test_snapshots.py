"""monographs.snapshots: the one shape of an entry in a revision, and the one way to read it."""

from decimal import Decimal

from django.utils import translation

from monographs import snapshots, working_copy
from monographs.models import Strength, strength_identity, strength_text

from .factories import make_entry, product


def test_snapshot_of_a_revision_holds_the_whole_entry_in_display_order(editor):
    entry = make_entry(
        "Metformin",
        user=editor,
        sections=[("storage", "", "Keep dry."), ("overview", "", "Lowers glucose.")],
        products=[
            product("Zmetformin", kind="generic", strengths=[{"amount": "850"}, {"amount": "500"}]),
            product("Glucophage", kind="brand", strengths=[{"amount": "1000", "dosage_form": "capsule"}]),
        ],
    )
    content = snapshots.snapshot_of_revision(working_copy.latest_revision(entry), entry.pk)

    assert [s["kind"] for s in content["sections"]] == ["storage", "overview"]  # by position
    assert [p["name"] for p in content["products"]] == ["Glucophage", "Zmetformin"]  # brand first, then A–Z
    assert [s["amount"] for s in content["products"][1]["strengths"]] == ["500", "850"]  # numeric, no zeros
    assert snapshots.brand_names(content) == ["Glucophage"]


def test_a_later_edit_does_not_change_an_earlier_snapshot(editor):
    entry = make_entry("Metformin", user=editor)
    first = working_copy.latest_revision(entry)
    from .factories import edit

    edit(entry, user=editor, first_section_body="Changed.")
    assert snapshots.snapshot_of_revision(first, entry.pk)["sections"][0]["body"] == "Metformin is a medicine."


def test_strength_text_is_one_definition_for_models_and_snapshots():
    stored = Strength(amount=Decimal("250.0000"), unit="mg", per_amount=Decimal("5.0000"), per_unit="mL")
    assert stored.display_strength == "250 mg per 5 mL"
    assert snapshots.strength_text({"amount": "250", "unit": "mg", "per_amount": "5", "per_unit": "mL"}) == (
        "250 mg per 5 mL"
    )
    assert strength_text("2.5000", "mg") == "2.5 mg"
    with translation.override("zh-hant"):
        assert strength_text("250", "mg", "5", "mL") == "250 mg／5 mL"


def test_strength_identity_compares_amounts_as_numbers_and_no_per_amount_as_zero():
    stored = Strength(amount=Decimal("2.5000"), unit="mg", per_amount=None, per_unit="", dosage_form="capsule")
    assert stored.identity() == strength_identity({"amount": "2.5", "unit": "mg", "dosage_form": "capsule"})
    assert stored.identity() != strength_identity({"amount": "2.5", "unit": "mg", "dosage_form": "tablet"})


def test_listing_fields_copy_names_and_a_plain_text_excerpt():
    content = {
        "generic_name": "Metformin",
        "slug": "metformin",
        "drug_class": "Biguanide",
        "sections": [{"body": "**Lowers** blood glucose <script>x</script>."}],
        "products": [{"name": "Glucophage", "kind": "brand"}, {"name": "Metformin Sandoz", "kind": "generic"}],
    }
    fields = snapshots.listing_fields(content)
    assert fields["brand_names"] == ["Glucophage"]
    assert fields["excerpt"].startswith("Lowers blood glucose")
    assert "<" not in fields["excerpt"]


def test_formulary_statuses_are_listed_once_each_in_vocabulary_order():
    products = [
        {"name": "A", "formulary_status": "special"},
        {"name": "B", "formulary_status": "general"},
        {"name": "C", "formulary_status": "special"},
        {"name": "D", "formulary_status": "retired_code"},
        {"name": "E", "formulary_status": ""},
    ]
    assert snapshots.formulary_statuses({"products": products}) == ["general", "special", "retired_code"]
    assert snapshots.formulary_statuses({}) == []
