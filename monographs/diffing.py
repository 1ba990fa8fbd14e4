"""Compare two snapshots of an entry, word by word, for reviewers.

Works on the plain shape from `snapshots`, so the same code compares a
submitted revision with the live edition or any two versions in the history.
"""

import difflib
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Choices, Model
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import Entry, Product, Section, Strength
from .snapshots import (
    EDITED_STRENGTH_FIELDS,
    ENTRY_FIELDS,
    PRODUCT_FIELDS,
    Snapshot,
    boxed_warning_translation,
    choice_label,
    section_title,
    section_translation,
    strength_text,
)
from .vocabulary import DosageForm, FormularyStatus, LegalClass, ProductKind, Route, SaleRequirement, SectionKind, Unit

if TYPE_CHECKING:
    from django.utils.safestring import SafeString
    from django_stubs_ext import StrOrPromise

# (op, a1, a2, b1, b2) as difflib.SequenceMatcher.get_opcodes() gives them.
Opcode = tuple[str, int, int, int, int]

# Chinese has no spaces between words: compare it character by character.
TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\w+|\s+|[^\w\s]")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# The Chinese fields are compared character by character throughout: a run of Latin letters or
# digits inside them ("10毫克", "Revlimid") stays one token, but it never swallows the Chinese
# characters that follow it, as `\w+` above would (Han characters are word characters).
CHARACTER_TOKEN = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|[^\W\u3400-\u9fff\uf900-\ufaff]+|\s+|[^\w\s]"
)
# Fields holding Traditional Chinese text: diffed by character.
CHINESE_FIELDS = frozenset({"chinese_name", "chinese_synonyms", "boxed_warning_zh", "heading_zh", "body_zh"})
# Bookkeeping a reviewer does not read as text: which English a translation was made from, and
# when the English last changed. Their effect is shown as the translation's status instead.
NOT_DIFFED = frozenset({"boxed_warning_zh_source", "zh_source", "english_updated_at"})
SECTION_DIFF_FIELDS = ["kind", "heading", "position", "body", "heading_zh", "body_zh"]

# difflib.SequenceMatcher looks at every earlier occurrence of each element, so
# on long texts the frequent tokens (spaces, "the", commas) make it quadratic:
# 50 s for two 10,000-word sections, past the server's 30 s timeout.
# Its own remedy, autojunk, stops elements making up over 1 % of a long sequence
# from starting a match, but they stay in the sequence and cut every run of
# matching words into single words, so it aligns on whichever common word it
# meets first: on the benchmark text it still took 10 s and marked three
# quarters of the text as changed, against 2 % really changed. Here instead:
# - the text is compared from the coarse to the fine: lines, then sentences of
#   the lines that changed, then words of the sentences that changed;
# - a long sequence is first aligned on its rarer elements only (the same 1 %
#   rule), taken out of the sequence so that their runs stay contiguous and
#   difflib's longest matches are real ones; the stretches between two aligned
#   elements are then compared in full, recursively, after a common beginning
#   and end are set aside;
# - below 200 elements difflib runs exactly as it always did, so a changed
#   sentence or field is marked as before.
# Two 10,000-word sections now diff in about 30 ms, marking the same changes as the
# quadratic version on the benchmark texts (docs/benchmarks.md). difflib is kept,
# rather than a library, because its longest-match output reads well, it is in
# the standard library, and the tests pin that output.
EXACT_BELOW = 200  # difflib's own autojunk threshold
SENTENCE_END = frozenset(".!?;:。！？；")
MAX_DEPTH = 16  # recursion never gets near this on real text; see _refined


def _ends_line(tokens: Sequence[str], i: int) -> bool:
    return "\n" in tokens[i]


def _ends_sentence(tokens: Sequence[str], i: int) -> bool:
    # After "x. " (a stop and a space) or a Chinese full stop, which has no space.
    token = tokens[i]
    if token in SENTENCE_END and CJK.match(token):
        return True
    return i > 0 and token.isspace() and tokens[i - 1] in SENTENCE_END


LEVELS = (_ends_line, _ends_sentence)


def _units(
    tokens: Sequence[str], lo: int, hi: int, ends_unit: Callable[[Sequence[str], int], bool]
) -> tuple[list[str], list[int]]:
    """Split tokens[lo:hi] into units (lines or sentences): their texts and token boundaries."""
    keys: list[str]
    keys, bounds, start = [], [lo], lo
    for i in range(lo, hi):
        if ends_unit(tokens, i):
            keys.append("".join(tokens[start : i + 1]))
            start = i + 1
            bounds.append(start)
    if start < hi:
        keys.append("".join(tokens[start:hi]))
        bounds.append(hi)
    return keys, bounds


