"""Characters no formulary text may hold: the one definition, for input and for output.

Pasted PDF text brings invisible control characters (a vertical tab, `\\x0b`, where the PDF
had a line break), and a terminal or a hostile paste can bring BEL, ESC or C1 controls; the
bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text display in
an order other than the one stored (a drug name shown reversed). None of them belongs in a
monograph, and XML 1.0 cannot carry the C0 ones at all (the Atom feed failed on one).

- **Refused on input** (`validate_text`): a field validator on every free-text field of
  Entry, Section, Product and Strength, the same rule as a CHECK constraint in PostgreSQL
  (`FORBIDDEN_PATTERN`; migration 0018 repeats it, as migrations freeze what they use), and
  checked by the importers (`importing`, `transfer`) with the line or field named.
- **Removed on output** (`strip_controls`): published editions are immutable and one may
  predate the rule, so what the public sees (pages, the feed, the API and FHIR) goes
  through it: on loading an `Edition`, in `rendering`, the feed and the search fragments.

Tab, line feed and carriage return are ordinary text. The variation selectors
(U+FE00–U+FE0F and U+E0100–U+E01EF) are kept: Hong Kong names (HKSCS characters in the
Ideographic Variation Database) use them to choose a glyph, so they are part of a name.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# One regular expression both Python and PostgreSQL read the same way: a character class of
# two-digit \x and four-digit \u escapes. NUL (\x00) is refused by Python alone: PostgreSQL
# text cannot hold it in the first place, and forms refuse it with their own message.
FORBIDDEN_PATTERN = r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_FORBIDDEN = re.compile(FORBIDDEN_PATTERN.replace("[", "[\\x00", 1))

# Names of the characters Python's unicodedata leaves unnamed (the controls), for messages.
_CONTROL_NAMES = {
    0x00: "NULL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}

# What the database's CHECK constraints say (they cannot name the character).
NO_CONTROL_CHARACTERS_MESSAGE = _("Control characters and text-direction overrides are not allowed in the text.")
FORBIDDEN_CHARACTER_MESSAGE = _(
    "Remove the invisible character %(character)s (line %(line)s, character %(column)s): control characters and "
    "text-direction overrides are not allowed. Text pasted from a PDF or another program often brings them; "
    "retype the text around that place."
)


def first_forbidden(text):
    """(index, character) of the first forbidden character in `text`, or None."""
    found = _FORBIDDEN.search(text or "")
    return (found.start(), found.group()) if found else None


def line_and_column(text, index):
    """{"line": …, "column": …} of `text[index]`, counted from 1 (lines end at a line feed)."""
    line_start = text.rfind("\n", 0, index) + 1
    return {"line": text.count("\n", 0, index) + 1, "column": index - line_start + 1}


def describe(character):
    """'U+000B (LINE TABULATION)': how messages name a character (it cannot be shown)."""
    code = ord(character)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(character, "")
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


class _TextValidator(RegexValidator):
    """The field validator: refuse text holding a forbidden character, naming it and where.

    Frozen in migrations as the plain RegexValidator it is (`deconstruct`), so a migration
    never imports this module; only the message here names the character and its place."""

    def __init__(self):
        super().__init__(
            _FORBIDDEN.pattern, NO_CONTROL_CHARACTERS_MESSAGE, code="forbidden_character", inverse_match=True
        )

    def __call__(self, value):
        found = first_forbidden(value) if isinstance(value, str) else None
        if found:
            index, character = found
            raise ValidationError(
                FORBIDDEN_CHARACTER_MESSAGE,
                code=self.code,
                params={"character": describe(character), **line_and_column(value, index)},
            )

    def deconstruct(self):
        return (
            "django.core.validators.RegexValidator",
            (self.regex.pattern,),
            {"message": self.message, "code": self.code, "inverse_match": True},
        )


validate_text = _TextValidator()


# --- Ids in addresses ---

MAX_ID = 2**63 - 1  # the largest id the database can hold


def as_id(text):
    """A database id written in ASCII digits, or None. `str.isdigit()` and `int()` also take
    full-width digits, "²" and "①" (int() then fails on the last two, a 500), and a 30-digit
    number is beyond what PostgreSQL can compare: neither may reach a query."""
    text = str(text or "")
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    return None


def strip_controls(value):
    """`value` without forbidden characters: a string, or the strings inside lists and dicts
    (a snapshot), rebuilt only where something changes."""
    if isinstance(value, str):
        return _FORBIDDEN.sub("", value) if _FORBIDDEN.search(value) else value
    if isinstance(value, dict):
        return {key: strip_controls(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(strip_controls(item) for item in value)
    return value
