"""Template helpers for the public pages: vocabulary labels, strengths, brand names."""

from django import template

from .. import snapshots, vocabulary
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
    "SafetyFlag": vocabulary.SafetyFlag,
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


@register.filter
def strength(item):
    """'2.5 mg' or '250 mg per 5 mL' from a strength of Edition.content."""
    return snapshots.strength_text(item)


@register.filter
def brands(content):
    return snapshots.brand_names(content)


@register.filter
def safety_flags(content):
    """SafetyFlag codes of a snapshot, in badge order (see snapshots.safety_flags)."""
    return snapshots.safety_flags(content)
