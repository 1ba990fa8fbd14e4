"""Template helpers for the public pages: vocabulary labels, strengths, brand names."""

from datetime import date, datetime

from django import template
from django.utils.formats import date_format
from django.utils.translation import get_language

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


# Dates as each language writes them: "25 Nov 2026"; in Chinese "2026年11月25日" (Django's own
# zh-Hant DATE_FORMAT). static/formulary/print.js writes the print date the same way.
DAY_FORMATS = {"en": "j M Y"}


@register.filter(expects_localtime=True)
def day(value):
    """A date (or the local date of a datetime) written the way the active language writes dates."""
    if not isinstance(value, (date, datetime)):
        return ""
    return date_format(value, DAY_FORMATS.get(get_language() or "en", "DATE_FORMAT"))


@register.filter
def has_disclaimer(content):
    """Whether the monograph has its own Disclaimer section (then the page adds none of its own)."""
    return any(section.get("kind") == "disclaimer" for section in content.get("sections", []))


@register.simple_tag(takes_context=True)
def language_links(context):
    """The current page in each interface language: (code, local name, address, is current).

    Links, not a form: the language is in the address (/en/…, /zh-hant/…), so the switch
    needs no cookie or CSRF token and every visitor gets the same page. The query string is
    kept (`translate_url` re-reverses the path in the other language).
    """
    from django.conf import settings
    from django.urls import translate_url
    from django.utils.translation import get_language_info

    request = context.get("request")
    here = request.get_full_path() if request is not None else "/"
    current = get_language()
    return [
        (code, get_language_info(code)["name_local"], translate_url(here, code), code == current)
        for code, _name in settings.LANGUAGES
    ]
