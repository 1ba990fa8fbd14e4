"""Writes to the working copy other than workflow transitions.

Every service is keyword-only, atomic, validates with `full_clean()` before
saving and records one django-reversion revision with a user and a reason, so
nothing changes without a trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import reversion
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import translation
from django.utils.text import Truncator, slugify

from .importing import parse_monograph, parse_translation
from .models import (
    DrugClass,
    Entry,
    Product,
    Section,
    Strength,
    normalise_class_name,
    strength_identity,
    strength_text,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

M = TypeVar("M", bound=Model)


@dataclass
class ImportResult:
    entry: Entry
    created: bool
    sections: int
    paragraphs: int
    warnings: list[str]


def _save(obj: M) -> M:
    obj.full_clean()
    obj.save()
    return obj


def _assign(obj: Model, values: Mapping[str, Any]) -> bool:
    """Set `values` on `obj`; return whether any of them differs from what it holds.

    Values are compared as the field would store them, so Decimal("5") matches
    a stored 5.0000 and a choice member matches its stored string.
    """
    changed = obj._state.adding
    for name, value in values.items():
        field = obj._meta.get_field(name)
        if field.is_relation:
            changed = changed or getattr(obj, name) != value
        else:
            try:
                # Not a relation, so a concrete field: it converts values and has a column name.
                new = field.to_python(value)  # type: ignore[union-attr]
            except ValidationError:
                new = value  # full_clean() reports it
            changed = changed or getattr(obj, field.attname) != new  # type: ignore[union-attr]
        setattr(obj, name, value)
    return changed


def _clean_name(generic_name: str | None) -> str:
    name = (generic_name or "").strip()
    if not name:
        raise ValidationError({"generic_name": "A generic name is required."})
    return name


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name) or "entry"
    slug, n = base, 2
    # exclude(pk=None) excludes nothing: what a slug for a new entry needs.
    while Entry.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():  # type: ignore[misc]
        slug, n = f"{base}-{n}", n + 1
    return slug


def unique_class_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name) or "class"
    slug, n = base, 2
    while DrugClass.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():  # type: ignore[misc]
        slug, n = f"{base}-{n}", n + 1
    return slug


def drug_class_for(value: DrugClass | str | None, *, chinese_name: str = "") -> DrugClass | None:
    """The DrugClass an import or an edit names: a DrugClass as it is, None for no name, else
    the class of that English name whatever its case and spacing, made (with `chinese_name`)
    when there is none; a class without a Chinese name is given `chinese_name` unless another
    class has it. Runs inside
    the caller's revision, which records the class with the entry that follows it."""
    if value is None or isinstance(value, DrugClass):
        return value
    name = normalise_class_name(value)
    if not name:
        return None
    found = DrugClass.objects.filter(name__iexact=name).first()
    chinese_name = normalise_class_name(chinese_name)
    if chinese_name and DrugClass.objects.filter(name_zh=chinese_name).exclude(pk=getattr(found, "pk", None)).exists():  # type: ignore[misc]
        # Another class has this Chinese name (a renamed class in a file from elsewhere): the
        # table's names stand; an editor settles it in the admin.
        chinese_name = ""
    if found is None:
        return _save(DrugClass(name=name, name_zh=chinese_name, slug=unique_class_slug(name)))
    if chinese_name and not found.name_zh:
        found.name_zh = chinese_name
        _save(found)
    return found


def drug_class_save(*, drug_class: DrugClass, user: User | None = None, reason: str) -> DrugClass:
    """Create or change a drug class in one revision with `reason` (what the admin does)."""
    if not (reason or "").strip():
        raise ValidationError("Give a reason for the change.")
    with transaction.atomic(), reversion.create_revision():
        if not drug_class.slug:
            drug_class.slug = unique_class_slug(normalise_class_name(drug_class.name), exclude_pk=drug_class.pk)
        _save(drug_class)
        reversion.set_user(user)
        reversion.set_comment(reason.strip())
    return drug_class


