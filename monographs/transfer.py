"""Bulk export and import of working copies, to move content between installations
(for example from a test installation to the live one).

The file is one JSON document:

    {
      "format": "hk-formulary-export",
      "format_version": 1,
      "checksum": {"algorithm": "sha256", "value": "<hex>"},
      "payload": {"exported_at": "...", "entries": [ {entry fields, "sections": [...], "products": [
          {product fields, "strengths": [...]}]} ]}
    }

The checksum is the SHA-256 of the canonical JSON of `payload` (keys sorted,
no spaces, UTF-8), so a truncated, corrupted or hand-edited file is refused.
It detects accidents and casual edits, not a forger who recomputes it.

Import writes working copies only, entry by entry, each in one django-reversion
revision with the reason "imported from <file name>"; the workflow's revision
receiver then marks a changed entry as a draft, so nothing is published without
review. The whole import is one transaction: any error changes nothing.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from . import services, working_copy
from .models import strength_identity
from .snapshots import EDITED_STRENGTH_FIELDS, ENTRY_FIELDS, PRODUCT_FIELDS, SECTION_FIELDS
from .text_rules import describe, first_forbidden, line_and_column

FORMAT = "hk-formulary-export"
# Version 2 added the entry's Chinese name and safety flags; version 3 the Traditional Chinese
# content with what each translation was made from (its `*_source` fingerprint and
# the date the English last changed), so a translation that was stale stays stale when moved.
# Older files still import, with the later fields empty (what an entry had before they existed).
# Version 4 added the Chinese name of the entry's drug class ("drug_class" stays its English
# name, the key by which an import finds or makes the class).
FORMAT_VERSION = 4
READABLE_VERSIONS = {1, 2, 3, 4}
ADDED_IN_VERSION_4 = {"drug_class_zh": ""}
ADDED_IN_VERSION_3 = {"chinese_synonyms": "", "boxed_warning_zh": "", "boxed_warning_zh_source": ""}
SECTION_ADDED_IN_VERSION_3 = {"heading_zh": "", "body_zh": "", "zh_source": "", "english_updated_at": None}
PRODUCT_ADDED_IN_VERSION_3 = {"chinese_name": ""}
ADDED_IN_VERSION_2 = {
    "chinese_name": "",
    "pregnancy_warning": False,
    "pregnancy_prevention_programme": False,
    "high_alert": False,
    "cytotoxic": False,
    "boxed_warning": "",
}

EXPORT_ENTRY_FIELDS = [*ENTRY_FIELDS, "drug_class_zh", "notes"]
# A pack's count and unit are read from its text on import (`Strength.clean`), so only the text moves.
TRANSFER_STRENGTH_FIELDS = EDITED_STRENGTH_FIELDS
DECIMAL_FIELDS = {"amount", "per_amount"}
NULLABLE_FIELDS = {"per_amount", "english_updated_at"}
DATETIME_FIELDS = {"english_updated_at"}
INTEGER_FIELDS = {"position"}
BOOLEAN_FIELDS = {"pregnancy_warning", "pregnancy_prevention_programme", "high_alert", "cytotoxic"}


class TransferError(Exception):
    """The file cannot be imported; the message says where and why."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _decimal_text(value):
    return None if value is None else format(Decimal(value).normalize(), "f")


def _datetime_text(value):
    return None if value is None else value.isoformat()


def _strength_sort_key(strength):
    per = strength["per_amount"]
    return (
        strength["dosage_form"],
        Decimal(strength["amount"]),
        strength["unit"],
        Decimal(per or 0),
        strength["per_unit"],
    )


def _product_sort_key(product):
    return (product["name"], product["certificate_holder"])


# Export.


