"""Validation rules: each bad input is refused with its own message, by the
model (what the admin and importer call) and by the database itself."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from monographs.models import (
    ENTRY_TEXT_FIELDS,
    PRODUCT_TEXT_FIELDS,
    SECTION_TEXT_FIELDS,
    STRENGTH_TEXT_FIELDS,
    Entry,
    Product,
    Section,
    Strength,
    TranslationStatus,
    english_fingerprint,
    split_lines,
)


@pytest.fixture
def product(db):
    entry = Entry.objects.create(generic_name="Lenalidomide", slug="lenalidomide")
    return Product.objects.create(
        entry=entry,
        name="Revlimid",
        kind="brand",
        certificate_holder="BMS",
        legal_classification="p1s1s3",
        sale_requirement="prescription",
        formulary_status="special",
    )


def strength(product, **overrides):
    fields = {"amount": Decimal("5"), "unit": "mg", "dosage_form": "capsule", "route": "oral"}
    fields.update(overrides)
    return Strength(product=product, **fields)


def messages(exc_info):
    return " ".join(exc_info.value.messages)


@pytest.mark.parametrize("number", ["HK-1234", "HK-123456", "hk-12345", "HK12345", "HK-1234A", "12345"])
def test_bad_registration_number_is_refused_with_its_format(product, number):
    with pytest.raises(ValidationError) as exc_info:
        strength(product, registration_number=number).full_clean()
    assert "HK- followed by 5 digits" in messages(exc_info)


def test_good_registration_number_and_none_are_accepted(product):
    strength(product, registration_number="HK-12345").full_clean()
    strength(product, amount=Decimal("10"), registration_number="").full_clean()


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("-0.01")])
def test_zero_or_negative_amount_is_refused(product, amount):
    with pytest.raises(ValidationError) as exc_info:
        strength(product, amount=amount).full_clean()
    assert "greater than zero" in messages(exc_info)


def test_unknown_unit_is_refused(product):
    with pytest.raises(ValidationError) as exc_info:
        strength(product, unit="spoonful").full_clean()
    assert "spoonful" in messages(exc_info)
    assert "is not a valid choice" in messages(exc_info)


def test_duplicate_strength_for_one_product_is_refused(product):
    strength(product).save()
    with pytest.raises(ValidationError) as exc_info:
        strength(product).full_clean()
    assert "already has this strength" in messages(exc_info)


def test_same_amount_in_another_form_or_per_volume_is_not_a_duplicate(product):
    strength(product).save()
    strength(product, dosage_form="tablet").full_clean()
    strength(product, unit="mg", per_amount=Decimal("5"), per_unit="mL", dosage_form="capsule").full_clean()


def test_registration_number_is_unique_across_products(product):
    strength(product, registration_number="HK-55555").save()
    other = Product.objects.create(
        entry=product.entry,
        name="Generic",
        kind="generic",
        certificate_holder="X",
        legal_classification="p1s1s3",
        sale_requirement="prescription",
        formulary_status="special",
    )
    with pytest.raises(ValidationError) as exc_info:
        strength(other, registration_number="HK-55555").full_clean()
    assert "already has this registration number" in messages(exc_info)


def test_per_amount_needs_its_unit(product):
    with pytest.raises(ValidationError) as exc_info:
        strength(product, per_amount=Decimal("5")).full_clean()
    assert "per amount" in messages(exc_info)


def test_atc_code_shape(db):
    entry = Entry(generic_name="X", slug="x", atc_code="L04-AX")
    with pytest.raises(ValidationError) as exc_info:
        entry.full_clean()
    assert "ATC code" in messages(exc_info)
    Entry(generic_name="Y", slug="y", atc_code="L04AX04").full_clean()


def test_other_section_needs_a_heading(product):
    with pytest.raises(ValidationError) as exc_info:
        Section(entry=product.entry, kind="other", body="Text").full_clean()
    assert "needs its own heading" in messages(exc_info)


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": Decimal("-1")},
        {"registration_number": "HK-1"},
        {"per_amount": Decimal("5")},
    ],
)
def test_database_refuses_what_validation_refuses(product, overrides):
    # A write that skips full_clean() (raw scripts, a future bug) still cannot store bad data.
    with pytest.raises(IntegrityError), transaction.atomic():
        strength(product, **overrides).save()


def test_database_refuses_duplicate_unit_dose_strength(product):
    strength(product).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        strength(product).save()


def test_chinese_text_round_trips(product):
    product.entry.synonyms = "來那度胺"
    product.entry.save()
    Section.objects.create(entry=product.entry, kind="overview", body="來那度胺是一種免疫調節藥物。")
    entry = Entry.objects.get(pk=product.entry.pk)
    assert split_lines(entry.synonyms) == ["來那度胺"]
    assert entry.sections.get().body == "來那度胺是一種免疫調節藥物。"


def test_pregnancy_programme_needs_the_pregnancy_warning_in_validation_and_database(product):
    entry = product.entry
    entry.pregnancy_prevention_programme = True
    with pytest.raises(ValidationError, match="pregnancy prevention programme applies only"):
        entry.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()
    entry.pregnancy_warning = True
    entry.full_clean()
    entry.save()


# --- Chinese text beside the English: the translation's fingerprint -----------


def _translated_section(product):
    return Section.objects.create(
        entry=product.entry, kind="uses", body="Treats myeloma.", body_zh="治療多發性骨髓瘤。"
    )


def test_a_new_chinese_text_translates_the_english_it_was_saved_with(product):
    section = _translated_section(product)
    assert section.translation == TranslationStatus.CURRENT
    assert section.zh_source == english_fingerprint("", "Treats myeloma.")
    assert section.english_updated_at is not None


def test_changing_the_english_makes_the_chinese_stale_until_it_is_checked(product):
    section = _translated_section(product)
    first_change = section.english_updated_at
    section = Section.objects.get(pk=section.pk)
    section.body = "Treats multiple myeloma and MDS."
    section.save()
    section = Section.objects.get(pk=section.pk)
    assert section.translation == TranslationStatus.STALE
    assert section.english_updated_at > first_change
    # Checked by someone against the new English: up to date, the Chinese text unchanged.
    section.translation_checked = True
    section.save()
    section = Section.objects.get(pk=section.pk)
    assert section.translation == TranslationStatus.CURRENT
    assert section.body_zh == "治療多發性骨髓瘤。"


def test_editing_the_chinese_alone_neither_dates_the_english_nor_leaves_it_stale(product):
    section = _translated_section(product)
    section = Section.objects.get(pk=section.pk)
    section.body = "Treats multiple myeloma."
    section.save()
    english_changed = Section.objects.get(pk=section.pk).english_updated_at
    section = Section.objects.get(pk=section.pk)
    section.body_zh = "治療多發性骨髓瘤（新譯）。"
    section.save()
    section = Section.objects.get(pk=section.pk)
    assert section.translation == TranslationStatus.CURRENT
    assert section.english_updated_at == english_changed


def test_clearing_the_chinese_makes_it_missing_and_forgets_its_source(product):
    section = _translated_section(product)
    section.body_zh = "  "
    section.save()
    section = Section.objects.get(pk=section.pk)
    assert section.translation == TranslationStatus.MISSING
    assert section.zh_source == ""


def test_boxed_warning_translation_follows_the_english_warning(product):
    entry = product.entry
    assert entry.boxed_warning_translation is None  # nothing to translate
    entry.boxed_warning = "Do not use in pregnancy."
    entry.boxed_warning_zh = "懷孕期間切勿使用。"
    entry.save()
    entry = Entry.objects.get(pk=entry.pk)
    assert entry.boxed_warning_translation == TranslationStatus.CURRENT
    entry.boxed_warning = "Do not use in pregnancy or when breastfeeding."
    entry.save()
    assert Entry.objects.get(pk=entry.pk).boxed_warning_translation == TranslationStatus.STALE


def test_a_translation_source_that_is_not_a_fingerprint_is_refused_by_model_and_database(product):
    section = Section(entry=product.entry, kind="uses", body="x", body_zh="甲", zh_source="not-a-hash")
    with pytest.raises(ValidationError) as exc_info:
        section.full_clean()
    assert "fingerprint" in messages(exc_info)
    section = _translated_section(product)
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.filter(pk=section.pk).update(zh_source="not-a-hash")


# --- Control characters and text-direction overrides ---------------------------
# Refused in every free-text field by the model (naming the character) and by the database.

FORBIDDEN = {
    "BEL": "\x07",
    "vertical tab (pasted PDF text)": "\x0b",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 NEXT LINE": "\x85",
    "C1 CSI": "\x9b",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT EMBEDDING": "\u202a",
    "FIRST STRONG ISOLATE": "\u2068",
    "POP DIRECTIONAL ISOLATE": "\u2069",
}
TEXT_FIELDS = [
    *((Entry, name) for name in ENTRY_TEXT_FIELDS),
    *((Section, name) for name in SECTION_TEXT_FIELDS),
    *((Product, name) for name in PRODUCT_TEXT_FIELDS),
    *((Strength, name) for name in STRENGTH_TEXT_FIELDS),
]


def text_owner(model, product):
    """A valid unsaved row of `model` belonging to `product`'s entry."""
    if model is Entry:
        return Entry(generic_name="Thalidomide", slug="thalidomide")
    if model is Section:
        return Section(entry=product.entry, kind="overview", body="Text.")
    if model is Product:
        return Product(
            entry=product.entry,
            name="Generic",
            kind="generic",
            certificate_holder="Other Ltd",
            legal_classification="p1s1s3",
            sale_requirement="prescription",
            formulary_status="special",
        )
    return strength(product)


