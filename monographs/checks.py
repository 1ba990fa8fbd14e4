"""Content checks: what a pharmacist should fix in a version before it is reviewed.

Pure functions of a snapshot (`snapshots.snapshot_of_revision`), no database:
`check_content(content)` returns the findings, each with a level from
`settings.FORMULARY_CONTENT_CHECKS`. `workflow.submit` refuses a version with a
blocking finding; the entry page lists the findings before submit and the
review page shows them to the reviewer.

A new check is a function of the snapshot added to `CHECKS`, yielding
`(code, where, message)`, with its code and default level added to
`_CONTENT_CHECK_DEFAULTS` in `formulary/settings.py`. "chinese_translation" reports
Chinese text made from older English (stale) and, in an entry that has some Chinese text,
the parts without any (missing); a warning by default. An entry with no Chinese text at all
is not reported: its Chinese page simply shows the English, labelled as English.
"""

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from . import glossary
from .importing import LIST_ITEM, lines_introducing_no_list
from .models import TranslationStatus
from .rendering import render_body
from .snapshots import (
    Snapshot,
    choice_label,
    has_chinese_text,
    safety_flags,
    section_title,
    strength_text,
    translation_findings,
)
from .vocabulary import DosageForm, SafetyFlag, SectionKind

BLOCKING = "blocking"
WARNING = "warning"
OFF = "off"
LEVELS = (BLOCKING, WARNING, OFF)

EMPTY_SECTION = "empty_section"
EMPTY_LIST = "empty_list"
REQUIRED_SECTION = "required_section"
UNREGISTERED_STRENGTH = "unregistered_strength"
REPEATED_PARAGRAPH = "repeated_paragraph"
UNRENDERED_MARKUP = "unrendered_markup"
BOXED_WARNING = "boxed_warning"
CHINESE_TRANSLATION = "chinese_translation"
CHINESE_TERMS = "chinese_terms"
CODES = (
    EMPTY_SECTION,
    EMPTY_LIST,
    REQUIRED_SECTION,
    UNREGISTERED_STRENGTH,
    REPEATED_PARAGRAPH,
    UNRENDERED_MARKUP,
    BOXED_WARNING,
    CHINESE_TRANSLATION,
    CHINESE_TERMS,
)

# Shorter paragraphs ("None known.") may fairly stand under two headings.
REPEAT_MIN_CHARS = 20
PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
# What the Markdown subset (rendering.py) shows as typed instead of rendering.
MARKDOWN_LINK = re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)|<(?:https?|mailto|ftp):[^>\s]*>", re.IGNORECASE)
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[^\S\n]+\S.*$", re.MULTILINE)
UNBALANCED_EMPHASIS = re.compile(r"\*\*|__(?=[^\W_])|(?<=[^\W_])__")  # not "____" (a blank to fill in)

# What a check yields: (code, where, message).
Found = Iterator[tuple[str, str, str]]


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its check's code and level, a translated message,
    and where (a section title, a product name, or "" for the entry as a whole)."""

    code: str
    level: str
    message: str
    where: str = ""

    @property
    def blocking(self) -> bool:
        return self.level == BLOCKING

    @property
    def level_label(self) -> str:
        return _("Blocking") if self.blocking else _("Warning")


def levels() -> dict[str, str]:
    """The level of each check: `settings.FORMULARY_CONTENT_CHECKS`, a warning where it says nothing."""
    configured = settings.FORMULARY_CONTENT_CHECKS
    unknown = {code: level for code, level in configured.items() if code not in CODES or level not in LEVELS}
    if unknown:
        raise ImproperlyConfigured(
            f"FORMULARY_CONTENT_CHECKS: unknown checks or levels {unknown!r}; "
            f"checks are {', '.join(CODES)} and levels {', '.join(LEVELS)}."
        )
    return {code: configured.get(code, WARNING) for code in CODES}


def required_sections() -> list[str]:
    """The section kinds every monograph must have (`settings.FORMULARY_REQUIRED_SECTIONS`)."""
    kinds = list(settings.FORMULARY_REQUIRED_SECTIONS)
    unknown = [kind for kind in kinds if kind not in SectionKind.values]
    if unknown:
        raise ImproperlyConfigured(
            f"FORMULARY_REQUIRED_SECTIONS: unknown section kinds {unknown!r}; "
            f"kinds are {', '.join(SectionKind.values)}."
        )
    return kinds


def check_content(content: Snapshot) -> list[Finding]:
    """The findings on a snapshot, blocking ones first, each check's in monograph order; checks set to "off" are skipped."""
    level_of = levels()
    findings = [
        Finding(code=code, level=level_of[code], message=message, where=where)
        for check in CHECKS
        for code, where, message in check(content)
        if level_of[code] != OFF
    ]
    return sorted(findings, key=lambda finding: not finding.blocking)


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.blocking]