def entry_data(entry):
    """The working copy of one entry, in the export shape (comparable with a parsed import)."""
    data = {name: getattr(entry, name) for name in EXPORT_ENTRY_FIELDS if not name.startswith("drug_class")}
    data["drug_class"] = entry.drug_class.name if entry.drug_class else ""
    data["drug_class_zh"] = entry.drug_class.name_zh if entry.drug_class else ""
    data["sections"] = [
        {
            name: _datetime_text(getattr(s, name)) if name in DATETIME_FIELDS else getattr(s, name)
            for name in SECTION_FIELDS
        }
        for s in entry.sections.all()
    ]
    products = []
    for product in entry.products.all():
        strengths = []
        for strength in product.strengths.all():
            item = {name: getattr(strength, name) for name in TRANSFER_STRENGTH_FIELDS}
            item.update(amount=_decimal_text(item["amount"]), per_amount=_decimal_text(item["per_amount"]))
            strengths.append(item)
        strengths.sort(key=_strength_sort_key)
        products.append({**{name: getattr(product, name) for name in PRODUCT_FIELDS}, "strengths": strengths})
    products.sort(key=_product_sort_key)
    data["products"] = products
    return data


def canonical_json(payload):
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def checksum(payload):
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def export_document():
    entries = working_copy.entries_with_content()
    payload = {"exported_at": timezone.now().isoformat(), "entries": [entry_data(e) for e in entries]}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "checksum": {"algorithm": "sha256", "value": checksum(payload)},
        "payload": payload,
    }


def dump(document):
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


# Reading and checking a file.


def _object(value, where, fields):
    if not isinstance(value, dict):
        raise TransferError(f"{where}: expected an object.")
    missing = [name for name in fields if name not in value]
    if missing:
        raise TransferError(f"{where}: missing {', '.join(missing)}.")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise TransferError(f"{where}: unknown field {', '.join(unknown)}.")
    out = {}
    for name in fields:
        item = value[name]
        if name in ("sections", "products", "strengths"):
            if not isinstance(item, list):
                raise TransferError(f"{where}.{name}: expected a list.")
            out[name] = item
        elif name in DATETIME_FIELDS:
            if item is None:
                out[name] = None
                continue
            moment = parse_datetime(item) if isinstance(item, str) else None
            if moment is None or moment.tzinfo is None:
                raise TransferError(f"{where}.{name}: {item!r} is not a date and time with its offset.")
            out[name] = moment.isoformat()
        elif name in DECIMAL_FIELDS:
            if item is None and name in NULLABLE_FIELDS:
                out[name] = None
                continue
            try:
                if not isinstance(item, str | int) or isinstance(item, bool):
                    raise InvalidOperation
                number = Decimal(str(item))
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                raise TransferError(f"{where}.{name}: {item!r} is not a decimal number.") from None
            out[name] = _decimal_text(number)
        elif name in BOOLEAN_FIELDS:
            if not isinstance(item, bool):
                raise TransferError(f"{where}.{name}: expected true or false.")
            out[name] = item
        elif name in INTEGER_FIELDS:
            if not isinstance(item, int) or isinstance(item, bool):
                raise TransferError(f"{where}.{name}: expected a whole number.")
            out[name] = item
        else:
            if not isinstance(item, str):
                raise TransferError(f"{where}.{name}: expected text.")
            found = first_forbidden(item)
            if found:
                raise TransferError(
                    gettext(
                        "%(where)s: the invisible character %(character)s (line %(line)s, character %(column)s) is "
                        "not allowed (control characters and text-direction overrides are refused). Nothing was imported."
                    )
                    % {"where": f"{where}.{name}", "character": describe(found[1]), **line_and_column(item, found[0])}
                )
            out[name] = item
    return out


