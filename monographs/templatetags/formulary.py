"""Template helpers for the public pages: vocabulary labels, strengths, brand names, and which\nlanguage each part of a monograph is shown in."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .. import glossary, packs, snapshots, vocabulary
from ..models import split_lines
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


# --- Traditional Chinese beside the English ----------------------------------
# The zh-Hant pages choose here, per section, which text a reader sees: the Chinese when its
# translation is up to date, both side by side when it is stale, the English (labelled as
# such) when it is missing. Staleness is read from the edition itself (the fingerprint the
# translation recorded), so it is fixed while that edition is live and the cached page stays
# true. Editions made before these keys existed read as "missing".
CHINESE = "zh-hant"


@register.simple_tag
def reads_chinese():
    """Whether the interface language is Traditional Chinese (then the pages show the Chinese content)."""
    return (get_language() or "").lower() == CHINESE


@dataclass(frozen=True)
class Reading:
    """One section (or the boxed warning) as the bilingual pages show it."""

    status: str  # a models.TranslationStatus value: current, stale or missing
    english_heading: str  # the English heading, or the section kind's English label
    chinese_heading: str  # heading_zh, else the kind's Chinese label when the English has no heading of its own
    english_updated_at: datetime | None  # when the English last changed, for the stale notice


def _in_language(language, function, *args):
    with translation.override(language):
        return str(function(*args))


def _moment(value):
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@register.filter
def reading(section):
    """The `Reading` of a snapshot section: its translation status and its heading in each language."""
    status = snapshots.section_translation(section)
    own_heading = (section.get("heading") or "").strip()
    chinese_heading = (section.get("heading_zh") or "").strip()
    if not chinese_heading and not own_heading:
        # A standard section: its kind's label is already translated.
        chinese_heading = _in_language(CHINESE, snapshots.section_title, section)
    return Reading(
        status=str(status.value),
        english_heading=_in_language("en", snapshots.section_title, section),
        chinese_heading=chinese_heading,
        english_updated_at=_moment(section.get("english_updated_at")),
    )


@register.filter
def warning_reading(content):
    """The `Reading` of a snapshot's boxed warning, or None when it has no English one."""
    status = snapshots.boxed_warning_translation(content)
    if status is None:
        return None
    return Reading(
        status=str(status.value),
        english_heading="",
        chinese_heading="",
        english_updated_at=None,
    )


@register.filter
def heading_here(section):
    """(text, lang) of a section's heading on a page in the interface language: on a zh-Hant
    page the Chinese heading, or the English one marked lang="en" when the section has only that."""
    if not reads_chinese():
        return snapshots.section_title(section), ""
    read = reading(section)
    if read.chinese_heading:
        return read.chinese_heading, ""
    return read.english_heading, "en"


@register.filter
def brand_products(content):
    """The brand products of a snapshot (name and Chinese name), in snapshot order."""
    return [p for p in content.get("products", []) if p.get("kind") == "brand"]


@register.filter
def chinese_synonyms(content):
    return split_lines(content.get("chinese_synonyms"))


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


# A run of Latin script as it reads in a Chinese sentence: from a letter to the last letter,
# digit or closing mark, across spaces and the punctuation English puts inside names
# ("Bristol Myers Squibb Pharma (HK) Ltd (demo)", "REV 2.5 mg", "Revlimid 15 mg capsule").
LATIN_RUN = re.compile(
    r"[A-Za-z\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f .,'’()&/+%:;‘\-]*[A-Za-z0-9\u00c0-\u024f).'’]|[A-Za-z]"
)


def wrap_latin(text):
    """`text`, escaped, with each run of Latin script in <span lang="en"> (what `latin` does on a
    Chinese page)."""
    out, last = [], 0
    text = str(text)
    for match in LATIN_RUN.finditer(text):
        run = match.group(0)
        out.append(escape(text[last : match.start()]))
        out.append(format_html('<span lang="en">{}</span>', run))
        last = match.end()
    out.append(escape(text[last:]))
    # Every part is escaped or built by format_html above.
    return mark_safe("".join(out))  # nosec B308 B703


