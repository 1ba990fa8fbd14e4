"""FHIR search parameters: one table that routes, validates and describes them.

`SEARCH_PARAMETERS` lists, per resource type, every search parameter the FHIR
views accept, with its type, its definition and the code that applies it.
`parse` refuses anything not in the table (a misspelt parameter must not
silently return everything), and the CapabilityStatement (`capability_statement`)
and the SearchParameter resources of this server's own parameters are generated
from the same table, so what is advertised is exactly what is served.

MedicationKnowledge is searched in the database (one edition per resource);
Medication, one per strength inside an edition's snapshot, in Python over the
editions the database narrows it to.

Token semantics (FHIR R4, 3.1.1.4.10): `value` matches in any system,
`system|value` in that system only, `|value` an identifier without a system,
`system|` any value in that system; a comma means OR; values match exactly,
case included (a registration number is written HK-12345).
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField
from django.utils import timezone

from .. import fhir
from ..text_rules import MAX_ID

FHIR_VERSION = "4.0.1"
MAX_COUNT = 200
MAX_VALUE_LENGTH = 200
SUMMARY_MODES = ("true", "false", "text", "data", "count")
TOTAL_MODES = ("none", "estimate", "accurate")
JSON_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")
DATE_PREFIXES = ("eq", "ne", "gt", "ge", "lt", "le")
STANDARD = "http://hl7.org/fhir/SearchParameter/"
MEDICATION_KNOWLEDGE_STATUS_SYSTEM = "http://hl7.org/fhir/CodeSystem/medicationknowledge-status"
MEDICATION_STATUS_SYSTEM = "http://hl7.org/fhir/CodeSystem/medication-status"

# What the elements of _summary=true are: the resource's summary elements in R4 that this server fills.
SUMMARY_ELEMENTS = {
    "MedicationKnowledge": ("code", "status", "synonym"),
    "Medication": ("identifier", "code", "status", "manufacturer", "form"),
}
ALWAYS_SHOWN = ("resourceType", "id", "meta", "language")


class SearchError(ValueError):
    """A search the server refuses: `status` 400 (invalid) or 406 (a format it cannot give)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


# --- Values ---


def _split(raw):
    """Comma-separated alternatives (FHIR's OR); `\\,` is a literal comma."""
    parts = re.split(r"(?<!\\),", raw)
    return [part.replace("\\,", ",") for part in parts]


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code (the `system|` form)

    def matches(self, system, code):
        if self.system is not None and (system or "") != self.system:
            return False
        return self.code is None or code == self.code


def parse_tokens(name, raw):
    tokens = []
    for part in _split(raw):
        if "|" in part:
            system, code = part.split("|", 1)
            token = Token(system=system, code=code or None)
            if not system and not code:
                raise SearchError(f"{name}: '|' alone names neither a system nor a value.")
        else:
            token = Token(system=None, code=part)
        if token.code is not None and not token.code.strip():
            raise SearchError(f"{name} has an empty value.")
        tokens.append(token)
    return tokens


_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


@dataclass(frozen=True)
class DateRange:
    prefix: str
    low: datetime.datetime  # included
    high: datetime.datetime  # excluded

    def matches(self, moment):
        return {
            "eq": self.low <= moment < self.high,
            "ne": not self.low <= moment < self.high,
            "gt": moment >= self.high,
            "ge": moment >= self.low,
            "lt": moment < self.low,
            "le": moment < self.high,
        }[self.prefix]

    def q(self, field):
        within = Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})
        return {
            "eq": within,
            "ne": ~within,
            "gt": Q(**{f"{field}__gte": self.high}),
            "ge": Q(**{f"{field}__gte": self.low}),
            "lt": Q(**{f"{field}__lt": self.low}),
            "le": Q(**{f"{field}__lt": self.high}),
        }[self.prefix]


