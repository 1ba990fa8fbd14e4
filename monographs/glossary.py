"""The formulary's pharmacy terms in Traditional Chinese: one word for each idea.

No database. Read by the templates (pack measure words, `{% term %}`), the demo's Chinese
text (`demo.py`) and the content check "chinese_terms" (`checks.py`), which flags a
variant this glossary rejects in any Chinese text of an entry, so the pages, the
interface's own words (`locale/zh_Hant`) and the monographs say the same thing. Where each
choice comes from is in the README's design notes ("Chinese terms").
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    # Spellings to flag, as regular expressions over Chinese text.
    rejected: tuple = ()
    # The English word(s) (a regular expression, case-insensitive) that must appear in the
    # entry's English for a rejected spelling to be wrong there: 亞胺 is right for an imine.
    only_when_english: str = ""
    why: object = ""
    sources: tuple = field(default=())


DRUG_OFFICE = "Department of Health Drug Office, Search Drug Database (Chinese product and ingredient names)"
HA = "Hospital Authority, Chinese drug information leaflets and the HA Drug Formulary's Chinese pages"
INTERFACE = "this formulary's own interface (locale/zh_Hant), already in use"

TERMS = (
    Term(
        english="imide",
        chinese="醯亞胺",
        # 亞胺 on its own is an imine (C=N); an imide is an acylated amine, 醯亞胺.
        rejected=(r"(?<!醯)亞胺",),
        only_when_english=r"\bimides?\b",
        why=_("「亞胺」 is an imine; an imide is 「醯亞胺」."),
        sources=(DRUG_OFFICE, INTERFACE),
    ),
    Term(
        english="pregnancy prevention programme",
        chinese="預防懷孕計劃",
        rejected=(r"懷孕預防計[劃畫]", r"預防懷孕計畫"),
        why=_("The formulary writes 「預防懷孕計劃」 (Hong Kong spelling 計劃)."),
        sources=(HA, INTERFACE),
    ),
    Term(
        english="strength",
        chinese="含量",
        # 強度 is "intensity" (of exercise, of light): the amount of a medicine in a unit is 含量.
        rejected=(r"(?:不同|各種|各|每種|每個|此|這個|相同|同一)強度", r"強度(?:不同|的膠囊|的藥片|的片劑)"),
        why=_("The amount of medicine in a capsule or tablet is its 「含量」, as the interface says, not 「強度」."),
        sources=(DRUG_OFFICE, INTERFACE),
    ),
    Term(
        english="generic (medicine)",
        chinese="非專利藥",
        rejected=(r"仿製藥", r"仿制藥"),
        why=_("The formulary writes 「非專利藥」 for a generic medicine, as the interface does."),
        sources=(HA, INTERFACE),
    ),
)

BY_ENGLISH = {term.english: term for term in TERMS}

# How a pack is counted on a Hong Kong dispensing label: 21 粒 (capsules and tablets alike),
# 5 支 (ampoules, syringes, pens, tubes, inhalers), 10 包 (sachets), 4 塊 (patches).
PACK_MEASURE_WORDS = {
    "capsule": "粒",
    "tablet": "粒",
    "suppository": "粒",
    "sachet": "包",
    "vial": "瓶",
    "ampoule": "支",
    "syringe": "支",
    "pen": "支",
    "bottle": "瓶",
    "tube": "支",
    "inhaler": "支",
    "patch": "塊",
    "dose": "劑",
}


def term(english):
    """The Chinese word for `english` (a key of BY_ENGLISH)."""
    return BY_ENGLISH[english].chinese


def pack_measure_word(unit):
    return PACK_MEASURE_WORDS.get(unit, unit)


@dataclass(frozen=True)
class Misuse:
    term: Term
    found: str
    where: str


def _quoted(text, match):
    return text[match.start() - 1 : match.start()] == "「" and text[match.end() : match.end() + 1] == "」"


def misuses(texts, english=""):
    """Every rejected spelling in `texts` [(where, Chinese text)], given the entry's English
    (`english`, for terms that are wrong only in some entries), in text order."""
    found = []
    for where, text in texts:
        for item in TERMS:
            if item.only_when_english and not re.search(item.only_when_english, english, re.IGNORECASE):
                continue
            for pattern in item.rejected:
                for match in re.finditer(pattern, text or ""):
                    if _quoted(text, match):
                        continue  # 「亞胺」 names the word (as this glossary's own notes do); it is not a use
                    found.append(Misuse(term=item, found=match.group(0), where=where))
    return found
