"""Writes to the working copy other than workflow transitions.

Every service is keyword-only, atomic, validates with `full_clean()` before
saving and records one django-reversion revision with a user and a reason, so
nothing changes without a trace.
"""

from dataclasses import dataclass

import reversion
from django.db import transaction
from django.utils.text import slugify

from .importing import parse_monograph
from .models import Entry, Product, Section, Strength


@dataclass
class ImportResult:
    entry: Entry
    created: bool
    sections: int
    paragraphs: int
    warnings: list[str]


def _save(obj):
    obj.full_clean()
    obj.save()
    return obj


def unique_slug(name, *, exclude_pk=None):
    base = slugify(name) or "entry"
    slug, n = base, 2
    while Entry.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def entry_import_text(*, generic_name, text, user=None, reason="", drug_class=None):
    """Create or update an entry's monograph sections from plain text.

    Re-importing replaces the sections (the previous ones stay in the history),
    so running an import twice never duplicates anything.
    """
    parsed = parse_monograph(text, generic_name=generic_name)
    with transaction.atomic(), reversion.create_revision():
        entry = Entry.objects.select_for_update().filter(generic_name__iexact=generic_name).first()
        created = entry is None
        if created:
            entry = Entry(generic_name=generic_name, slug=unique_slug(generic_name))
        if drug_class is not None:
            entry.drug_class = drug_class
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


def product_upsert(*, entry, name, certificate_holder, user=None, reason="", strengths=(), **fields):
    """Create or update a product and its strengths in one revision.

    `strengths` is a list of dicts of Strength fields; a strength is matched on
    its amount, unit and dosage form, so repeating a call changes nothing twice.
    """
    with transaction.atomic(), reversion.create_revision():
        product = Product.objects.filter(entry=entry, name=name, certificate_holder=certificate_holder).first()
        product = product or Product(entry=entry, name=name, certificate_holder=certificate_holder)
        for key, value in fields.items():
            setattr(product, key, value)
        _save(product)
        for data in strengths:
            data = dict(data)
            key = {k: data.pop(k) for k in ("amount", "unit", "dosage_form")}
            strength = Strength.objects.filter(product=product, **key).first() or Strength(product=product, **key)
            for attr, value in data.items():
                setattr(strength, attr, value)
            _save(strength)
        reversion.set_user(user)
        reversion.set_comment(reason or f"Product {name} updated")
    return product