def test_the_text_fields_listed_are_every_free_text_field_of_the_four_models():
    from django.db import models as fields

    rule_free = {"slug", "atc_code", "registration_number", "boxed_warning_zh_source", "zh_source"}
    found = {
        (model, field.name)
        for model in (Entry, Section, Product, Strength)
        for field in model._meta.get_fields()
        if isinstance(field, fields.CharField | fields.TextField) and not field.choices and field.name not in rule_free
    }
    assert found == set(TEXT_FIELDS)


@pytest.mark.parametrize(("model", "name"), TEXT_FIELDS, ids=[f"{m.__name__}.{n}" for m, n in TEXT_FIELDS])
def test_a_control_character_in_any_text_field_is_refused_by_model_and_database(product, model, name):
    row = text_owner(model, product)
    setattr(row, name, "Line one\x0bline two")
    with pytest.raises(ValidationError) as exc_info:
        row.full_clean()
    assert exc_info.value.message_dict[name] == [
        "Remove the invisible character U+000B (LINE TABULATION) (line 1, character 9): control characters and "
        "text-direction overrides are not allowed. Text pasted from a PDF or another program often brings them; "
        "retype the text around that place."
    ]
    with pytest.raises(IntegrityError, match="text_without_control_characters"), transaction.atomic():
        row.save()


