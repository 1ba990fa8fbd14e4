"""Compare two snapshots of an entry, word by word, for reviewers.

Works on the plain shape from `snapshots`, so the same code compares a
submitted revision with the live edition or any two versions in the history.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join

from .snapshots import ENTRY_FIELDS, PRODUCT_FIELDS, STRENGTH_FIELDS, choice_label, section_title, strength_text
from .vocabulary import DosageForm, FormularyStatus, LegalClass, ProductKind, Route, SaleRequirement, SectionKind, Unit

# Chinese has no spaces between words: compare it character by character.
TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\w+|\s+|[^\w\s]")


def word_diff(old, new):
    """HTML of `new` with removed words in <del> and added words in <ins>."""
    old_tokens = TOKEN.findall(str(old or ""))
    new_tokens = TOKEN.findall(str(new or ""))
    parts = []
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        removed, added = "".join(old_tokens[a1:a2]), "".join(new_tokens[b1:b2])
        if op == "equal":
            parts.append(removed)
            continue
        if removed:
            parts.append(format_html("<del>{}</del>", removed))
        if added:
            parts.append(format_html("<ins>{}</ins>", added))
    # format_html_join escapes the plain parts and keeps the <del>/<ins> markup.
    return format_html_join("", "{}", ((part,) for part in parts))


@dataclass
class Change:
    label: str
    status: str  # "added", "removed", "changed" or "same"
    fields: list = field(default_factory=list)  # (field name, html diff)
    children: list = field(default_factory=list)

    @property
    def changed(self):
        return self.status != "same"


# Coded fields are compared as the labels a pharmacist reads.
SECTION_CHOICES = {"kind": SectionKind}
PRODUCT_CHOICES = {
    "kind": ProductKind,
    "legal_classification": LegalClass,
    "sale_requirement": SaleRequirement,
    "formulary_status": FormularyStatus,
}
STRENGTH_CHOICES = {"unit": Unit, "per_unit": Unit, "dosage_form": DosageForm, "route": Route}


def _shown(value, choices):
    if choices is None or value in (None, ""):
        return value
    return choice_label(choices, value)


def _field_changes(old, new, names, choices=None):
    old, new = old or {}, new or {}
    choices = choices or {}
    return [
        (name, word_diff(_shown(old.get(name), choices.get(name)), _shown(new.get(name), choices.get(name))))
        for name in names
        if old.get(name) != new.get(name)
    ]


def _status(old, new, fields, children=()):
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "changed" if fields or any(c.changed for c in children) else "same"


def _pair(old_items, new_items, key):
    """Match items of two lists by id, then by a natural key; keep the new order."""
    old_by_id = {item["id"]: item for item in old_items}
    old_by_key = {}
    for item in old_items:
        old_by_key.setdefault(key(item), item)
    used = set()
    pairs = []
    for item in new_items:
        match = old_by_id.get(item["id"])
        if match is None or match["id"] in used:
            match = old_by_key.get(key(item))
        if match is not None and match["id"] in used:
            match = None
        if match is not None:
            used.add(match["id"])
        pairs.append((match, item))
    pairs.extend((item, None) for item in old_items if item["id"] not in used)
    return pairs


def _strength_label(s):
    return f"{strength_text(s)} {s['dosage_form'].replace('_', ' ')}"


def compare(old, new):
    """Return (entry field changes, section changes, product changes) between two snapshots."""
    old = old or {"sections": [], "products": []}
    entry_fields = _field_changes(old, new, ENTRY_FIELDS)

    sections = []
    for before, after in _pair(old["sections"], new["sections"], key=lambda s: (s["kind"], s["heading"])):
        # Kind and position decide the public heading and order, so they are edits too.
        fields = _field_changes(before, after, ["kind", "heading", "position", "body"], SECTION_CHOICES)
        sections.append(
            Change(label=section_title(after or before), status=_status(before, after, fields), fields=fields)
        )

    products = []
    for before, after in _pair(old["products"], new["products"], key=lambda p: (p["name"], p["certificate_holder"])):
        strengths = []
        for s_before, s_after in _pair(
            (before or {}).get("strengths", []), (after or {}).get("strengths", []), key=_strength_label
        ):
            s_fields = _field_changes(s_before, s_after, STRENGTH_FIELDS, STRENGTH_CHOICES)
            strengths.append(
                Change(
                    label=_strength_label(s_after or s_before),
                    status=_status(s_before, s_after, s_fields),
                    fields=s_fields,
                )
            )
        p_fields = _field_changes(before, after, PRODUCT_FIELDS, PRODUCT_CHOICES)
        products.append(
            Change(
                label=(after or before)["name"],
                status=_status(before, after, p_fields, strengths),
                fields=p_fields,
                children=strengths,
            )
        )
    return entry_fields, sections, products
