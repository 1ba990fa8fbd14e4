"""Query parameters of the entry list and search, checked strictly.

Every parameter is validated before any query runs; a bad value raises
`BadParameter` (a 400 with the reason), and an unknown parameter name is refused
too, because a misspelt filter silently returning the whole formulary is worse
for a dispensing system than an error.
"""

import datetime
import re

from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ..search import search as ranked_search
from ..selectors import live_editions
from ..vocabulary import FormularyStatus, LegalClass
from .errors import BadParameter

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_QUERY_LENGTH = 200

LIST_PARAMETERS = {"drug_class", "formulary_status", "legal_classification", "updated_since", "q", "page", "page_size"}
SEARCH_PARAMETERS = {"q", "page", "page_size"}


MAX_ID = 2**63 - 1  # the largest id the database can hold
MAX_UTC_OFFSET = datetime.timedelta(hours=14)


def as_id(text):
    """A database id written in ASCII digits, or None (so "²" or a 30-digit number never reach a query)."""
    if text and text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    return None


def check_known(params, allowed):
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadParameter(unknown[0], f"Unknown parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}.")
    for name in params:
        if len(params.getlist(name)) > 1:
            raise BadParameter(name, f"Give {name!r} at most once.")
        if "\x00" in params[name]:
            raise BadParameter(name, f"{name!r} contains a null character.")


def _choice(params, name, choices):
    value = params.get(name)
    if value is None:
        return None
    if value not in choices.values:
        raise BadParameter(name, f"Unknown {name} {value!r}; one of: {', '.join(choices.values)}.")
    return value


def parse_updated_since(value):
    """An ISO 8601 date (midnight Hong Kong time) or date-time; naive times are local time."""
    value = value.strip()
    # An unencoded "+08:00" arrives as " 08:00"; put the plus sign back.
    value = value[:11] + value[11:].replace(" ", "+")
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError
            moment = datetime.datetime.combine(day, datetime.time.min)
    except ValueError:
        raise BadParameter(
            "updated_since",
            f"{value!r} is not a date or date-time; use ISO 8601 such as 2026-01-31 or 2026-01-31T08:00:00+08:00.",
        ) from None
    # Python accepts any offset under 24 hours, PostgreSQL only up to about 16, and a larger one
    # was a 500; real UTC offsets run from -12:00 to +14:00.
    if moment.utcoffset() is not None and abs(moment.utcoffset()) > MAX_UTC_OFFSET:
        raise BadParameter(
            "updated_since", f"{value!r} has a UTC offset beyond ±14:00; use a real one such as +08:00 or Z."
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_positive_int(params, name, default, maximum=None):
    value = params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise BadParameter(name, f"{name} must be a whole number of at least 1, not {value!r}.")
    number = int(value)
    if maximum is not None and number > maximum:
        raise BadParameter(name, f"{name} can be at most {maximum}.")
    return number


def _products_having(queryset, field, value):
    """Editions with at least one product whose `field` is `value`."""
    if connection.features.supports_json_field_contains:
        return queryset.filter(content__products__contains=[{field: value}])
    # SQLite (development only): test the snapshots in Python.
    ids = [
        pk
        for pk, products in queryset.values_list("pk", "content__products")
        if any(product.get(field) == value for product in products or [])
    ]
    return queryset.filter(pk__in=ids)


def text_query(params):
    q = (params.get("q") or "").strip()
    if "q" in params and not q:
        raise BadParameter("q", "The search text q is empty.")
    if len(q) > MAX_QUERY_LENGTH:
        raise BadParameter("q", f"The search text can be at most {MAX_QUERY_LENGTH} characters.")
    return q


def search(queryset, q):
    """Generic name, synonyms, product (brand) names or drug class containing the text, or the ATC code
    (all case-insensitive)."""
    # Product names are matched in the JSON text of the products: PostgreSQL writes `"name": "…"`,
    # SQLite `"name":"…"`; re.escape makes the text literal in both regex dialects.
    product_name = r'"name": ?"[^"]*' + re.escape(q)
    return queryset.annotate(_products_text=KeyTextTransform("products", "content")).filter(
        Q(generic_name__icontains=q)
        | Q(content__synonyms__icontains=q)
        | Q(_products_text__iregex=product_name)
        | Q(drug_class__icontains=q)
        | Q(content__atc_code__iexact=q)
    )


def filtered_editions(params):
    """Live editions matching the list parameters, in a stable order."""
    check_known(params, LIST_PARAMETERS)
    queryset = live_editions()
    drug_class = params.get("drug_class")
    if drug_class is not None:
        if not drug_class.strip():
            raise BadParameter("drug_class", "The drug class is empty.")
        queryset = queryset.filter(drug_class__iexact=drug_class.strip())
    status = _choice(params, "formulary_status", FormularyStatus)
    if status:
        queryset = _products_having(queryset, "formulary_status", status)
    legal = _choice(params, "legal_classification", LegalClass)
    if legal:
        queryset = _products_having(queryset, "legal_classification", legal)
    if "updated_since" in params:
        queryset = queryset.filter(approved_at__gte=parse_updated_since(params["updated_since"]))
    q = text_query(params)
    if q:
        queryset = search(queryset, q)
    return queryset.order_by("generic_name", "entry_id")


def searched_editions(params):
    check_known(params, SEARCH_PARAMETERS)
    q = text_query(params)
    if not q:
        raise BadParameter("q", "Give the text to search for as q, e.g. ?q=lenalidomide.")
    # The same ranked, typo-tolerant search as the public pages, best match first.
    return ranked_search(q)
