"""Pack sizes: "21 capsules" read as a count and a unit, and written back in either language.

No database. `parse_pack` is what `Strength.clean` stores (pack_count, pack_unit) from the
pack text an editor types or a file carries; text it cannot read ("5 x 1 mL ampoules",
"blister of 14") stays text only and is shown as typed, marked as English on a Chinese page.
Migration 0021 holds a frozen copy of this reading for the packs stored before.
"""

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import get_language

from .vocabulary import PackUnit

# The words a pack is written with, singular and plural, to the unit they count. Adjectives a
# label adds ("hard", "film-coated") say nothing the dosage form does not already say.
_UNIT_WORDS = {
    PackUnit.CAPSULE: ("capsule", "capsules", "caps", "cap"),
    PackUnit.TABLET: ("tablet", "tablets", "tabs", "tab"),
    PackUnit.SACHET: ("sachet", "sachets"),
    PackUnit.VIAL: ("vial", "vials"),
    PackUnit.AMPOULE: ("ampoule", "ampoules", "ampule", "ampules", "amp", "amps"),
    PackUnit.SYRINGE: ("pre-filled syringe", "pre-filled syringes", "prefilled syringe", "prefilled syringes"),
    PackUnit.PEN: ("pen", "pens", "pre-filled pen", "pre-filled pens"),
    PackUnit.BOTTLE: ("bottle", "bottles"),
    PackUnit.TUBE: ("tube", "tubes"),
    PackUnit.INHALER: ("inhaler", "inhalers"),
    PackUnit.PATCH: ("patch", "patches"),
    PackUnit.SUPPOSITORY: ("suppository", "suppositories"),
    PackUnit.DOSE: ("dose", "doses"),
}
_ADJECTIVES = (
    r"(?:(?:hard|soft|gelatin|film[- ]coated|coated|dispersible|effervescent|chewable|oral|single[- ]dose)\s+)*"
)
_WORD_TO_UNIT = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_PACK = re.compile(
    r"(?:1\s*[x×]\s*)?(?P<count>[0-9]{1,5})\s*[x×]?\s*"
    + _ADJECTIVES
    + r"(?P<word>"
    + "|".join(sorted((re.escape(w) for w in _WORD_TO_UNIT), key=len, reverse=True))
    + r")\.?",
    re.IGNORECASE,
)
# The largest count a pack may have (a tub of 10,000 tablets is a hospital pack; more is a typo).
MAX_COUNT = 99_999


@dataclass(frozen=True)
class Pack:
    count: int
    unit: str


def parse_pack(text):
    """The Pack `text` describes ("21 capsules", "28 film-coated tablets", "1 x 30 tablets"),
    or None when it is not one count of one unit."""
    match = _PACK.fullmatch(" ".join((text or "").split()))
    if match is None:
        return None
    count = int(match.group("count"))
    if not 0 < count <= MAX_COUNT:
        return None
    return Pack(count=count, unit=str(_WORD_TO_UNIT[match.group("word").lower()]))


def english_pack(count, unit):
    """'21 capsules', '1 vial': how the API and the English pages write a pack."""
    with translation.override("en"):
        label = str(PackUnit(unit).label) if unit in PackUnit.values else unit
    if count == 1:
        return f"1 {label}"
    plural = {"patch": "patches", "suppository": "suppositories"}.get(unit)
    return f"{count} {plural or label + 's'}"


def pack_label(strength, language=None):
    """A snapshot strength's pack in `language` (default: the active one): '21 capsules' or
    '21 粒', or its text as typed when it was not read as a count and unit, or ''."""
    from .glossary import pack_measure_word

    count, unit = strength.get("pack_count"), strength.get("pack_unit")
    if not (count and unit):
        return strength.get("pack_size") or ""
    language = language or get_language() or "en"
    if language.lower().startswith("zh"):
        return f"{count} {pack_measure_word(unit)}"
    return english_pack(count, unit)


def pack_is_english_text(strength, language=None):
    """Whether `pack_label` shows the typed text (English) rather than a structured pack."""
    return not (strength.get("pack_count") and strength.get("pack_unit")) and bool(strength.get("pack_size"))