def _quote(text: str, length: int = 80) -> str:
    return Truncator(" ".join(text.split())).chars(length)


def _sections(content: Snapshot) -> list[Snapshot]:
    return content.get("sections") or []


# The checks: each yields (code, where, message) for one snapshot. ----------


def _empty_sections(content: Snapshot) -> Found:
    for section in _sections(content):
        if not strip_tags(render_body(section.get("body"))).strip():
            yield EMPTY_SECTION, section_title(section), _("This section has no text; fill it in or delete it.")


def _empty_lists(content: Snapshot) -> Found:
    for section in _sections(content):
        for _line, text in lines_introducing_no_list(section.get("body") or ""):
            last_sentence = re.split(r"(?<=[.!?。！？])\s+", text)[-1]
            yield (
                EMPTY_LIST,
                section_title(section),
                _("“%(text)s” introduces a list, but no list items follow it.") % {"text": _quote(last_sentence)},
            )


def _required_sections(content: Snapshot) -> Found:
    present = {section.get("kind") for section in _sections(content)}
    for kind in required_sections():
        if kind not in present:
            title = choice_label(SectionKind, kind)
            yield REQUIRED_SECTION, title, _("The monograph has no “%(section)s” section.") % {"section": title}


def _unregistered_strengths(content: Snapshot) -> Found:
    for product in content.get("products") or []:
        strengths = product.get("strengths") or []
        if not any(strength.get("registration_number") for strength in strengths):
            continue  # not a registered product (e.g. an unregistered import): nothing to compare with
        for strength in strengths:
            if not strength.get("registration_number"):
                yield (
                    UNREGISTERED_STRENGTH,
                    product.get("name") or "",
                    _(
                        "The %(strength)s %(form)s has no registration number, "
                        "though other strengths of this product are registered."
                    )
                    % {
                        "strength": strength_text(strength),
                        "form": choice_label(DosageForm, strength.get("dosage_form")).lower(),
                    },
                )


def _paragraphs(body: str | None) -> Iterator[str]:
    for paragraph in PARAGRAPH_BREAK.split(body or ""):
        if paragraph.strip() and not LIST_ITEM.match(paragraph.strip().splitlines()[0]):
            yield paragraph


def _repeated_paragraphs(content: Snapshot) -> Found:
    seen: dict[str, str] = {}  # normalised paragraph → title of the section it first appeared in
    for section in _sections(content):
        title = section_title(section)
        for paragraph in _paragraphs(section.get("body")):
            key = " ".join(paragraph.split()).casefold()
            if len(key) < REPEAT_MIN_CHARS:
                continue
            if key in seen:
                yield (
                    REPEATED_PARAGRAPH,
                    title,
                    _("This paragraph is repeated (it is also in “%(section)s”): “%(text)s”")
                    % {"section": seen[key], "text": _quote(paragraph)},
                )
            else:
                seen[key] = title