def _opcodes(
    old: list[str], new: list[str], a_lo: int, a_hi: int, b_lo: int, b_hi: int, level: int = 0
) -> Iterator[Opcode]:
    """Yield (op, a1, a2, b1, b2) turning old[a_lo:a_hi] into new[b_lo:b_hi], as token indexes."""
    a_bounds: Sequence[int]
    b_bounds: Sequence[int]
    if a_hi - a_lo < EXACT_BELOW and b_hi - b_lo < EXACT_BELOW:
        level = len(LEVELS)  # short: compare the words exactly, as difflib always did
    if level < len(LEVELS):
        a_keys, a_bounds = _units(old, a_lo, a_hi, LEVELS[level])
        b_keys, b_bounds = _units(new, b_lo, b_hi, LEVELS[level])
        if len(a_keys) <= 1 and len(b_keys) <= 1:
            # One unit on each side: nothing to match at this level, go finer.
            yield from _opcodes(old, new, a_lo, a_hi, b_lo, b_hi, level + 1)
            return
    else:
        a_keys, a_bounds = old[a_lo:a_hi], range(a_lo, a_hi + 1)
        b_keys, b_bounds = new[b_lo:b_hi], range(b_lo, b_hi + 1)
    for op, a1, a2, b1, b2 in _refined(a_keys, b_keys):
        span = a_bounds[a1], a_bounds[a2], b_bounds[b1], b_bounds[b2]
        if op == "replace" and level < len(LEVELS):
            yield from _opcodes(old, new, *span, level + 1)
        else:
            yield (op, *span)


def _refined(a: Sequence[Hashable], b: Sequence[Hashable], depth: int = 0) -> Iterator[Opcode]:
    """difflib's opcodes over two sequences (of units or tokens), in near-linear time.

    Short sequences are compared exactly, as difflib always did. Long ones are
    first aligned on their rarer elements only (each at most 1 % of either side,
    so difflib's inner loop stays short, and runs of them stay contiguous, so its
    longest matches are real ones); the stretches between two aligned elements
    are then compared in full, recursively.
    """
    if len(a) < EXACT_BELOW and len(b) < EXACT_BELOW:
        yield from difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
        return
    # A common beginning and end are equal whatever lies between (a single edit
    # in a long section, or in a section of many identical lines).
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    if head or tail:
        if head:
            yield "equal", 0, head, 0, head
        a_end, b_end = len(a) - tail, len(b) - tail
        if head < a_end and head < b_end:
            for op, a1, a2, b1, b2 in _refined(a[head:a_end], b[head:b_end], depth + 1):
                yield op, head + a1, head + a2, head + b1, head + b2
        elif head < a_end:
            yield "delete", head, a_end, head, head
        elif head < b_end:
            yield "insert", head, head, head, b_end
        if tail:
            yield "equal", a_end, len(a), b_end, len(b)
        return
    if depth >= MAX_DEPTH:
        yield "replace", 0, len(a), 0, len(b)  # only reached by contrived input
        return
    count_a, count_b = Counter(a), Counter(b)
    most_a, most_b = len(a) // 100 + 1, len(b) // 100 + 1

    def anchor(x: Hashable) -> bool:
        return 0 < count_a[x] <= most_a and 0 < count_b[x] <= most_b

    rare_a = [i for i, x in enumerate(a) if anchor(x)]
    rare_b = [j for j, x in enumerate(b) if anchor(x)]
    if len(rare_a) == len(a) and len(rare_b) == len(b):
        # Nothing is frequent, so difflib's inner loop is short anyway.
        yield from difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
        return
    anchors: list[tuple[int, int]] = []
    for op, a1, a2, b1, b2 in _refined([a[i] for i in rare_a], [b[j] for j in rare_b], depth + 1):
        if op == "equal":
            anchors.extend(zip(rare_a[a1:a2], rare_b[b1:b2], strict=True))
    if not anchors:
        # Nothing rarer in common: unrelated texts (or one word repeated), shown as replaced.
        yield "replace", 0, len(a), 0, len(b)
        return
    i = j = 0
    for anchor_i, anchor_j in [*anchors, (len(a), len(b))]:
        if i < anchor_i and j < anchor_j:
            for op, a1, a2, b1, b2 in _refined(a[i:anchor_i], b[j:anchor_j], depth + 1):
                yield op, i + a1, i + a2, j + b1, j + b2
        elif i < anchor_i:
            yield "delete", i, anchor_i, j, j
        elif j < anchor_j:
            yield "insert", i, i, j, anchor_j
        if anchor_i < len(a):
            yield "equal", anchor_i, anchor_i + 1, anchor_j, anchor_j + 1
        i, j = anchor_i + 1, anchor_j + 1