def parse_date(name, raw):
    """A date search value with an optional prefix; its precision gives the range it stands for.
    A date or time without an offset is Hong Kong time (TIME_ZONE), as in the REST API."""
    raw = raw.strip()
    # An unencoded "+08:00" arrives as " 08:00"; put the plus sign back.
    raw = raw[:2] + raw[2:].replace(" ", "+")
    prefix = "eq"
    if raw[:2].isalpha():
        prefix, raw = raw[:2], raw[2:]
        if prefix not in DATE_PREFIXES:
            raise SearchError(f"{name}: the prefix {prefix!r} is not supported; use one of {', '.join(DATE_PREFIXES)}.")
    match = _DATE.fullmatch(raw)
    if not match:
        raise SearchError(f"{name}: {raw!r} is not a FHIR date or dateTime, e.g. 2026-01-31 or 2026-01-31T08:00:00Z.")
    parts = match.groupdict()
    try:
        zone = None
        if parts["zone"] == "Z":
            zone = datetime.UTC
        elif parts["zone"]:
            sign = 1 if parts["zone"][0] == "+" else -1
            hours, minutes = int(parts["zone"][1:3]), int(parts["zone"][4:6])
            offset = datetime.timedelta(hours=hours, minutes=minutes)
            if offset > datetime.timedelta(hours=14) or minutes > 59:
                raise ValueError
            zone = datetime.timezone(sign * offset)
        year = int(parts["year"])
        month = int(parts["month"] or 1)
        day = int(parts["day"] or 1)
        fraction = (parts["fraction"] or "").ljust(6, "0")
        low = datetime.datetime(
            year,
            month,
            day,
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int(fraction or 0),
        )
        if parts["fraction"]:
            high = low + datetime.timedelta(microseconds=10 ** (6 - len(parts["fraction"])))
        elif parts["second"]:
            high = low + datetime.timedelta(seconds=1)
        elif parts["minute"]:
            high = low + datetime.timedelta(minutes=1)
        elif parts["day"]:
            high = low + datetime.timedelta(days=1)
        elif parts["month"]:
            high = low.replace(year=year + month // 12, month=month % 12 + 1)
        else:
            high = low.replace(year=year + 1)
    except (ValueError, OverflowError):
        raise SearchError(f"{name}: {raw!r} is outside the calendar or has an offset beyond ±14:00.") from None
    if zone is None:
        low, high = timezone.make_aware(low), timezone.make_aware(high)
    else:
        low, high = low.replace(tzinfo=zone), high.replace(tzinfo=zone)
    return DateRange(prefix=prefix, low=low, high=high)


def parse_string(name, raw):
    text = raw.strip()
    if not text or len(text) > MAX_VALUE_LENGTH:
        raise SearchError(f"{name} must be 1 to {MAX_VALUE_LENGTH} characters.")
    return text


# --- What each parameter does ---


def _ids(tokens):
    """The ids an _id search names (a resource id has no system)."""
    return {t.code for t in tokens if t.system in (None, "") and t.code is not None}


def _mk_id(editions, tokens):
    ids = [int(code) for code in _ids(tokens) if code.isascii() and code.isdigit() and int(code) <= MAX_ID]
    return editions.filter(entry_id__in=ids)


def _mk_last_updated(editions, ranges):
    for date_range in ranges:
        editions = editions.filter(date_range.q("live_state__live_since"))
    return editions


def _mk_name(editions, text):
    from ..selectors import live_editions_containing

    return editions.filter(pk__in=live_editions_containing(text).values("pk"))


def _mk_code(editions, tokens):
    wanted = Q(pk__in=[])
    for token in tokens:
        if token.system not in (None, fhir.ATC_SYSTEM):
            continue
        wanted |= ~Q(content__atc_code="") if token.code is None else Q(content__atc_code=token.code)
    return editions.filter(wanted)


def _status_matches(tokens, system):
    return any(t.matches(system, "active") for t in tokens)


def _mk_status(editions, tokens):
    # Only live editions are served, and every one is active.
    return editions if _status_matches(tokens, MEDICATION_KNOWLEDGE_STATUS_SYSTEM) else editions.none()


def _med_id(item, tokens):
    return str(item.strength["id"]) in _ids(tokens)


def _med_last_updated(item, ranges):
    return all(r.matches(item.edition.published_at) for r in ranges)


def medication_identifiers(strength):
    """(system, value) of each identifier of a strength's Medication (see `fhir.medication`)."""
    identifiers = [(fhir.system("sid/strength-id"), str(strength["id"]))]
    if strength.get("registration_number"):
        identifiers.append((fhir.system("sid/hk-registration-number"), strength["registration_number"]))
    return identifiers


def _med_identifier(item, tokens):
    return any(t.matches(s, v) for t in tokens for s, v in medication_identifiers(item.strength))


def _med_code(item, tokens):
    atc = item.edition.content.get("atc_code")
    return bool(atc) and any(t.matches(fhir.ATC_SYSTEM, atc) for t in tokens)


def _med_status(item, tokens):
    return _status_matches(tokens, MEDICATION_STATUS_SYSTEM)


@dataclass(frozen=True)
class SearchParameter:
    name: str
    type: str  # FHIR search parameter type: token, date, string
    documentation: str
    parse: Callable  # (name, raw value) -> parsed value
    apply: Callable  # MedicationKnowledge: (editions, parsed) -> editions; Medication: (item, parsed) -> bool
    definition: str | None = None  # a standard SearchParameter; None: this server's own
    expression: str = ""
    repeatable: bool = False  # given more than once: every occurrence must match (AND)


def _common(apply_id, apply_last_updated):
    return [
        SearchParameter(
            "_id",
            "token",
            "The logical id (entry id, strength id); comma-separated ids for any of them.",
            parse_tokens,
            apply_id,
            definition=STANDARD + "Resource-id",
        ),
        SearchParameter(
            "_lastUpdated",
            "date",
            "When the edition went live (meta.lastUpdated), with the prefixes eq, ne, gt, ge, lt, le; "
            "give it twice for a range. Without an offset a date or time is Hong Kong time.",
            parse_date,
            apply_last_updated,
            definition=STANDARD + "Resource-lastUpdated",
            repeatable=True,
        ),
    ]


SEARCH_PARAMETERS = {
    "MedicationKnowledge": [
        *_common(_mk_id, _mk_last_updated),
        SearchParameter(
            "name",
            "string",
            "Text (case-insensitive) in the generic name, a synonym (any language), a product (brand) name "
            "or the drug class; or the exact ATC code.",
            parse_string,
            _mk_name,
            expression="MedicationKnowledge.code.text | MedicationKnowledge.synonym",
        ),
        SearchParameter(
            "code",
            "token",
            f"The ATC code, in the system {fhir.ATC_SYSTEM}, e.g. code={fhir.ATC_SYSTEM}|L04AX04.",
            parse_tokens,
            _mk_code,
            definition=STANDARD + "MedicationKnowledge-code",
        ),
        SearchParameter(
            "status",
            "token",
            "active: every published entry (nothing else is served).",
            parse_tokens,
            _mk_status,
            definition=STANDARD + "MedicationKnowledge-status",
        ),
    ],
    "Medication": [
        *_common(_med_id, _med_last_updated),
        SearchParameter(
            "identifier",
            "token",
            "The Hong Kong registration number (system {base}/sid/hk-registration-number, exact case: HK-12345) "
            "or the strength id (system {base}/sid/strength-id).",
            parse_tokens,
            _med_identifier,
            definition=STANDARD + "Medication-identifier",
        ),
        SearchParameter(
            "code",
            "token",
            f"The ATC code of the product's active ingredient, in the system {fhir.ATC_SYSTEM}.",
            parse_tokens,
            _med_code,
            definition=STANDARD + "medications-code",
        ),
        SearchParameter(
            "status",
            "token",
            "active: every strength of a published entry (nothing else is served).",
            parse_tokens,
            _med_status,
            definition=STANDARD + "Medication-status",
        ),
    ],
}

RESULT_PARAMETERS = {
    "_count": f"Resources per page, 0 to {MAX_COUNT} (default {MAX_COUNT}); a larger number is capped at "
    f"{MAX_COUNT}; 0 gives the total only.",
    "_offset": "How many matches to skip (the next/previous links carry it).",
    "_summary": "true (summary elements), text, data, count (the total only) or false.",
    "_elements": "Comma-separated top-level elements to return (id, meta and language always come).",
    "_total": "none leaves out the total; estimate and accurate give the exact total.",
    "_format": "json, application/json or application/fhir+json; XML is not served (406).",
}


def parameter(resource_type, name):
    return next((p for p in SEARCH_PARAMETERS[resource_type] if p.name == name), None)


# --- A parsed search ---


@dataclass
class Search:
    resource_type: str
    criteria: list  # [(SearchParameter, parsed value, or [parsed values] when repeatable)]
    count: int
    offset: int
    summary: str | None
    elements: list | None
    total: str

    @property
    def count_only(self):
        return self.summary == "count" or self.count == 0


def _whole(name, raw, high):
    if not (raw.isascii() and raw.isdigit()):
        raise SearchError(f"{name} must be a whole number from 0, not {raw[:20]!r}.")
    return min(int(raw), high)


def check_format(params):
    """406 for any format but JSON: XML or Turtle asked for must not silently get JSON."""
    wanted = params.get("_format")
    if wanted is not None and wanted.strip().split(";")[0].strip().lower() not in JSON_FORMATS:
        raise SearchError(f"Only JSON is served (_format=json); {wanted[:40]!r} is not.", status=406)


def check_plain(params, allowed=()):
    """For reads and other requests without search parameters: only _format (and `allowed`)."""
    check_format(params)
    for name in params:
        if name not in ("_format", *allowed):
            raise SearchError(f"Unknown parameter {name[:40]!r}; this request takes none.")
        if len(params.getlist(name)) > 1:
            raise SearchError(f"Give {name[:40]!r} at most once.")
        if any("\x00" in value for value in params.getlist(name)):
            raise SearchError("Parameters must not contain null characters.")


def parse(resource_type, params, *, lenient=False):
    """The search in `params` (a QueryDict), or SearchError with the reason. Unknown parameters are
    refused unless the client asked for leniency (`Prefer: handling=lenient`); then they are ignored."""
    check_format(params)
    table = {p.name: p for p in SEARCH_PARAMETERS[resource_type]}
    known = {*table, *RESULT_PARAMETERS}
    if lenient:
        params = params.copy()
        for name in set(params) - known:
            del params[name]
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise SearchError("Search parameters must not contain null characters.")
        if name not in known:
            shown = name.split(":")[0][:40]
            raise SearchError(f"Unknown search parameter {shown!r}; supported: {', '.join(sorted(known))}.")
        if len(values) > 1 and not (name in table and table[name].repeatable):
            # A repeated parameter means AND in FHIR; rather than answer with one of them ignored, refuse it.
            raise SearchError(f"Give {name!r} at most once; repeated search parameters are not supported.")
    criteria = []
    for name, values in params.lists():
        if name in table:
            spec = table[name]
            parsed = [spec.parse(name, value) for value in values]
            criteria.append((spec, parsed if spec.repeatable else parsed[0]))
    count = _whole("_count", params["_count"], MAX_COUNT) if "_count" in params else MAX_COUNT
    offset = _whole("_offset", params["_offset"], MAX_ID) if "_offset" in params else 0
    summary = params.get("_summary")
    if summary is not None and summary not in SUMMARY_MODES:
        raise SearchError(f"_summary must be one of {', '.join(SUMMARY_MODES)}.")
    elements = None
    if "_elements" in params:
        elements = [e.strip() for e in params["_elements"].split(",") if e.strip()]
        if not elements or not all(re.fullmatch(r"[A-Za-z]{1,40}", e) for e in elements):
            raise SearchError("_elements must be comma-separated element names, e.g. _elements=code,status.")
    total = params.get("_total", "accurate")
    if total not in TOTAL_MODES:
        raise SearchError(f"_total must be one of {', '.join(TOTAL_MODES)}.")
    return Search(resource_type, criteria, count, offset, summary if summary != "false" else None, elements, total)


def filter_editions(search, editions):
    """MedicationKnowledge: the editions matching every criterion."""
    for spec, value in search.criteria:
        editions = spec.apply(editions, value)
    return editions


@dataclass
class StrengthItem:
    edition: object
    product: dict
    strength: dict


def candidate_editions(search, editions):
    """Medication: the live editions that can hold a match, narrowed in the database where an
    identifier or _id names the strengths; the exact match is then `matches`."""
    for spec, value in search.criteria:
        if spec.name == "identifier":
            digits, ids = [], []
            for token in value:
                if token.code is None:
                    return editions  # `system|`: any value
                registered = token.system in (None, fhir.system("sid/hk-registration-number"))
                if registered and re.fullmatch(r"HK-\d{5}", token.code):
                    digits.append(token.code.removeprefix("HK-"))
                if token.system in (None, fhir.system("sid/strength-id")) and token.code.isdigit():
                    ids.append(int(token.code))
            if len(ids) > 50:
                return editions
            # The stored column of every registration number's digits (migration 0013), index-backed.
            held = RawSQL("search_registration && %s::text[]", [digits], output_field=BooleanField())  # nosec B611
            wanted = Q(held)
            for strength_id in ids:
                wanted |= Q(content__products__contains=[{"strengths": [{"id": strength_id}]}])
            editions = editions.filter(wanted)
        elif spec.name == "_id":
            ids = [int(c) for c in _ids(value) if c.isascii() and c.isdigit() and int(c) <= MAX_ID][:50]
            wanted = Q(pk__in=[])
            for strength_id in ids:
                wanted |= Q(content__products__contains=[{"strengths": [{"id": strength_id}]}])
            editions = editions.filter(wanted)
    return editions


def matches(search, item):
    return all(spec.apply(item, value) for spec, value in search.criteria)


def subset(resource, search):
    """The resource as _summary / _elements ask, tagged SUBSETTED when anything was left out."""
    if search.elements is not None:
        keep = {*ALWAYS_SHOWN, *search.elements}
    elif search.summary == "true":
        keep = {*ALWAYS_SHOWN, *SUMMARY_ELEMENTS[resource["resourceType"]]}
    elif search.summary == "text":
        keep = {*ALWAYS_SHOWN, "text"}
    elif search.summary == "data":
        keep = set(resource) - {"text"}
    else:
        return resource
    shown = {key: value for key, value in resource.items() if key in keep}
    if len(shown) < len(resource):
        shown["meta"] = {**shown.get("meta", {}), "tag": [fhir.SUBSETTED]}
    return shown


# --- What the server says about itself ---


def search_parameter_id(resource_type, spec):
    return f"{resource_type}-{spec.name}"


def own_parameters():
    """(resource type, parameter) of each parameter with no standard definition."""
    return [
        (resource_type, spec)
        for resource_type, specs in SEARCH_PARAMETERS.items()
        for spec in specs
        if spec.definition is None
    ]


def search_parameter(resource_type, spec, base_url):
    """The SearchParameter resource defining one of this server's own parameters."""
    return {
        "resourceType": "SearchParameter",
        "id": search_parameter_id(resource_type, spec),
        "url": f"{base_url}SearchParameter/{search_parameter_id(resource_type, spec)}",
        "name": spec.name,
        "status": "active",
        "experimental": False,
        "publisher": "Hospital Formulary",
        "description": spec.documentation,
        "code": spec.name,
        "base": [resource_type],
        "type": spec.type,
        "expression": spec.expression,
        "xpathUsage": "normal",
    }


def capability_statement(base_url, *, date, software_version):
    """The CapabilityStatement (R4 4.0.1) of this read-only server, generated from the table."""
    resources = []
    for resource_type, specs in SEARCH_PARAMETERS.items():
        search_params = [
            {
                "name": spec.name,
                "definition": spec.definition
                or f"{base_url}SearchParameter/{search_parameter_id(resource_type, spec)}",
                "type": spec.type,
                "documentation": spec.documentation,
            }
            for spec in specs
        ]
        # A result parameter, listed so that its cap is stated where clients look for parameters.
        search_params.append({"name": "_count", "type": "number", "documentation": RESULT_PARAMETERS["_count"]})
        resources.append(
            {
                "type": resource_type,
                "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
                "interaction": [{"code": code} for code in ("read", "vread", "history-instance", "search-type")],
                "versioning": "versioned",
                "readHistory": True,
                "updateCreate": False,
                "conditionalRead": "full-support",
                "searchParam": search_params,
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "id": "formulary",
        "url": f"{base_url}metadata",
        "name": "HospitalFormularyFHIRServer",
        "title": "Hospital Formulary FHIR server",
        "status": "active",
        "experimental": False,
        "date": date,
        "publisher": "Hospital Formulary",
        "description": "Read-only FHIR R4 view of the published (approved) editions of the formulary.",
        "kind": "instance",
        "software": {"name": "Hospital Formulary", "version": software_version},
        "implementation": {"description": "Hospital Formulary", "url": base_url.rstrip("/")},
        "fhirVersion": FHIR_VERSION,
        "format": ["json", "application/fhir+json"],
        "language": fhir.PRIMARY_LANGUAGE,
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Read-only: GET and HEAD. Searches return at most {MAX_COUNT} resources per page (a larger "
                    f"_count is capped at {MAX_COUNT}; _count=0 gives the total only), with first, previous, "
                    "next and last links. Results: " + " ".join(f"{k}: {v}" for k, v in RESULT_PARAMETERS.items())
                ),
                "resource": resources,
            }
        ],
    }