def _unrendered_markup(content: Snapshot) -> Found:
    for section in _sections(content):
        body = section.get("body") or ""
        title = section_title(section)
        if match := MARKDOWN_LINK.search(body):
            yield (
                UNRENDERED_MARKUP,
                title,
                _("Links are not shown as links: “%(text)s” appears as typed. Write the address as plain text.")
                % {"text": _quote(match.group())},
            )
        if match := HTML_TAG.search(body):
            yield (
                UNRENDERED_MARKUP,
                title,
                _("HTML is not rendered: “%(text)s” appears as typed. Use the Markdown subset instead.")
                % {"text": _quote(match.group())},
            )
        if match := MARKDOWN_HEADING.search(body):
            yield (
                UNRENDERED_MARKUP,
                title,
                _("Headings inside a section are not rendered: “%(text)s” appears as typed.")
                % {"text": _quote(match.group())},
            )
        shown = html.unescape(strip_tags(render_body(body)))
        if UNBALANCED_EMPHASIS.search(shown):
            yield (
                UNRENDERED_MARKUP,
                title,
                _("Unbalanced ** or __: a bold or italic marker has no partner and appears as typed."),
            )


def _safety_flags_without_boxed_warning(content: Snapshot) -> Found:
    flags = safety_flags(content)
    if flags and not (content.get("boxed_warning") or "").strip():
        names = ", ".join(choice_label(SafetyFlag, flag) for flag in flags)
        yield (
            BOXED_WARNING,
            "",
            _("The entry is flagged (%(flags)s) but has no boxed warning text saying what staff must do.")
            % {"flags": names},
        )


def _chinese_translation(content: Snapshot) -> Found:
    translated = has_chinese_text(content)
    for title, status in translation_findings(content):
        if status == TranslationStatus.STALE:
            yield (
                CHINESE_TRANSLATION,
                title,
                _(
                    "The Chinese text was translated from older English: update it, or check it and tick "
                    "“Chinese text checked against the current English”."
                ),
            )
        elif translated:
            yield (
                CHINESE_TRANSLATION,
                title,
                _("No Chinese text: the Chinese page shows the English here, labelled as English."),
            )


def chinese_texts(content: Snapshot) -> list[tuple[str, str]]:
    """[(where, text)] of every Chinese text of a snapshot, in page order."""
    texts = [
        ("", content.get("chinese_name") or ""),
        ("", content.get("chinese_synonyms") or ""),
        ("", content.get("drug_class_zh") or ""),
        ("", content.get("boxed_warning_zh") or ""),
    ]
    texts += [(section_title(s), f"{s.get('heading_zh') or ''}\n{s.get('body_zh') or ''}") for s in _sections(content)]
    texts += [(p.get("name") or "", p.get("chinese_name") or "") for p in content.get("products", [])]
    return [(where, text) for where, text in texts if text.strip()]


def english_text(content: Snapshot) -> str:
    """The English a term's condition is read against: the names, the class and every section."""
    parts = [content.get("generic_name") or "", content.get("drug_class") or "", content.get("boxed_warning") or ""]
    parts += [f"{s.get('heading') or ''}\n{s.get('body') or ''}" for s in _sections(content)]
    return "\n".join(parts)


def _chinese_terms(content: Snapshot) -> Found:
    for misuse in glossary.misuses(chinese_texts(content), english_text(content)):
        yield (
            CHINESE_TERMS,
            misuse.where,
            _("「%(found)s」: write 「%(term)s」 (%(english)s). %(why)s")
            % {
                "found": misuse.found,
                "term": misuse.term.chinese,
                "english": misuse.term.english,
                "why": misuse.term.why,
            },
        )


CHECKS: list[Callable[[Snapshot], Found]] = [
    _safety_flags_without_boxed_warning,
    _required_sections,
    _empty_sections,
    _empty_lists,
    _unrendered_markup,
    _repeated_paragraphs,
    _unregistered_strengths,
    _chinese_translation,
    _chinese_terms,
]