def _run_together(removed: str, added: str) -> bool:
    # "<del>21</del><ins>7</ins> capsules" reads as "217 capsules" in the page's
    # text: keep a space between two words. Chinese has none.
    last, first = removed[-1], added[0]
    return not (last.isspace() or first.isspace() or (CJK.match(last) and CJK.match(first)))


def _runs(old: object, new: object, by_character: bool = False) -> Iterator[tuple[str, str, str]]:
    """The words of `old` and `new` as runs: ("equal", text, text) or ("change", removed, added);
    with `by_character`, Chinese characters one by one (see CHARACTER_TOKEN)."""
    tokens = CHARACTER_TOKEN if by_character else TOKEN
    old_tokens = tokens.findall(str(old or ""))
    new_tokens = tokens.findall(str(new or ""))
    removed: list[str]
    added: list[str]
    removed, added = [], []
    for op, a1, a2, b1, b2 in _opcodes(old_tokens, new_tokens, 0, len(old_tokens), 0, len(new_tokens)):
        if op == "equal":
            # Neighbouring changes from different levels are shown as one change.
            if removed or added:
                yield "change", "".join(removed), "".join(added)
                removed, added = [], []
            text = "".join(old_tokens[a1:a2])
            yield "equal", text, text
        else:
            removed.extend(old_tokens[a1:a2])
            added.extend(new_tokens[b1:b2])
    if removed or added:
        yield "change", "".join(removed), "".join(added)


def _joined(parts: Iterable[str]) -> "SafeString":
    # format_html_join escapes the plain parts and keeps the <del>/<ins> markup.
    return format_html_join("", "{}", ((part,) for part in parts))


def word_diff(old: object, new: object, by_character: bool = False) -> "SafeString":
    """HTML of `new` with removed words in <del> and added words in <ins>."""
    parts: list[str] = []
    for op, removed, added in _runs(old, new, by_character):
        if op == "equal":
            parts.append(removed)
            continue
        if removed:
            parts.append(format_html("<del>{}</del>", removed))
        if removed and added and _run_together(removed, added):
            parts.append(" ")
        if added:
            parts.append(format_html("<ins>{}</ins>", added))
    return _joined(parts)


def word_diff_sides(old: object, new: object, by_character: bool = False) -> tuple["SafeString", "SafeString"]:
    """(HTML of `old` with removed words in <del>, HTML of `new` with added words in <ins>):
    the two values side by side, each reading as itself in the page's text."""
    before: list[str]
    after: list[str]
    before, after = [], []
    for op, removed, added in _runs(old, new, by_character):
        if op == "equal":
            before.append(removed)
            after.append(added)
            continue
        if removed:
            before.append(format_html("<del>{}</del>", removed))
        if added:
            after.append(format_html("<ins>{}</ins>", added))
    return _joined(before), _joined(after)


class FieldChange(tuple[str, "SafeString"]):
    """One changed field: unpacks as (name, inline HTML diff), as it always did, and carries the
    field's `label` in the reader's language and the two values side by side (`before`, `after`)."""

    name: str
    by_character: bool
    model: type[Model] | None
    _values: tuple[object, object]
    _sides: tuple["SafeString", "SafeString"] | None

    def __new__(cls, name: str, old: object, new: object, model: type[Model] | None = None) -> "FieldChange":
        by_character = name in CHINESE_FIELDS
        self = super().__new__(cls, (name, word_diff(old, new, by_character)))
        self.name = name
        self.by_character = by_character
        self.model = model
        self._values = (old, new)
        self._sides = None
        return self

    def _side(self, index: int) -> "SafeString":
        # Worked out when a screen shows the two sides, not for every comparison.
        if self._sides is None:
            self._sides = word_diff_sides(*self._values, self.by_character)
        return self._sides[index]

    @property
    def before(self) -> "SafeString":
        return self._side(0)

    @property
    def after(self) -> "SafeString":
        return self._side(1)

    @property
    def label(self) -> "StrOrPromise":
        if self.name in EXTRA_LABELS:
            return EXTRA_LABELS[self.name]
        if self.model is None:
            return self.name.replace("_", " ")
        try:
            # The names diffed are concrete fields, which have a verbose name.
            return capfirst(self.model._meta.get_field(self.name).verbose_name)  # type: ignore[union-attr]
        except FieldDoesNotExist:
            return self.name.replace("_", " ")


