"""Turn a plain-text monograph into ordered sections.

Pure functions, no database: `parse_monograph` reads text and returns the
sections and warnings; `services.entry_import_text` stores them. Each
paragraph is classified from its wording (its first sentence weighs most,
because that is where a monograph states its topic). Consecutive paragraphs
of one kind form one section. A paragraph nothing recognises goes to an
"Other" section; nothing is dropped.
"""

import re
from dataclasses import dataclass, field

from .vocabulary import SectionKind

LIST_ITEM = re.compile(r"^\s*(?:[-*•·‧]|\d{1,2}[.)])\s+(?P<text>\S.*)$")
SENTENCE_END = ("。", "！", "？", "：", ".", "!", "?", ":")
OTHER_HEADING = "Additional information"

# Wording that signals each kind; checked case-insensitively.
SIGNALS = {
    SectionKind.DRUG_CLASS: [
        r"\bfunctioning as\b",
        r"\bbelong(s|ing)? to\b",
        r"\bclass\b",
        r"\bfamily of\b",
        r"\blineage\b",
        r"\bderivative\b",
        r"\banalogue\b",
        r"\bmember of\b",
    ],
    SectionKind.AVAILABILITY: [
        r"\bmarketed\b",
        r"\bavailable\b",
        r"\bsupplies\b",
        r"\bbrand(ed|s)?\b",
        r"\bgeneric\b",
        r"\bdispensary\b",
        r"\bpharmac(y|ies)\b",
        r"\bregistered\b",
        r"\bhong kong\b",
    ],
    SectionKind.USES: [
        r"\bindicat(ed|ion|ions)\b",
        r"\buse case\b",
        r"\bused (to|for|in)\b",
        r"\btreat(s|ing|ment of)?\b",
        r"\bmanaging\b",
        r"\bprimary use\b",
    ],
    SectionKind.MECHANISM: [
        r"\bbinds?\b",
        r"\bmechanism\b",
        r"\bworks by\b",
        r"\bacts by\b",
        r"\binhibit(s|ing|ion)?\b",
        r"\btarget protein\b",
        r"\breceptors?\b",
        r"\bpathways?\b",
        r"\binterfering\b",
        r"\bmicroenvironment\b",
        r"\bprevents? the (development|formation|production)\b",
    ],
    SectionKind.SIDE_EFFECTS: [
        r"\bside[- ]effects?\b",
        r"\badverse\b",
        r"\bpatients (often|commonly|may) (notice|experience)\b",
        r"\bnausea\b",
        r"\bfatigue\b",
        r"\bgastrointestinal\b",
        r"\bdizziness\b",
    ],
    SectionKind.SEEK_HELP: [
        r"\bmedical attention\b",
        r"\bseek\b",
        r"\burgent(ly)?\b",
        r"\bemergency\b",
        r"\bimmediate(ly)?\b",
        r"\bcontact (your|a) (doctor|pharmacist)\b",
    ],
    SectionKind.CONTRAINDICATIONS: [
        r"\bcontraindicat",
        r"\bmust not\b",
        r"\bshould not (be used|take)\b",
        r"\bprecludes?\b",
        r"\bhypersensitivity\b",
        r"\bpregnan(t|cy)\b",
    ],
    SectionKind.INTERACTIONS: [
        r"\bcombining\b",
        r"\binteract(s|ion|ions)?\b",
        r"\btogether with\b",
        r"\balcohol\b",
        r"\bother medicines\b",
        r"\bconflicting substances\b",
    ],
    SectionKind.STORAGE: [
        r"\bstor(e|age|ed)\b",
        r"\btemperature\b",
        r"\bsunlight\b",
        r"\bhumidity\b",
        r"\bduration\b",
        r"\bshelf[- ]life\b",
    ],
    SectionKind.DISCLAIMER: [
        r"\binformational purposes\b",
        r"\bnot constitute\b",
        r"\bdisclaim",
        r"\bliability\b",
        r"\beducational summary\b",
    ],
}
_COMPILED = {kind: [re.compile(p, re.IGNORECASE) for p in patterns] for kind, patterns in SIGNALS.items()}
# A line on its own naming a section ("Side effects") sets the kind explicitly.
HEADINGS = {label.lower(): kind for kind, label in SectionKind.choices if kind != SectionKind.OTHER} | {
    "uses": SectionKind.USES,
    "indications": SectionKind.USES,
    "availability": SectionKind.AVAILABILITY,
    "mechanism of action": SectionKind.MECHANISM,
    "storage": SectionKind.STORAGE,
}


