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

from django.utils.translation import gettext

from .text_rules import describe, first_forbidden, line_and_column
from .vocabulary import SectionKind

LIST_ITEM = re.compile(r"^\s*(?:[-*•·‧]|\d{1,2}[.)])\s+(?P<text>\S.*)$")
SENTENCE_END = ("。", "！", "？", "：", ".", "!", "?", ":")
CLOSING_MARKS = "\"')]）」』”’"
OTHER_HEADING = "Additional information"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
# Scripts written without spaces between words: Han (with its extensions and
# compatibility ideographs), CJK punctuation, kana, bopomofo, full-width forms.
# Hangul is left out, because Korean puts spaces between words.
CJK_CHAR = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
BLANK_LINE_BETWEEN_TEXT = re.compile(r"\S[^\S\n]*\n[^\S\n]*\n\s*\S")

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
    SectionKind.DOSE: [
        r"\bdos(e|es|ing|age)\b",
        r"\bswallow(ed)?\b",
        r"\badminist(er|ered|ration)\b",
        r"\b(once|twice|three times) (a day|daily)\b",
        r"\bevery \d+ hours\b",
        r"\bwith or without food\b",
        r"\b(before|after) (food|meals)\b",
        r"\bmissed\b",
        r"\bdays? \d+ (to|-) \d+\b",
        r"\bmg/kg\b",
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
    SectionKind.COUNSELLING: [
        r"\bcounsel(l)?(ing|ed)?\b",
        r"\b(advise|tell|remind|explain to) (the )?(patients?|carers?)\b",
        r"\bpatients? (should|must) (be told|know|understand|carry|return|not donate)\b",
        r"\bpatient (advice|information|education)\b",
        r"\bdo not (share|donate)\b",
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
    "dose": SectionKind.DOSE,
    "dosage": SectionKind.DOSE,
    "dosage and administration": SectionKind.DOSE,
    "directions": SectionKind.DOSE,
    "counselling": SectionKind.COUNSELLING,
    "counseling": SectionKind.COUNSELLING,
    "patient counselling": SectionKind.COUNSELLING,
    "advice to patients": SectionKind.COUNSELLING,
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
    # Check the BOMs before the NUL bytes: UTF-16 and UTF-32 text is full of them.
    if raw.startswith(UTF32_BOMS):
        raise MonographTextError("The file is UTF-32; save it as UTF-8 and try again.")
    if raw.startswith(UTF16_BOMS):
        raise MonographTextError("The file is UTF-16; save it as UTF-8 and try again.")
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


def check_characters(text):
    """Refuse text holding a control character or a text-direction override (`text_rules`),
    naming it and its line, before anything is parsed: pasted PDF text brings them, and
    `splitlines` would even take a vertical tab or a form feed for a line break."""
    found = first_forbidden(text)
    if found:
        index, character = found
        raise MonographTextError(
            gettext(
                "Line %(line)s, character %(column)s: the invisible character %(character)s is not allowed "
                "(control characters and text-direction overrides are refused). Remove it and import again; "
                "nothing was imported."
            )
            % {"character": describe(character), **line_and_column(text, index)}
        )


def _is_heading(line):
    return line.rstrip(":：").strip().lower() in HEADINGS


def _join_lines(before, after):
    """Join a wrapped line to the text before it; Chinese and Japanese take no space."""
    if CJK_CHAR.match(before[-1]) or CJK_CHAR.match(after[0]):
        return before + after
    return before + " " + after


@dataclass
class Block:
    line_no: int  # the first line of the block
    last_line_no: int
    is_item: bool
    text: str


def _blocks(text):
    """Split text into paragraphs and list items, with their line numbers.

    Text with blank lines between paragraphs is read as hard-wrapped: a
    paragraph is everything up to the next blank line, list item or heading,
    its lines joined (wherever the lines happen to break, full stops
    included), and an indented line under a list item continues the item.
    Text without any blank line (like the seed) has one paragraph per line;
    only a line that stops mid-sentence (no closing punctuation) runs on into
    the next. A heading line is a block of its own either way.
    """
    wrapped = bool(BLANK_LINE_BETWEEN_TEXT.search(text))
    blocks: list[Block] = []
    current = None  # the block the next line may continue
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            current = None
            continue
        item = LIST_ITEM.match(line)
        if item:
            current = Block(line_no, line_no, True, item.group("text").strip())
            blocks.append(current)
            if not wrapped:
                current = None
            continue
        if _is_heading(line):
            blocks.append(Block(line_no, line_no, False, line))
            current = None
            continue
        continues = current is not None and (not current.is_item or raw_line[:1].isspace())
        if continues:
            current.text = _join_lines(current.text, line)
            current.last_line_no = line_no
        else:
            current = Block(line_no, line_no, False, line)
            blocks.append(current)
        if not wrapped and _ends_sentence(line):
            current = None
    return blocks


def _ends_sentence(line):
    return line.rstrip(CLOSING_MARKS).endswith(SENTENCE_END)


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
    check_characters(text)
    sections: list[ParsedSection] = []
    warnings: list[str] = []
    explicit_kind = None
    paragraph_count = 0
    blocks = _blocks(text)

    for index, block in enumerate(blocks):
        content = block.text
        if block.is_item:
            item = f"- {content}"
            if sections:
                sections[-1].paragraphs.append(item)
            else:
                sections.append(ParsedSection(SectionKind.OTHER, OTHER_HEADING, [item]))
            continue

        heading_kind = HEADINGS.get(content.rstrip(":：").strip().lower())
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

        if _promises_missing_list(blocks, index):
            # The line that ends with the colon is the one that promises the list.
            warnings.append(
                f"Line {block.last_line_no} introduces a list but no list items follow; kept as written: {content!r}"
            )

    _join_list_items(sections)
    return ParsedMonograph(sections=sections, warnings=warnings, paragraph_count=paragraph_count)


def _promises_missing_list(blocks, index):
    """Whether text block `index` ends with a colon, introducing a list, and no list item follows it."""
    block = blocks[index]
    next_is_item = index + 1 < len(blocks) and blocks[index + 1].is_item
    return not block.is_item and block.text.endswith((":", "：")) and not next_is_item


def lines_introducing_no_list(text):
    """The lines of `text` that introduce a list ("… indicated for:") with no items after them,
    as (line number, text of the paragraph): what the importer warns about, and what the
    content checks (`checks.py`) find in a section body. A heading line ("Storage:") is not one."""
    blocks = _blocks(text)
    return [
        (block.last_line_no, block.text)
        for index, block in enumerate(blocks)
        if not _is_heading(block.text) and _promises_missing_list(blocks, index)
    ]


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


# --- A Traditional Chinese text for an existing entry ------------------------
# The classifier above reads English wording; it cannot place Chinese paragraphs. A Chinese
# file is therefore matched to the entry's sections by order, and split by its structure only:
# - with heading lines, each heading starts a section: a line naming a section kind (its
#   Chinese or English title, e.g. 副作用 or Side effects, with or without a colon), or a line
#   starting with "#" (an own heading, e.g. "# 其他資料", for a section with its own heading);
# - without any, each block of text between blank lines is one section.
# A section written as a single "-" stays untranslated. Nothing is dropped: every line ends
# up in a section, and a count that does not match the entry's is refused by the service.

UNTRANSLATED_MARK = "-"
OWN_HEADING = re.compile(r"^#+\s*(?P<text>\S.*?)\s*#*$")


@dataclass
class TranslatedSection:
    line_no: int  # where the section starts in the file
    heading: str = ""  # the heading line's text ("" in a file without headings)
    kind: str | None = None  # the section kind the heading names, if it names one
    lines: list[str] = field(default_factory=list)

    @property
    def untranslated(self):
        return "\n".join(self.lines).strip() == UNTRANSLATED_MARK

    @property
    def body(self):
        """The section's text as the English is stored: paragraphs apart by a blank line,
        wrapped lines joined (without a space between Chinese characters), list items kept."""
        if self.untranslated:
            return ""
        parts = []
        for block in _blocks("\n".join(self.lines)):
            text = f"- {block.text}" if block.is_item else block.text
            if block.is_item and parts and parts[-1].startswith("- "):
                parts[-1] += "\n" + text
            else:
                parts.append(text)
        return "\n\n".join(parts)


def _heading_of(line, kind_headings):
    """(heading text, kind or None) when `line` is a heading line, else None."""
    stripped = line.strip()
    own = OWN_HEADING.match(stripped)
    if own:
        text = own.group("text").rstrip(":：").strip()
        return text, kind_headings.get(text.casefold())
    text = stripped.rstrip(":：").strip()
    kind = kind_headings.get(text.casefold())
    return (text, kind) if kind else None


def parse_translation(text, *, kind_headings):
    """Split a Chinese monograph into sections (see above). `kind_headings` maps section titles,
    casefolded, to their kinds (the Chinese and English titles of every kind)."""
    check_characters(text)
    lines = text.splitlines()
    headed = any(_heading_of(line, kind_headings) for line in lines)
    sections: list[TranslatedSection] = []
    current = None
    for line_no, line in enumerate(lines, start=1):
        heading = _heading_of(line, kind_headings) if headed else None
        if heading is not None:
            current = TranslatedSection(line_no=line_no, heading=heading[0], kind=heading[1])
            sections.append(current)
            continue
        if not line.strip():
            if not headed:
                current = None
            elif current is not None:
                current.lines.append("")
            continue
        if current is None:
            if headed:
                raise MonographTextError(
                    f"Line {line_no} comes before the first heading; put it under a heading. Nothing was imported."
                )
            current = TranslatedSection(line_no=line_no)
            sections.append(current)
        current.lines.append(line)
    return sections