# Changes shown that are not fields of a model.
EXTRA_LABELS = {"chinese_translation": _("Chinese translation")}

STATUS_LABELS = {
    "added": _("added"),
    "removed": _("removed"),
    "changed": _("changed"),
    "same": _("unchanged"),
}


@dataclass
class Change:
    label: str
    status: str  # "added", "removed", "changed" or "same"
    # FieldChange: (field name, html diff) with label, before and after; plain (label, html diff)
    # pairs once `selectors.public_comparison` has labelled them.
    fields: Sequence[tuple[str, "SafeString"]] = field(default_factory=list)
    children: list["Change"] = field(default_factory=list)
    text: str = ""  # a section's body as it stands, shown when it did not change
    # Where the translation's status changed: both texts, before and after.
    translation_texts: "TranslationTexts | None" = None

    @property
    def changed(self) -> bool:
        return self.status != "same"

    @property
    def status_label(self) -> "StrOrPromise":
        return STATUS_LABELS[self.status]


# Coded fields are compared as the labels a pharmacist reads.
SECTION_CHOICES: dict[str, type[Choices]] = {"kind": SectionKind}
PRODUCT_CHOICES: dict[str, type[Choices]] = {
    "kind": ProductKind,
    "legal_classification": LegalClass,
    "sale_requirement": SaleRequirement,
    "formulary_status": FormularyStatus,
}
STRENGTH_CHOICES: dict[str, type[Choices]] = {"unit": Unit, "per_unit": Unit, "dosage_form": DosageForm, "route": Route}


def _shown(value: Any, choices: type[Choices] | None) -> Any:
    if choices is None or value in (None, ""):
        return value
    return choice_label(choices, value)


def _field_changes(
    old: Snapshot | None,
    new: Snapshot | None,
    names: Iterable[str],
    choices: Mapping[str, type[Choices]] | None = None,
    model: type[Model] | None = None,
) -> list[FieldChange]:
    old, new = old or {}, new or {}
    choices = choices or {}
    return [
        FieldChange(
            name, _shown(old.get(name), choices.get(name)), _shown(new.get(name), choices.get(name)), model=model
        )
        for name in names
        if name not in NOT_DIFFED and _value(old, name) != _value(new, name)
    ]


def _value(snapshot: Snapshot, name: str) -> Any:
    # A snapshot made before the Chinese fields existed has no key: the same as empty.
    value = snapshot.get(name)
    return (value or "") if name in CHINESE_FIELDS else value


def _translation_change(
    old: Snapshot | None, new: Snapshot | None, status_of: Callable[[Snapshot], Any]
) -> list[FieldChange]:
    """The change of a translation's status (e.g. outdated → up to date once checked), which no
    text field shows: one extra row, or none. Not for a part added or removed (old or new is
    None), nor where either side has nothing to translate (a boxed warning without English)."""
    if not old or not new:
        return []
    before, after = status_of(old), status_of(new)
    if before is None or after is None or before == after:
        return []
    return [FieldChange("chinese_translation", before.label, after.label)]


@dataclass
class TranslationTexts:
    """The English and the Chinese of one translated text, before and after: what a reviewer reads
    to judge a change of its status ("outdated → up to date" alone says nothing of the text)."""

    english_before: str
    english_after: str
    chinese_before: str
    chinese_after: str


def _text_of(snapshot: Snapshot, *names: str) -> str:
    return "\n\n".join(v for v in ((snapshot.get(name) or "").strip() for name in names) if v)


def translation_texts(
    old: Snapshot | None,
    new: Snapshot | None,
    fields: Iterable[FieldChange],
    english: tuple[str, ...] = ("heading", "body"),
    chinese: tuple[str, ...] = ("heading_zh", "body_zh"),
) -> TranslationTexts | None:
    """Both texts, before and after, when `fields` hold a change of the translation's status, or
    a change of either text of a part that has Chinese: a Chinese text vouched for against new
    English (checked, or edited) is judged by reading both, whatever its status was before."""
    if not old or not new:
        return None
    changed = {change.name for change in fields}
    has_chinese = any((new.get(name) or "").strip() for name in chinese)
    if "chinese_translation" not in changed and not (has_chinese and changed & {*english, *chinese}):
        return None
    return TranslationTexts(
        _text_of(old, *english), _text_of(new, *english), _text_of(old, *chinese), _text_of(new, *chinese)
    )


