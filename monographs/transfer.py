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

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import reversion
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Entry, Product, Section, Strength
from .snapshots import ENTRY_FIELDS, PRODUCT_FIELDS, SECTION_FIELDS, STRENGTH_FIELDS

FORMAT = "hk-formulary-export"
FORMAT_VERSION = 1

EXPORT_ENTRY_FIELDS = [*ENTRY_FIELDS, "notes"]
DECIMAL_FIELDS = {"amount", "per_amount"}
NULLABLE_FIELDS = {"per_amount"}
INTEGER_FIELDS = {"position"}
STRENGTH_KEY = ("amount", "unit", "per_amount", "per_unit", "dosage_form")


class TransferError(Exception):
    """The file cannot be imported; the message says where and why."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _decimal_text(value):
    return None if value is None else format(Decimal(value).normalize(), "f")


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
    data = {name: getattr(entry, name) for name in EXPORT_ENTRY_FIELDS}
    data["sections"] = [{name: getattr(s, name) for name in SECTION_FIELDS} for s in entry.sections.all()]
    products = []
    for product in entry.products.all():
        strengths = []
        for strength in product.strengths.all():
            item = {name: getattr(strength, name) for name in STRENGTH_FIELDS}
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
    entries = Entry.objects.order_by("generic_name").prefetch_related("sections", "products__strengths")
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
        elif name in INTEGER_FIELDS:
            if not isinstance(item, int) or isinstance(item, bool):
                raise TransferError(f"{where}.{name}: expected a whole number.")
            out[name] = item
        else:
            if not isinstance(item, str):
                raise TransferError(f"{where}.{name}: expected text.")
            out[name] = item
    return out


def _parse_entry(raw, where):
    entry = _object(raw, where, [*EXPORT_ENTRY_FIELDS, "sections", "products"])
    entry["sections"] = [_object(s, f"{where}.sections[{i}]", SECTION_FIELDS) for i, s in enumerate(entry["sections"])]
    products, seen_products = [], set()
    for i, raw_product in enumerate(entry["products"]):
        pwhere = f"{where}.products[{i}]"
        product = _object(raw_product, pwhere, [*PRODUCT_FIELDS, "strengths"])
        key = _product_sort_key(product)
        if key in seen_products:
            raise TransferError(
                f"{pwhere}: product {product['name']!r} of {product['certificate_holder']!r} appears twice."
            )
        seen_products.add(key)
        strengths, seen_strengths = [], set()
        for j, raw_strength in enumerate(product["strengths"]):
            strength = _object(raw_strength, f"{pwhere}.strengths[{j}]", STRENGTH_FIELDS)
            skey = tuple(strength[k] for k in STRENGTH_KEY)
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
    if version != FORMAT_VERSION:
        raise TransferError(
            f"Format version {version!r} is not supported; this installation reads version {FORMAT_VERSION}."
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
        entry = _parse_entry(raw_entry, f"entries[{i}]")
        folded = entry["generic_name"].casefold()
        if folded in names:
            raise TransferError(f"entries[{i}]: {entry['generic_name']!r} already appears as entries[{names[folded]}].")
        names[folded] = i
        parsed.append(entry)
    return parsed


# Writing.


def _save(obj, where):
    try:
        obj.full_clean()
    except ValidationError as exc:
        messages = []
        for name, errors in exc.message_dict.items():
            prefix = "" if name == "__all__" else f"{name}: "
            messages.extend(prefix + message for message in errors)
        raise TransferError(f"{where}: {'; '.join(messages)}") from None
    obj.save()
    return obj


def _strength_value(data, name):
    value = data[name]
    return Decimal(value) if name in DECIMAL_FIELDS and value is not None else value


def _strength_key_of(obj):
    return tuple(_decimal_text(getattr(obj, k)) if k in DECIMAL_FIELDS else getattr(obj, k) for k in STRENGTH_KEY)


def _apply(entry, data):
    name = data["generic_name"]
    for attr in EXPORT_ENTRY_FIELDS:
        setattr(entry, attr, data[attr])
    _save(entry, name)

    entry.sections.all().delete()
    for i, section in enumerate(data["sections"]):
        _save(Section(entry=entry, **section), f"{name}, section {i + 1}")

    wanted = {_product_sort_key(p): p for p in data["products"]}
    existing = {(p.name, p.certificate_holder): p for p in entry.products.all()}
    # Deletions first, so a registration number can move to a new strength.
    for key, product in existing.items():
        if key not in wanted:
            product.delete()
    kept = {}
    for key, pdata in wanted.items():
        product = existing.get(key)
        if product is None:
            continue
        wanted_strengths = {tuple(s[k] for k in STRENGTH_KEY) for s in pdata["strengths"]}
        strengths = {_strength_key_of(s): s for s in product.strengths.all()}
        for skey, strength in strengths.items():
            if skey not in wanted_strengths:
                strength.delete()
        kept[key] = {k: v for k, v in strengths.items() if k in wanted_strengths}

    for key, pdata in wanted.items():
        product = existing.get(key) or Product(entry=entry)
        where = f"{name}, product {pdata['name']}"
        for attr in PRODUCT_FIELDS:
            setattr(product, attr, pdata[attr])
        _save(product, where)
        current = kept.get(key, {})
        for sdata in pdata["strengths"]:
            skey = tuple(sdata[k] for k in STRENGTH_KEY)
            strength = current.get(skey) or Strength(product=product)
            for attr in STRENGTH_FIELDS:
                setattr(strength, attr, _strength_value(sdata, attr))
            text = f"{sdata['amount']} {sdata['unit']}" + (
                f" per {sdata['per_amount']} {sdata['per_unit']}" if sdata["per_amount"] is not None else ""
            )
            _save(strength, f"{where}, strength {text} {sdata['dosage_form']}")


def import_entries(entries, *, source_name, user=None, dry_run=False):
    """Create or update working copies from parsed entries; all or nothing."""
    report = ImportReport()
    reason = f"imported from {source_name}"
    with transaction.atomic():
        for data in entries:
            entry = Entry.objects.select_for_update().filter(generic_name__iexact=data["generic_name"]).first()
            if entry is not None:
                current = entry_data(entry)
                if current == data:
                    report.skipped.append(entry.generic_name)
                    continue
            with reversion.create_revision():
                created = entry is None
                _apply(entry or Entry(), data)
                reversion.set_user(user)
                reversion.set_comment(reason)
            (report.created if created else report.updated).append(data["generic_name"])
        if dry_run:
            transaction.set_rollback(True)
    return report


def exported_at(document):
    try:
        return datetime.datetime.fromisoformat(document["payload"]["exported_at"])
    except (KeyError, TypeError, ValueError):
        return None
