"""The API's records, built from a published edition's snapshot (Edition.content).

`entry_record()` turns an edition into plain dicts; the serializers below
declare that shape, so the same classes render the responses and describe them
in the OpenAPI schema. Nothing here reads the working-copy tables.

Identifiers are stable: an entry keeps its `id` across editions (the slug can
change), and product, section and strength ids are those of the working copy
the edition was approved from. `updated_at` on every record is when the edition
holding it went live (at approval, or at its scheduled time), so `updated_since`
returns everything the public could first see since.
"""

from django.urls import NoReverseMatch, reverse
from django.utils import translation
from rest_framework import serializers

from ..models import TranslationStatus
from ..snapshots import (
    boxed_warning_translation,
    chinese_synonym_list,
    choice_label,
    safety_flags,
    section_title,
    section_translation,
    strength_text,
    synonym_list,
)
from ..vocabulary import (
    DosageForm,
    FormularyStatus,
    LegalClass,
    ProductKind,
    Route,
    SafetyFlag,
    SaleRequirement,
    SectionKind,
    Unit,
)


def _absolute(request, path):
    return request.build_absolute_uri(path) if request is not None else path


def _public_page(slug):
    try:
        return reverse("monographs:entry_detail", kwargs={"slug": slug})
    except NoReverseMatch:
        return None


# Traditional Chinese content sits beside the English under `translations`, keyed by
# BCP 47 language tag; every other text field is English, as in v1 from the start.
CHINESE = "zh-Hant"


def _status(status):
    return None if status is None else str(status.value)


def _chinese_title(section):
    """The section's title in Chinese: its own Chinese heading, else the Chinese title of its kind
    (for a section with an own English heading but no Chinese one, that English heading)."""
    if (section.get("heading_zh") or "").strip():
        return section["heading_zh"]
    if (section.get("heading") or "").strip():
        return section["heading"]
    with translation.override("zh-hant"):
        return str(choice_label(SectionKind, section["kind"]))


def _section_translations(section):
    return {
        CHINESE: {
            "heading": section.get("heading_zh") or "",
            "title": _chinese_title(section),
            "body": section.get("body_zh") or "",
            "status": _status(section_translation(section)),
            "english_updated_at": section.get("english_updated_at"),
        }
    }


def _entry_translations(content):
    return {
        CHINESE: {
            "name": content.get("chinese_name") or "",
            "synonyms": chinese_synonym_list(content),
            "boxed_warning": content.get("boxed_warning_zh") or "",
            "boxed_warning_status": _status(boxed_warning_translation(content)),
        }
    }


def entry_record(edition, *, request=None, detail=False):
    """The API representation of one live edition, as plain data."""
    content = edition.content
    updated_at = edition.published_at
    products = content.get("products", [])
    record = {
        "id": edition.entry_id,
        "slug": content["slug"],
        "generic_name": content["generic_name"],
        "chinese_name": content.get("chinese_name") or "",
        "synonyms": synonym_list(content),
        "drug_class": content.get("drug_class") or "",
        "atc_code": content.get("atc_code") or "",
        "formulary_statuses": sorted({p["formulary_status"] for p in products}),
        "legal_classifications": sorted({p["legal_classification"] for p in products}),
        "safety_flags": [{"code": flag, "label": choice_label(SafetyFlag, flag)} for flag in safety_flags(content)],
        "boxed_warning": content.get("boxed_warning") or "",
        "translations": _entry_translations(content),
        "edition": edition.number,
        "updated_at": updated_at,
        "next_review_due": edition.next_review_due,
        "url": _absolute(request, reverse("api:entry-detail", kwargs={"key": edition.entry_id})),
        "fhir_url": _absolute(request, reverse("fhir:medicationknowledge-read", kwargs={"pk": edition.entry_id})),
    }
    page = _public_page(content["slug"])
    record["html_url"] = _absolute(request, page) if page else None
    if not detail:
        return record
    record["sections"] = [
        {
            "id": s["id"],
            "kind": s["kind"],
            "kind_label": choice_label(SectionKind, s["kind"]),
            "heading": s.get("heading") or "",
            "title": section_title(s),
            "position": s["position"],
            "body": s["body"],
            "translations": _section_translations(s),
            "updated_at": updated_at,
        }
        for s in content.get("sections", [])
    ]
    record["products"] = [
        {
            "id": p["id"],
            "name": p["name"],
            "kind": p["kind"],
            "certificate_holder": p["certificate_holder"],
            "legal_classification": p["legal_classification"],
            "legal_classification_label": choice_label(LegalClass, p["legal_classification"]),
            "sale_requirement": p["sale_requirement"],
            "sale_requirement_label": choice_label(SaleRequirement, p["sale_requirement"]),
            "formulary_status": p["formulary_status"],
            "formulary_status_label": choice_label(FormularyStatus, p["formulary_status"]),
            "notes": p.get("notes") or "",
            "translations": {CHINESE: {"name": p.get("chinese_name") or ""}},
            "updated_at": updated_at,
            "strengths": [
                {
                    "id": s["id"],
                    "amount": s["amount"],
                    "unit": s["unit"],
                    "per_amount": s.get("per_amount"),
                    "per_unit": s.get("per_unit") or "",
                    "strength": strength_text(s),
                    "dosage_form": s["dosage_form"],
                    "dosage_form_label": choice_label(DosageForm, s["dosage_form"]),
                    "route": s["route"],
                    "route_label": choice_label(Route, s["route"]),
                    "appearance": s.get("appearance") or "",
                    "pack_size": s.get("pack_size") or "",
                    "registration_number": s.get("registration_number") or "",
                    "fhir_url": _absolute(request, reverse("fhir:medication-read", kwargs={"pk": s["id"]})),
                    "updated_at": updated_at,
                }
                for s in p.get("strengths", [])
            ],
        }
        for p in products
    ]
    return record


class StrengthSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable identifier of the strength (also the FHIR Medication id).")
    amount = serializers.CharField(help_text='Amount of active ingredient as a decimal string, e.g. "2.5".')
    unit = serializers.ChoiceField(choices=Unit.choices)
    per_amount = serializers.CharField(
        allow_null=True,
        help_text='Amount of vehicle the strength is per ("5" in 250 mg per 5 mL); null for a unit dose.',
    )
    per_unit = serializers.ChoiceField(choices=Unit.choices, allow_blank=True)
    strength = serializers.CharField(help_text='The strength as text, e.g. "250 mg per 5 mL".')
    dosage_form = serializers.ChoiceField(choices=DosageForm.choices)
    dosage_form_label = serializers.CharField()
    route = serializers.ChoiceField(choices=Route.choices)
    route_label = serializers.CharField()
    appearance = serializers.CharField(allow_blank=True)
    pack_size = serializers.CharField(allow_blank=True)
    registration_number = serializers.CharField(
        allow_blank=True, help_text="Hong Kong registration number (HK-12345); empty for unregistered items."
    )
    fhir_url = serializers.URLField(help_text="This strength as a FHIR R4 Medication.")
    updated_at = serializers.DateTimeField(help_text="When the edition holding this record was approved.")


STATUS_HELP = (
    "current: made from the English as it is; stale: the English changed after the translation "
    "(show it marked as outdated, with the English); missing: no Chinese text (use the English)."
)


class ProductChineseSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, help_text="Chinese product name, e.g. 瑞復美; may be empty.")


class ProductTranslationsSerializer(serializers.Serializer):
    def get_fields(self):
        return {CHINESE: ProductChineseSerializer(help_text="Traditional Chinese.")}


class SectionChineseSerializer(serializers.Serializer):
    heading = serializers.CharField(
        allow_blank=True, help_text="Own Chinese heading; empty when the standard one applies."
    )
    title = serializers.CharField(help_text="The heading to show in Chinese.")
    body = serializers.CharField(
        allow_blank=True, help_text="Chinese text in the same Markdown subset; empty when missing."
    )
    status = serializers.ChoiceField(choices=TranslationStatus.choices, help_text=STATUS_HELP)
    english_updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When the English text last changed (null before this was recorded)."
    )


class SectionTranslationsSerializer(serializers.Serializer):
    def get_fields(self):
        return {CHINESE: SectionChineseSerializer(help_text="Traditional Chinese.")}


class EntryChineseSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, help_text="The entry's Chinese name (as `chinese_name`).")
    synonyms = serializers.ListField(child=serializers.CharField(), help_text="Other Chinese names.")
    boxed_warning = serializers.CharField(allow_blank=True, help_text="Chinese boxed warning; may be empty.")
    boxed_warning_status = serializers.ChoiceField(
        choices=TranslationStatus.choices,
        allow_null=True,
        help_text=f"{STATUS_HELP} Null without an English boxed warning.",
    )


class EntryTranslationsSerializer(serializers.Serializer):
    def get_fields(self):
        return {CHINESE: EntryChineseSerializer(help_text="Traditional Chinese.")}


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable identifier of the product.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ProductKind.choices)
    certificate_holder = serializers.CharField()
    legal_classification = serializers.ChoiceField(choices=LegalClass.choices)
    legal_classification_label = serializers.CharField()
    sale_requirement = serializers.ChoiceField(choices=SaleRequirement.choices)
    sale_requirement_label = serializers.CharField()
    formulary_status = serializers.ChoiceField(choices=FormularyStatus.choices)
    formulary_status_label = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)
    translations = ProductTranslationsSerializer(help_text="The product's Chinese name, by language tag.")
    updated_at = serializers.DateTimeField(help_text="When the edition holding this record was approved.")
    strengths = StrengthSerializer(many=True)


class SectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable identifier of the section.")
    kind = serializers.ChoiceField(choices=SectionKind.choices)
    kind_label = serializers.CharField()
    heading = serializers.CharField(allow_blank=True, help_text="Own heading; empty when the standard one applies.")
    title = serializers.CharField(help_text="The heading to show: own heading or the standard heading of the kind.")
    position = serializers.IntegerField(help_text="Reading order; lower first.")
    body = serializers.CharField(
        help_text="Markdown subset: paragraphs separated by a blank line, '- ' bullets, **bold**, *italic*."
    )
    translations = SectionTranslationsSerializer(help_text="The section in other languages, by language tag.")
    updated_at = serializers.DateTimeField(help_text="When the edition holding this record was approved.")


class SafetyFlagSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=SafetyFlag.choices)
    label = serializers.CharField()


class EntrySummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable identifier of the entry; never changes.")
    slug = serializers.CharField(help_text="Web address part; usually stable but may change with a new edition.")
    generic_name = serializers.CharField()
    chinese_name = serializers.CharField(allow_blank=True, help_text="Traditional Chinese name, e.g. 來那度胺.")
    synonyms = serializers.ListField(child=serializers.CharField())
    drug_class = serializers.CharField(allow_blank=True)
    atc_code = serializers.CharField(allow_blank=True)
    formulary_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=FormularyStatus.choices),
        help_text="HA formulary statuses of the entry's products.",
    )
    legal_classifications = serializers.ListField(
        child=serializers.ChoiceField(choices=LegalClass.choices),
        help_text="Legal classifications of the entry's products.",
    )
    safety_flags = SafetyFlagSerializer(
        many=True,
        help_text="What staff must warn about, in display order: pregnancy, pregnancy prevention programme, "
        "high-alert, cytotoxic (set on the entry) and dangerous drug (from a product's legal classification).",
    )
    boxed_warning = serializers.CharField(allow_blank=True, help_text="Short boxed warning text; may be empty.")
    translations = EntryTranslationsSerializer(
        help_text="Chinese names and boxed warning, by language tag; all other fields are English."
    )
    edition = serializers.IntegerField(help_text="Number of the published edition served (1, 2, ...).")
    updated_at = serializers.DateTimeField(help_text="When this edition was approved and published.")
    next_review_due = serializers.DateField(help_text="Date by which the monograph should be reviewed again.")
    url = serializers.URLField(help_text="This entry in the API.")
    fhir_url = serializers.URLField(help_text="This entry as a FHIR R4 MedicationKnowledge.")
    html_url = serializers.URLField(allow_null=True, help_text="The public web page of the entry.")


class EntryDetailSerializer(EntrySummarySerializer):
    sections = SectionSerializer(many=True)
    products = ProductSerializer(many=True)


class EntryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Number of entries matching, on all pages.")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EntrySummarySerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Machine-readable code, e.g. bad_parameter, not_found, throttled.")
    detail = serializers.CharField(help_text="The reason, for people.")
    parameter = serializers.CharField(required=False, help_text="The query parameter at fault (400 only).")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429 only).")