@dataclass
class ParsedSection:
    kind: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)

    @property
    def body(self):
        return "\n\n".join(self.paragraphs)


@dataclass
class ParsedMonograph:
    sections: list[ParsedSection]
    warnings: list[str]
    paragraph_count: int


class MonographTextError(ValueError):
    """The input is not a text monograph (empty, binary or not UTF-8)."""


def decode_text(raw: bytes) -> str:
    if not raw.strip():
        raise MonographTextError("The file is empty.")
    if b"\x00" in raw:
        raise MonographTextError("The file looks binary (it contains NUL bytes); expected plain UTF-8 text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MonographTextError(
            f"The file is not valid UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8 and try again."
        ) from None
    if not text.strip():
        raise MonographTextError("The file is empty.")
    return text


def _blocks(text):
    """Split text into paragraphs and list items, with their line numbers.

    A line ending a sentence ends its paragraph, so both one-paragraph-per-line
    text (like the seed) and hard-wrapped text read correctly.
    """
    blocks = []  # (line_no, is_item, text)
    current = None
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            current = None
            continue
        item = LIST_ITEM.match(line)
        if item:
            blocks.append([line_no, True, item.group("text").strip()])
            current = None
            continue
        if current is not None:
            current[2] += " " + line
        else:
            current = [line_no, False, line]
            blocks.append(current)
        if line.endswith(SENTENCE_END) or line.rstrip(":").strip().lower() in HEADINGS:
            current = None
    return blocks


def classify(paragraph, *, generic_name=""):
    """Return the section kind a paragraph's wording points to, or None."""
    first_sentence = re.split(r"(?<=[.!?。！？])\s", paragraph, maxsplit=1)[0]
    scores = {}
    for kind, patterns in _COMPILED.items():
        score = sum(len(p.findall(paragraph)) + 3 * len(p.findall(first_sentence)) for p in patterns)
        if score:
            scores[kind] = score
    if generic_name and paragraph.lower().startswith(generic_name.lower()):
        # A paragraph that opens with the drug's own name introduces it.
        scores[SectionKind.OVERVIEW] = scores.get(SectionKind.OVERVIEW, 0) + 8
    if not scores:
        return None
    return max(scores, key=scores.get)


def parse_monograph(text, *, generic_name=""):
    sections: list[ParsedSection] = []
    warnings: list[str] = []
    explicit_kind = None
    paragraph_count = 0
    blocks = _blocks(text)

    for index, (line_no, is_item, content) in enumerate(blocks):
        if is_item:
            item = f"- {content}"
            if sections:
                sections[-1].paragraphs.append(item)
            else:
                sections.append(ParsedSection(SectionKind.OTHER, OTHER_HEADING, [item]))
            continue

        heading_kind = HEADINGS.get(content.rstrip(":").strip().lower())
        if heading_kind:
            explicit_kind = heading_kind
            continue

        paragraph_count += 1
        kind = explicit_kind or classify(content, generic_name=generic_name) or SectionKind.OTHER
        heading = OTHER_HEADING if kind == SectionKind.OTHER else ""
        if sections and sections[-1].kind == kind and sections[-1].heading == heading:
            # A list item already closed the previous paragraph; keep lists apart from text.
            sections[-1].paragraphs.append(content)
        else:
            sections.append(ParsedSection(kind, heading, [content]))

        next_is_item = index + 1 < len(blocks) and blocks[index + 1][1]
        if content.endswith((":", "：")) and not next_is_item:
            warnings.append(f"Line {line_no} introduces a list but no list items follow; kept as written: {content!r}")

    _join_list_items(sections)
    return ParsedMonograph(sections=sections, warnings=warnings, paragraph_count=paragraph_count)


def _join_list_items(sections):
    # Markdown needs consecutive list items in one block, separated from text by a blank line.
    for section in sections:
        merged = []
        for part in section.paragraphs:
            if part.startswith("- ") and merged and merged[-1].startswith("- "):
                merged[-1] += "\n" + part
            else:
                merged.append(part)
        section.paragraphs = merged
