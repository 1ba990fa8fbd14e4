"""The content of an entry as it stood in one django-reversion revision.

One plain, JSON-ready shape serves three purposes: a published edition stores
it, the compare view diffs two of them, and the public pages render it.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Choices
from reversion.models import Revision

from . import models
from .models import DrugClass, Entry, Product, Section, Strength, split_lines
from .vocabulary import FormularyStatus, LegalClass, SafetyFlag, SectionKind

ENTRY_FIELDS = [
    "generic_name",
    "chinese_name",
    "slug",
    "synonyms",
    "drug_class",
    "atc_code",
    "pregnancy_warning",
    "pregnancy_prevention_programme",
    "high_alert",
    "cytotoxic",
    "boxed_warning",
    # Traditional Chinese beside the English; absent from editions made before.
    "chinese_synonyms",
    "boxed_warning_zh",
    "boxed_warning_zh_source",
]
# Entry flags behind the SafetyFlag badges; an edition made before they existed has none.
SAFETY_FLAG_FIELDS = {
    SafetyFlag.PREGNANCY: "pregnancy_warning",
    SafetyFlag.PREGNANCY_PREVENTION: "pregnancy_prevention_programme",
    SafetyFlag.HIGH_ALERT: "high_alert",
    SafetyFlag.CYTOTOXIC: "cytotoxic",
}
SECTION_FIELDS = ["kind", "heading", "position", "body", "heading_zh", "body_zh", "zh_source", "english_updated_at"]
PRODUCT_FIELDS = [
    "name",
    "chinese_name",
    "kind",
    "certificate_holder",
    "legal_classification",
    "sale_requirement",
    "formulary_status",
    "notes",
]
STRENGTH_FIELDS = [
    "amount",
    "unit",
    "per_amount",
    "per_unit",
    "dosage_form",
    "route",
    "appearance",
    "pack_size",
    "pack_count",
    "pack_unit",
    "registration_number",
]
# What an editor types; the pack's count and unit are read from its text (`Strength.clean`), so
# the admin, the export file and the reviewer's diff show the text only.
DERIVED_STRENGTH_FIELDS = ("pack_count", "pack_unit")
EDITED_STRENGTH_FIELDS = [name for name in STRENGTH_FIELDS if name not in DERIVED_STRENGTH_FIELDS]
# The entry's class as it stood in the revision: both names and the slug of its page (an
# edition made before classes were a table has only "drug_class", its English name).
DRUG_CLASS_FIELDS = {"drug_class": "name", "drug_class_zh": "name_zh", "drug_class_slug": "slug"}

# A snapshot (and each of its sections, products and strengths) is plain JSON: a dict keyed by
# field name. `FieldDict` is one row's fields as django-reversion stores them.
Snapshot = dict[str, Any]
FieldDict = Mapping[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _pick(field_dict: FieldDict, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(field_dict.get(name)) for name in fields}


def snapshot_of_revision(revision: Revision, entry_id: int | str) -> Snapshot:
    """Return the entry with its sections, products and strengths as in `revision`."""
    by_model: dict[type | None, dict[Any, FieldDict]] = {
        Entry: {},
        Section: {},
        Product: {},
        Strength: {},
        DrugClass: {},
    }
    for version in revision.version_set.select_related("content_type"):
        model = version.content_type.model_class()
        if model in by_model:
            by_model[model][int(version.object_id)] = version.field_dict
    entry = by_model[Entry].get(int(entry_id))
    if entry is None:
        raise LookupError(f"Revision {revision.pk} does not hold entry {entry_id}.")
    class_id = entry.get("drug_class_id")
    drug_class = by_model[DrugClass].get(class_id)
    if class_id is not None and drug_class is None:
        # A revision recorded before classes were versioned (migration 0021) holds only the id.
        drug_class = DrugClass.objects.filter(pk=class_id).values("name", "name_zh", "slug").first()
    return snapshot_from_field_dicts(
        entry_id,
        entry={**entry, "drug_class": drug_class},
        sections=by_model[Section],
        products=by_model[Product],
        strengths=by_model[Strength],
    )


def snapshot_from_field_dicts(
    entry_id: int | str,
    *,
    entry: FieldDict,
    sections: Mapping[int, FieldDict],
    products: Mapping[int, FieldDict],
    strengths: Mapping[int, FieldDict],
) -> Snapshot:
    """The snapshot of entry `entry_id`: the one definition of its shape, order and decimal text.

    `entry` is the entry's field dict; `sections`, `products` and `strengths` map
    primary keys to field dicts. Field dicts are shaped like `Version.field_dict`
    (attribute names, so foreign keys are `entry_id` and `product_id`), except that the
    entry's "drug_class" is the class's field dict (name, name_zh, slug) or None. Sections
    and products of other entries, and strengths of other products, are left out,
    so the rows of a whole revision can be passed as they are.
    """
    entry_id = int(entry_id)
    section_rows = sorted(
        (
            {"id": pk, **_pick(fields, SECTION_FIELDS)}
            for pk, fields in sections.items()
            if fields["entry_id"] == entry_id
        ),
        key=lambda s: (s["position"], s["id"]),
    )
    product_rows = []
    for pk, fields in products.items():
        if fields["entry_id"] != entry_id:
            continue
        strength_rows = sorted(
            (
                {"id": spk, **_pick(sfields, STRENGTH_FIELDS)}
                for spk, sfields in strengths.items()
                if sfields["product_id"] == pk
            ),
            key=lambda s: (s["dosage_form"], Decimal(s["amount"]), s["id"]),
        )
        product_rows.append({"id": pk, **_pick(fields, PRODUCT_FIELDS), "strengths": strength_rows})
    product_rows.sort(key=lambda p: (p["kind"], p["name"].lower(), p["id"]))
    drug_class = entry.get("drug_class") or {}
    classes = {key: drug_class.get(field) or "" for key, field in DRUG_CLASS_FIELDS.items()}
    return {
        "id": entry_id,
        **_pick(entry, ENTRY_FIELDS),
        **classes,
        "sections": section_rows,
        "products": product_rows,
    }


def listing_fields(content: Snapshot) -> dict[str, Any]:
    """The columns an Edition copies from its snapshot, so that lists and search
    results never have to load and decode the whole snapshot."""
    from django.utils.html import strip_tags
    from django.utils.text import Truncator

    from .rendering import render_body

    sections = content.get("sections") or []
    opening = strip_tags(render_body(sections[0]["body"])) if sections else ""
    return {
        "generic_name": content["generic_name"],
        "slug": content["slug"],
        "drug_class": content.get("drug_class") or "",
        "drug_class_zh": content.get("drug_class_zh") or "",
        "drug_class_slug": content.get("drug_class_slug") or class_slug(content.get("drug_class")),
        "brand_names": brand_names(content),
        "excerpt": Truncator(" ".join(opening.split())).words(30),
        "chinese_name": content.get("chinese_name") or "",
        "safety_flags": safety_flags(content),
        "formulary_statuses": formulary_statuses(content),
    }


# Reading a snapshot: one definition each, shared by the pages, the API, FHIR and the diff.


def class_slug(name: str | None) -> str:
    """The class page's address part for an edition made before classes had a slug of their
    own: the rule migration 0021 gave each class."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")