def entry_import_text(
    *,
    generic_name: str,
    text: str,
    user: User | None = None,
    reason: str = "",
    drug_class: DrugClass | str | None = None,
) -> ImportResult:
    """Create or update an entry's monograph sections from plain text.

    Re-importing replaces the sections (the previous ones stay in the history),
    so running an import twice never duplicates anything. Each import records
    a revision, even when the text is unchanged, so the history shows it ran.
    """
    generic_name = _clean_name(generic_name)
    parsed = parse_monograph(text, generic_name=generic_name)
    with transaction.atomic(), reversion.create_revision():
        entry = Entry.objects.select_for_update().filter(generic_name__iexact=generic_name).first()
        created = entry is None
        if entry is None:
            entry = Entry(generic_name=generic_name, slug=unique_slug(generic_name))
        if drug_class is not None:
            entry.drug_class = drug_class_for(drug_class)
        _save(entry)
        entry.sections.all().delete()
        for position, parsed_section in enumerate(parsed.sections, start=1):
            _save(
                Section(
                    entry=entry,
                    kind=parsed_section.kind,
                    heading=parsed_section.heading,
                    position=position * 10,
                    body=parsed_section.body,
                )
            )
        reversion.set_user(user)
        reversion.set_comment(reason or ("Imported from text" if created else "Re-imported from text"))
    return ImportResult(
        entry=entry,
        created=created,
        sections=len(parsed.sections),
        paragraphs=parsed.paragraph_count,
        warnings=parsed.warnings,
    )


@dataclass
class TranslationImportResult:
    entry: Entry
    translated: int  # sections given Chinese text
    untranslated: int  # sections marked "-" in the file (left without Chinese text)
    warnings: list[str]


def section_kind_headings() -> dict[str, str]:
    """Every section kind's title in Chinese and in English, casefolded, to its kind: the
    heading lines a Chinese file may use (`importing.parse_translation`)."""
    from .vocabulary import SectionKind

    headings: dict[str, str] = {}
    for language in ("en", "zh-hant"):
        with translation.override(language):
            headings.update({str(label).casefold(): kind for kind, label in SectionKind.choices})
    return headings


def _first_words(text: str, length: int = 24) -> str:
    return Truncator(" ".join(text.split())).chars(length) if text.strip() else "(empty)"


def entry_import_translation(
    *, generic_name: str, text: str, user: User | None = None, reason: str
) -> TranslationImportResult:
    """Attach a Traditional Chinese text to the sections of an existing entry, matched by order,
    in one revision (see `importing.parse_translation` for how the text is split).

    Refused with a ValidationError that lists both sides when the number of sections differs,
    or when a heading names another kind of section than the one at its place: matching by
    order past a gap would put every later translation under the wrong English. Each Chinese
    text records the English it now stands beside (a saved translation is vouched for)."""
    from .vocabulary import SectionKind

    parsed = parse_translation(text, kind_headings=section_kind_headings())
    with transaction.atomic():
        entry = Entry.objects.select_for_update().filter(generic_name__iexact=(generic_name or "").strip()).first()
        if entry is None:
            raise ValidationError(f"No entry named {generic_name!r}; import the English text first.")
        sections = list(entry.sections.order_by("position", "id"))
        if len(parsed) != len(sections):
            pairs = [
                f"  {i}. {sections[i - 1].title if i <= len(sections) else '(no English section)'}"
                f" ↔ {_first_words(parsed[i - 1].heading or ' '.join(parsed[i - 1].lines)) if i <= len(parsed) else '(no Chinese section)'}"
                for i in range(1, max(len(parsed), len(sections)) + 1)
            ]
            raise ValidationError(
                f"The Chinese text has {len(parsed)} sections and {entry.generic_name} has {len(sections)}; "
                'they are matched by order, so nothing was imported. Write "-" for a section left '
                "untranslated. Side by side:\n" + "\n".join(pairs)
            )
        warnings = []
        for number, (section, chinese) in enumerate(zip(sections, parsed, strict=True), start=1):
            if chinese.kind and chinese.kind != section.kind:
                with translation.override("en"):
                    named = dict(SectionKind.choices)[chinese.kind]
                raise ValidationError(
                    f"Section {number} (line {chinese.line_no}): the heading {chinese.heading!r} names "
                    f"“{named}”, but section {number} of {entry.generic_name} is “{section.title}”. "
                    "Nothing was imported."
                )
        with reversion.create_revision():
            for number, (section, chinese) in enumerate(zip(sections, parsed, strict=True), start=1):
                heading_zh = section.heading_zh
                if chinese.untranslated:
                    heading_zh = ""
                elif chinese.heading and not chinese.kind:
                    if section.heading:
                        heading_zh = chinese.heading
                    else:
                        warnings.append(
                            f"Section {number} (line {chinese.line_no}): heading {chinese.heading!r} not stored: "
                            f"“{section.title}” is a standard section, shown with its standard Chinese title."
                        )
                section.body_zh = chinese.body
                section.heading_zh = heading_zh
                _save_at(section, f"{entry.generic_name}, section {number}")
            reversion.add_to_revision(entry)
            reversion.set_user(user)
            reversion.set_comment(reason)
    untranslated = sum(1 for chinese in parsed if chinese.untranslated)
    return TranslationImportResult(
        entry=entry, translated=len(parsed) - untranslated, untranslated=untranslated, warnings=warnings
    )