@register.filter(is_safe=True)
def latin(text):
    """On a Chinese page, each run of English in `text` marked lang="en" (screen readers and
    fonts switch with it); elsewhere `text`, escaped."""
    if text in (None, ""):
        return ""
    if (get_language() or "").lower() != CHINESE:
        return conditional_escape(text)
    return wrap_latin(text)


@register.filter
def pack(strength):
    """A snapshot strength's pack in the page's language: '21 capsules' or '21 粒', marked as
    English on a Chinese page when it is text that was not read as a count and unit."""
    text = packs.pack_label(strength)
    if not text:
        return "—"
    return latin(text) if packs.pack_is_english_text(strength) else text


@register.filter
def class_name(content):
    """The snapshot's drug class in the page's language: the Chinese name where the edition has
    one, else the English, marked lang="en" on a Chinese page."""
    name, english = snapshots.drug_class_name(content)
    if english and (get_language() or "").lower() == CHINESE and name:
        return format_html('<span lang="en">{}</span>', name)
    return conditional_escape(name)


@register.simple_tag
def term(english):
    """The glossary's Chinese word for `english` (`monographs/glossary.py`)."""
    return glossary.term(english)


@register.filter(is_safe=True)
def latin_join(items, separator):
    """`items` joined by `separator`, each passed through `latin`."""
    return mark_safe(conditional_escape(separator).join(str(latin(item)) for item in items))  # nosec B308 B703


# --- The entry page at the counter ----------------------------------------------------------


@register.filter
def counter_sections(content):
    """[(number, section)] of a snapshot in the order the entry page shows them (dose, then the
    warnings, then the rest: `vocabulary.COUNTER_ORDER`, the disclaimer last). `number` is the
    section's place in the author's order, so its anchor (#section-3) stays the same section
    whatever order the page shows."""
    order = {str(kind): rank for rank, kind in enumerate(vocabulary.COUNTER_ORDER)}
    last = len(order)

    def rank(item):
        kind = item[1].get("kind")
        return order.get(kind, last + (1 if kind == vocabulary.SectionKind.DISCLAIMER else 0))

    return sorted(enumerate(content.get("sections", []), start=1), key=rank)


@register.filter
def jump_targets(content):
    """[(label, anchor)] of the entry page's jump bar: the first dose section, the first warning
    section, the first interactions section (each only when present) and the products."""
    sections = counter_sections(content)

    def first_of(kinds):
        return next((f"section-{number}" for number, section in sections if section.get("kind") in kinds), None)

    from django.utils.translation import gettext

    targets = [
        (gettext("Dose"), first_of({vocabulary.SectionKind.DOSE})),
        (gettext("Warnings"), first_of(set(vocabulary.WARNING_KINDS))),
        (gettext("Interactions"), first_of({vocabulary.SectionKind.INTERACTIONS})),
        (gettext("Products"), "products" if content.get("products") else None),
    ]
    return [(text, anchor) for text, anchor in targets if anchor]


@register.filter
def statuses_by_product(edition):
    """[(status code, [product names])] of a listed edition (`selectors.with_product_statuses`),
    in vocabulary order: each status once with the products that have it, so a list or a result
    never reads as if every product had every status. The names are left out (an empty list)
    when every product has the one status."""
    from .. import selectors

    grouped = {}
    for name, status in selectors.product_statuses(edition):
        if status:
            grouped.setdefault(status, []).append(name)
    known = [code for code in vocabulary.FormularyStatus.values if code in grouped]
    ordered = [(code, grouped[code]) for code in known + sorted(set(grouped) - set(known))]
    if len(ordered) == 1:
        return [(ordered[0][0], [])]
    return ordered