def drug_class_name(content: Snapshot, language: str | None = None) -> tuple[str, bool]:
    """(name, is_english) of a snapshot's class in `language` (default: the active one): the
    Chinese name on a Chinese page when the edition has one, else the English."""
    from django.utils.translation import get_language

    language = language or get_language() or "en"
    chinese = content.get("drug_class_zh") or ""
    if language.lower().startswith("zh") and chinese:
        return chinese, False
    return content.get("drug_class") or "", True


def choice_label(choices: type[Choices], value: str | None) -> str:
    """The label of a stored choice code, or the code itself if it is not (or no longer) a choice."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def section_title(section: Snapshot) -> str:
    return section.get("heading") or choice_label(SectionKind, section["kind"])


def strength_text(strength: Snapshot) -> str:
    """'2.5 mg' or '250 mg per 5 mL' from a strength of a snapshot (see `models.strength_text`)."""
    return models.strength_text(
        strength.get("amount"), strength.get("unit"), strength.get("per_amount"), strength.get("per_unit")
    )


def brand_names(content: Snapshot) -> list[str]:
    """Names of the brand products of a snapshot, in snapshot order."""
    return [p["name"] for p in content.get("products", []) if p.get("kind") == "brand"]


def synonym_list(content: Snapshot) -> list[str]:
    return split_lines(content.get("synonyms"))


def chinese_synonym_list(content: Snapshot) -> list[str]:
    """The entry's Chinese synonyms, one per line (none in an edition made before they existed)."""
    return split_lines(content.get("chinese_synonyms"))


def safety_flags(content: Snapshot) -> list[str]:
    """The SafetyFlag codes of a snapshot, in badge order: the entry's own flags, and
    "dangerous drug" when any product is classified as one."""
    flags = [flag for flag, field in SAFETY_FLAG_FIELDS.items() if content.get(field)]
    if any(p.get("legal_classification") == LegalClass.DANGEROUS_DRUG for p in content.get("products", [])):
        flags.append(SafetyFlag.DANGEROUS_DRUG)
    return [str(flag) for flag in flags]


def formulary_statuses(content: Snapshot) -> list[str]:
    """The HA formulary status codes of a snapshot's products, each once, in vocabulary order
    (a code no longer in the vocabulary last)."""
    present = [p.get("formulary_status") for p in content.get("products", []) if p.get("formulary_status")]
    known = [status for status in FormularyStatus.values if status in present]
    return known + sorted({status for status in present if status not in FormularyStatus.values})


def section_translation(section: Snapshot) -> "models.TranslationStatus":
    """TranslationStatus of a snapshot section's Chinese text (see `models.translation_status`)."""
    return models.translation_status(
        english=(section.get("heading"), section.get("body")),
        chinese=section.get("body_zh"),
        source=section.get("zh_source") or "",
    )


def boxed_warning_translation(content: Snapshot) -> "models.TranslationStatus | None":
    """TranslationStatus of a snapshot's Chinese boxed warning, or None without an English one."""
    if not (content.get("boxed_warning") or "").strip():
        return None
    return models.translation_status(
        english=(content.get("boxed_warning"),),
        chinese=content.get("boxed_warning_zh"),
        source=content.get("boxed_warning_zh_source") or "",
    )


def translation_findings(content: Snapshot) -> list[tuple[str, "models.TranslationStatus"]]:
    """(section title, TranslationStatus) of every section and the boxed warning whose Chinese
    text is missing or stale, in page order: what the review screen lists."""
    found: list[tuple[str, models.TranslationStatus]] = []
    status = boxed_warning_translation(content)
    if status is not None and status != models.TranslationStatus.CURRENT:
        found.append((str(models.Entry._meta.get_field("boxed_warning").verbose_name), status))
    for section in content.get("sections", []):
        status = section_translation(section)
        if status != models.TranslationStatus.CURRENT:
            found.append((section_title(section), status))
    return found


def has_chinese_text(content: Snapshot) -> bool:
    """Whether a snapshot has any Chinese text in its sections or boxed warning (an entry with
    none is "not translated", rather than missing a translation in every part)."""
    return bool((content.get("boxed_warning_zh") or "").strip()) or any(
        (section.get("body_zh") or "").strip() for section in content.get("sections", [])
    )