@pytest.mark.parametrize("character", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_each_forbidden_character_is_refused_by_model_and_database(product, character):
    section = Section(entry=product.entry, kind="uses", body=f"Treats\nmyeloma{character}.")
    with pytest.raises(ValidationError, match=rf"U\+{ord(character):04X}.*\(line 2, character 8\)"):
        section.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        section.save()


def test_tabs_line_breaks_and_hong_kong_variation_selectors_are_kept(product):
    # U+E0100 (VARIATION SELECTOR-17) picks the glyph of an HKSCS character (Ideographic
    # Variation Database); U+FE00 a standardized variant. Both are part of a Hong Kong name.
    name = "葛\U000e0100根湯"
    entry = product.entry
    entry.chinese_name = name
    entry.chinese_synonyms = "鄧\ufe00氏\n黃\U000e0101氏"
    entry.notes = "Column\tcolumn\r\nnext line"
    entry.full_clean()
    entry.save()
    product.chinese_name = name
    product.full_clean()
    product.save()
    entry.refresh_from_db()
    assert entry.chinese_name == name and entry.chinese_synonyms == "鄧\ufe00氏\n黃\U000e0101氏"
    assert Product.objects.get(pk=product.pk).chinese_name == name


def test_the_database_refuses_a_section_kind_outside_the_vocabulary(lenalidomide):
    section = lenalidomide.sections.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        type(section).objects.filter(pk=section.pk).update(kind="poem")
    for kind in ("dose", "counselling"):
        type(section).objects.filter(pk=section.pk).update(kind=kind)
