"""Helpers for tests of the public pages: make entries and publish them through the workflow."""

import itertools
from decimal import Decimal

import reversion
from django.utils.text import slugify

from monographs import workflow, working_copy
from monographs.models import Entry, Product, Section, Strength

_registration_numbers = itertools.count(10001)

PRODUCT_DEFAULTS = {
    "kind": "generic",
    "certificate_holder": "Test Holder Ltd",
    "legal_classification": "p1s1s3",
    "sale_requirement": "prescription",
    "formulary_status": "general",
}
STRENGTH_DEFAULTS = {
    "amount": "10",
    "unit": "mg",
    "dosage_form": "tablet",
    "route": "oral",
    "appearance": "white round tablet",
    "pack_size": "30 tablets",
}


def product(name, *, strengths=1, **fields):
    """A product spec with `strengths` tablet strengths (10 mg, 20 mg, ...) unless `strengths` is a list."""
    if isinstance(strengths, int):
        strengths = [{"amount": str(10 * (i + 1))} for i in range(strengths)]
    return {"name": name, **fields, "strengths": strengths}


def make_entry(generic_name, *, user, drug_class="", synonyms="", sections=None, products=()):
    """A draft entry with sections, products and strengths, saved as one revision by `user`."""
    if sections is None:
        sections = [("overview", "", f"{generic_name} is used in tests.")]
    with reversion.create_revision():
        entry = Entry.objects.create(
            generic_name=generic_name, slug=slugify(generic_name), drug_class=drug_class, synonyms=synonyms
        )
        for position, (kind, heading, body) in enumerate(sections, start=1):
            Section.objects.create(entry=entry, kind=kind, heading=heading, position=position * 10, body=body)
        for spec in products:
            spec = dict(spec)
            strengths = spec.pop("strengths", [])
            item = Product.objects.create(entry=entry, **{**PRODUCT_DEFAULTS, **spec})
            for strength in strengths:
                data = {**STRENGTH_DEFAULTS, **strength}
                for field in ("amount", "per_amount"):
                    if data.get(field) is not None:
                        data[field] = Decimal(data[field])
                data.setdefault("registration_number", f"HK-{next(_registration_numbers):05d}")
                Strength.objects.create(product=item, **data)
        reversion.set_user(user)
        reversion.set_comment("Test data")
    return entry


def publish(entry, *, editor, reviewer):
    workflow.submit(entry=entry, user=editor, comment="Ready")
    workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=reviewer, comment="Checked")
    return Entry.objects.get(pk=entry.pk)


def edit(entry, *, user, **changes):
    """Change the working copy of an entry (a new draft revision), e.g. a section body."""
    with reversion.create_revision():
        body = changes.pop("first_section_body", None)
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.save()
        if body is not None:
            section = entry.sections.first()
            section.body = body
            section.save()
        reversion.set_user(user)
        reversion.set_comment("Test edit")
    return entry


def make_published(generic_name, *, editor, reviewer, **kwargs):
    return publish(make_entry(generic_name, user=editor, **kwargs), editor=editor, reviewer=reviewer)
