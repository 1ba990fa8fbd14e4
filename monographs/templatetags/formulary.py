"""Template helpers for the public pages: vocabulary labels, strengths, brand names."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from .. import search, snapshots, vocabulary
from ..rendering import render_body

register = template.Library()

VOCABULARIES = {
    "SectionKind": vocabulary.SectionKind,
    "ProductKind": vocabulary.ProductKind,
    "LegalClass": vocabulary.LegalClass,
    "SaleRequirement": vocabulary.SaleRequirement,
    "FormularyStatus": vocabulary.FormularyStatus,
    "Unit": vocabulary.Unit,
    "DosageForm": vocabulary.DosageForm,
    "Route": vocabulary.Route,
}


@register.filter
def label(code, vocabulary_name):
    """The human label of a stored choice code, e.g. 'p1s1s3' -> 'Part 1, Schedule 1 & Schedule 3 Poison'."""
    return snapshots.choice_label(VOCABULARIES[vocabulary_name], code)


@register.filter
def section_title(section):
    return snapshots.section_title(section)


@register.filter
def markdown(text):
    return render_body(text)


def _number(value):
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def strength(item):
    """'2.5 mg' or '250 mg per 5 mL' from a strength of Edition.content."""
    amount = f"{_number(item.get('amount'))} {item.get('unit')}"
    if item.get("per_amount") in (None, ""):
        return amount
    return _("%(amount)s per %(per_amount)s %(per_unit)s") % {
        "amount": amount,
        "per_amount": _number(item["per_amount"]),
        "per_unit": item.get("per_unit"),
    }


@register.filter
def brands(content):
    return search.brand_names(content)