def _parse_entry(raw, where, version=FORMAT_VERSION):
    older = version < 3 and isinstance(raw, dict)
    if version == 1 and isinstance(raw, dict):
        raw = {**ADDED_IN_VERSION_2, **raw}
    if older:
        raw = {**ADDED_IN_VERSION_3, **raw}
    if version < 4 and isinstance(raw, dict):
        raw = {**ADDED_IN_VERSION_4, **raw}
    entry = _object(raw, where, [*EXPORT_ENTRY_FIELDS, "sections", "products"])
    entry["sections"] = [
        _object(
            {**SECTION_ADDED_IN_VERSION_3, **s} if older and isinstance(s, dict) else s,
            f"{where}.sections[{i}]",
            SECTION_FIELDS,
        )
        for i, s in enumerate(entry["sections"])
    ]
    products, seen_products = [], set()
    for i, raw_product in enumerate(entry["products"]):
        pwhere = f"{where}.products[{i}]"
        if older and isinstance(raw_product, dict):
            raw_product = {**PRODUCT_ADDED_IN_VERSION_3, **raw_product}
        product = _object(raw_product, pwhere, [*PRODUCT_FIELDS, "strengths"])
        key = _product_sort_key(product)
        if key in seen_products:
            raise TransferError(
                f"{pwhere}: product {product['name']!r} of {product['certificate_holder']!r} appears twice."
            )
        seen_products.add(key)
        strengths, seen_strengths = [], set()
        for j, raw_strength in enumerate(product["strengths"]):
            strength = _object(raw_strength, f"{pwhere}.strengths[{j}]", TRANSFER_STRENGTH_FIELDS)
            skey = strength_identity(strength)
            if skey in seen_strengths:
                raise TransferError(f"{pwhere}.strengths[{j}]: the same strength and dosage form appears twice.")
            seen_strengths.add(skey)
            strengths.append(strength)
        product["strengths"] = sorted(strengths, key=_strength_sort_key)
        products.append(product)
    entry["products"] = sorted(products, key=_product_sort_key)
    return entry


def load_document(raw: bytes):
    """Check a file completely (shape, format, version, checksum) and return its entries, normalised."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TransferError("The file is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise TransferError(
            f"The file is not valid JSON (truncated or damaged?): {exc.msg} at line {exc.lineno}."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f'This is not a formulary export (expected "format": "{FORMAT}").')
    version = document.get("format_version")
    if version not in READABLE_VERSIONS:
        raise TransferError(
            f"Format version {version!r} is not supported; this installation reads versions "
            f"{', '.join(map(str, sorted(READABLE_VERSIONS)))}."
        )
    check = document.get("checksum")
    payload = document.get("payload")
    if not isinstance(check, dict) or check.get("algorithm") != "sha256" or not isinstance(check.get("value"), str):
        raise TransferError("The file has no sha256 checksum.")
    if not isinstance(payload, dict):
        raise TransferError("The file has no payload.")
    if checksum(payload) != check["value"].lower():
        raise TransferError("Checksum mismatch: the file was changed or damaged after export. Nothing was imported.")
    entries = payload.get("entries")
    if not isinstance(entries, list):
        raise TransferError("payload.entries: expected a list.")
    parsed, names = [], {}
    for i, raw_entry in enumerate(entries):
        entry = _parse_entry(raw_entry, f"entries[{i}]", version)
        folded = entry["generic_name"].casefold()
        if folded in names:
            raise TransferError(f"entries[{i}]: {entry['generic_name']!r} already appears as entries[{names[folded]}].")
        names[folded] = i
        parsed.append(entry)
    return parsed


# Writing: through `services.entry_replace`, which the admin's rules and identities share.


def import_entries(entries, *, source_name, user=None, dry_run=False):
    """Create or update working copies from parsed entries; all or nothing."""
    report = ImportReport()
    reason = f"imported from {source_name}"
    with transaction.atomic():
        for data in entries:
            entry = working_copy.entry_by_name(data["generic_name"], lock=True)
            if entry is not None and entry_data(entry) == data:
                report.skipped.append(entry.generic_name)
                continue
            try:
                _entry, created = services.entry_replace(data=data, user=user, reason=reason)
            except ValidationError as exc:
                raise TransferError(" ".join(exc.messages)) from None
            (report.created if created else report.updated).append(data["generic_name"])
        if dry_run:
            transaction.set_rollback(True)
    return report