def product_upsert(
    *,
    entry: Entry,
    name: str,
    certificate_holder: str,
    user: User | None = None,
    reason: str = "",
    strengths: Iterable[Mapping[str, Any]] = (),
    **fields: Any,
) -> Product:
    """Create or update a product and its strengths in one revision.

    `strengths` is a list of dicts of Strength fields; a strength is matched on
    its identity (amount, unit, per amount and unit, dosage form: what the
    database keeps unique), so repeating a call changes nothing twice.
    When nothing would change, nothing is saved and no revision is made, so
    repeating a call does not turn a published entry back into a draft.
    """
    with transaction.atomic():
        product = Product.objects.filter(entry=entry, name=name, certificate_holder=certificate_holder).first()
        product = product or Product(entry=entry, name=name, certificate_holder=certificate_holder)
        product_changed = _assign(product, fields)
        changed_strengths = []
        for data in strengths:
            candidate = Strength(product=product, **data)
            strength = None
            if product.pk is not None:
                strength = next((s for s in product.strengths.all() if s.identity() == candidate.identity()), None)
            strength = strength or Strength()
            if _assign(strength, data):
                changed_strengths.append(strength)
        if not product_changed and not changed_strengths:
            return product
        with reversion.create_revision():
            if product_changed:
                _save(product)
            for strength in changed_strengths:
                strength.product = product
                _save(strength)
            reversion.set_user(user)
            reversion.set_comment(reason or f"Product {name} updated")
    return product


def entry_update(*, entry: Entry, user: User | None = None, reason: str, **fields: Any) -> Entry:
    """Change fields of an entry (not its sections or products) in one revision.

    Validates with `full_clean()` and records the user and reason. An update
    that changes nothing saves nothing and makes no revision. Returns the
    entry with the given fields as stored.
    """
    if not (reason or "").strip():
        raise ValidationError("Give a reason for the change.")
    if "generic_name" in fields:
        fields["generic_name"] = _clean_name(fields["generic_name"])
    with transaction.atomic():
        if "drug_class" in fields:
            fields["drug_class"] = drug_class_for(fields["drug_class"])
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if not _assign(locked, fields):
            return entry
        with reversion.create_revision():
            _save(locked)
            reversion.set_user(user)
            reversion.set_comment(reason.strip())
    # With what the save derived from them (the fingerprint of a Chinese text): a revision
    # that later follows this object (a product's) must not record a stale copy.
    derived = [source for _english, _chinese, source, _at in Entry.translation_fields]
    for name in [*fields, *derived]:
        setattr(entry, name, getattr(locked, name))
    entry.updated_at = locked.updated_at
    return entry


def _save_at(obj: M, where: str) -> M:
    """`_save`, with any validation message prefixed by where in the entry it happened."""
    try:
        return _save(obj)
    except ValidationError as exc:
        messages: list[str] = []
        for name, errors in exc.message_dict.items():
            prefix = "" if name == "__all__" else f"{name}: "
            messages.extend(prefix + message for message in errors)
        raise ValidationError(f"{where}: {'; '.join(messages)}") from None