def _status(
    old: Snapshot | None, new: Snapshot | None, fields: Sequence[FieldChange], children: Iterable[Change] = ()
) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "changed" if fields or any(c.changed for c in children) else "same"


def _pair(
    old_items: Sequence[Snapshot], new_items: Sequence[Snapshot], key: Callable[[Snapshot], Hashable]
) -> list[tuple[Any, Any]]:
    """Match items of two lists by id, then by a natural key; keep the new order. Each pair is
    (old, new) snapshots with None on one side (added or removed), never on both."""
    old_by_id = {item["id"]: item for item in old_items}
    old_by_key: dict[Hashable, Snapshot] = {}
    for item in old_items:
        old_by_key.setdefault(key(item), item)
    used = set()
    pairs: list[tuple[Snapshot | None, Snapshot | None]] = []
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


def _strength_label(s: Snapshot) -> str:
    return f"{strength_text(s)} {s['dosage_form'].replace('_', ' ')}"


def compare(old: Snapshot | None, new: Snapshot) -> tuple[list[FieldChange], list[Change], list[Change]]:
    """Return (entry field changes, section changes, product changes) between two snapshots."""
    old = old or {"sections": [], "products": []}
    entry_fields = _field_changes(old, new, ENTRY_FIELDS, model=Entry)
    entry_fields += _translation_change(old, new, boxed_warning_translation)

    sections = []
    for before, after in _pair(old["sections"], new["sections"], key=lambda s: (s["kind"], s["heading"])):
        # Kind and position decide the public heading and order, so they are edits too.
        fields = _field_changes(before, after, SECTION_DIFF_FIELDS, SECTION_CHOICES, Section)
        fields += _translation_change(before, after, section_translation)
        sections.append(
            Change(
                label=section_title(after or before),
                status=_status(before, after, fields),
                fields=fields,
                text=(after or before).get("body") or "",
                translation_texts=translation_texts(before, after, fields),
            )
        )

    products = []
    for before, after in _pair(old["products"], new["products"], key=lambda p: (p["name"], p["certificate_holder"])):
        strengths = []
        for s_before, s_after in _pair(
            (before or {}).get("strengths", []), (after or {}).get("strengths", []), key=_strength_label
        ):
            s_fields = _field_changes(s_before, s_after, EDITED_STRENGTH_FIELDS, STRENGTH_CHOICES, Strength)
            strengths.append(
                Change(
                    label=_strength_label(s_after or s_before),
                    status=_status(s_before, s_after, s_fields),
                    fields=s_fields,
                )
            )
        p_fields = _field_changes(before, after, PRODUCT_FIELDS, PRODUCT_CHOICES, Product)
        products.append(
            Change(
                label=(after or before)["name"],
                status=_status(before, after, p_fields, strengths),
                fields=p_fields,
                children=strengths,
            )
        )
    return entry_fields, sections, products


@dataclass
class ChangeSummary:
    """What changed between two snapshots, as the labels a pharmacist reads: a one-line summary
    for the public list of earlier editions. Labels are in the active language."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def _entry_field_label(change: FieldChange) -> str:
    if change.name in EXTRA_LABELS:
        return str(EXTRA_LABELS[change.name])
    return str(Entry._meta.get_field(change.name).verbose_name)  # type: ignore[union-attr]


def change_summary(old: Snapshot | None, new: Snapshot) -> ChangeSummary:
    """The parts of the entry that `new` adds, changes or removes compared with `old`: entry fields
    by their field names, sections by their titles, products by name and strengths as
    "product strength". A product whose own fields are unchanged is named by its changed strengths."""
    entry_fields, sections, products = compare(old, new)
    summary = ChangeSummary(changed=[_entry_field_label(change) for change in entry_fields])
    buckets = {"added": summary.added, "changed": summary.changed, "removed": summary.removed}
    for change in sections:
        if change.changed:
            buckets[change.status].append(change.label)
    for product in products:
        if not product.changed:
            continue
        if product.status != "changed" or product.fields:
            buckets[product.status].append(product.label)
            continue
        for strength in product.children:
            if strength.changed:
                buckets[strength.status].append(f"{product.label} {strength.label}")
    return summary