def entry_replace(*, data: Mapping[str, Any], user: User | None = None, reason: str) -> tuple[Entry, bool]:
    """Make the working copy of one entry exactly `data`, in one revision; return (entry, created).

    `data` holds the entry's fields with its "sections" and "products" (each
    product with its "strengths"), as `transfer` reads them from a file. The
    entry is found by generic name (case-insensitive) or created. Sections are
    replaced (the old ones stay in the history). Products are matched on name
    and certificate holder, strengths on their identity (`strength_identity`,
    what the admin and the database compare), so an unchanged strength keeps
    its id and its place in the history. Every object is validated with
    `full_clean()`; a ValidationError names the part that failed.
    """
    name = data["generic_name"]
    with transaction.atomic(), reversion.create_revision():
        entry = Entry.objects.select_for_update().filter(generic_name__iexact=name).first()
        created = entry is None
        entry = entry or Entry()
        for attr, value in data.items():
            if attr not in ("sections", "products", "drug_class", "drug_class_zh"):
                setattr(entry, attr, value)
        if "drug_class" in data:
            entry.drug_class = drug_class_for(data["drug_class"], chinese_name=data.get("drug_class_zh") or "")
        # A file that carries what each translation was made from (export format 3) keeps it:
        # a stale translation stays stale, a checked one checked.
        entry.translation_as_recorded = "boxed_warning_zh_source" in data
        _save_at(entry, name)

        entry.sections.all().delete()
        for i, section_data in enumerate(data["sections"]):
            section = Section(entry=entry, **section_data)
            section.translation_as_recorded = "zh_source" in section_data
            _save_at(section, f"{name}, section {i + 1}")

        wanted = {(p["name"], p["certificate_holder"]): p for p in data["products"]}
        existing = {(p.name, p.certificate_holder): p for p in entry.products.all()}
        # Deletions first, so a registration number can move to a new strength.
        kept: dict[tuple[str, str], dict[Any, Strength]] = {}
        for key, product in existing.items():
            if key not in wanted:
                product.delete()
                continue
            wanted_strengths = {strength_identity(s) for s in wanted[key]["strengths"]}
            kept[key] = {}
            for strength in product.strengths.all():
                if strength.identity() in wanted_strengths:
                    kept[key][strength.identity()] = strength
                else:
                    strength.delete()

        for key, pdata in wanted.items():
            product = existing.get(key) or Product(entry=entry)
            where = f"{name}, product {pdata['name']}"
            for attr, value in pdata.items():
                if attr != "strengths":
                    setattr(product, attr, value)
            _save_at(product, where)
            for sdata in pdata["strengths"]:
                strength = kept.get(key, {}).get(strength_identity(sdata)) or Strength(product=product)
                for attr, value in sdata.items():
                    if attr in ("amount", "per_amount") and value is not None:
                        value = Decimal(value)
                    setattr(strength, attr, value)
                text = strength_text(sdata["amount"], sdata["unit"], sdata.get("per_amount"), sdata.get("per_unit"))
                _save_at(strength, f"{where}, strength {text} {sdata['dosage_form']}")
        reversion.set_user(user)
        reversion.set_comment(reason)
    return entry, created


def section_update(*, section: Section, user: User | None = None, reason: str, **fields: Any) -> Section:
    """Change fields of one monograph section in one revision of its entry; like `entry_update`,
    a change to nothing saves nothing."""
    if not (reason or "").strip():
        raise ValidationError("Give a reason for the change.")
    with transaction.atomic():
        locked = Section.objects.select_for_update().get(pk=section.pk)
        if not _assign(locked, fields):
            return section
        with reversion.create_revision():
            _save(locked)
            reversion.set_user(user)
            reversion.set_comment(reason.strip())
    return locked


def products_delete(*, products: Iterable[Product], user: User | None = None, reason: str = "") -> None:
    """Delete products (with their strengths) in one revision of each entry concerned.

    A deletion is an edit of its entry: the revision holds the entry without
    the products, so the entry becomes a draft and the deletion goes through
    review like any other change.
    """
    products = list(products)
    if not products:
        return
    entries = {product.entry for product in products}
    names = ", ".join(str(p) for p in products)
    with transaction.atomic(), reversion.create_revision():
        for product in products:
            product.delete()
        for entry in entries:
            reversion.add_to_revision(entry)
        reversion.set_user(user)
        reversion.set_comment(reason or f"Deleted product {names}")
