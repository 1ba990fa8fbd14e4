"""Query parameters of the entry list and search, checked strictly.

This module only parses: every parameter is validated before any query runs;
a bad value raises `BadParameter` (a 400 with the reason), and an unknown
parameter name is refused too, because a misspelt filter silently returning the
whole formulary is worse for a dispensing system than an error. The views hand
the parsed values to `selectors`.
"""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ..search import MAX_QUERY_LENGTH
from ..text_rules import MAX_ID, as_id  # noqa: F401  (the API's id parsing: the project's one)
from ..vocabulary import FormularyStatus, LegalClass
from .errors import BadParameter

# A drug class is at most this long (Edition.drug_class); a longer one is a mistake, not a filter.
MAX_DRUG_CLASS_LENGTH = 200
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

LIST_PARAMETERS = {"drug_class", "formulary_status", "legal_classification", "updated_since", "q", "page", "page_size"}
SEARCH_PARAMETERS = {"q", "page", "page_size"}


MAX_UTC_OFFSET = datetime.timedelta(hours=14)


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


def text_query(params, name="q"):
    """The search text of parameter `name`, stripped and bounded; empty only when the parameter is absent."""
    q = (params.get(name) or "").strip()
    if name in params and not q:
        raise BadParameter(name, f"The search text {name} is empty.")
    if len(q) > MAX_QUERY_LENGTH:
        raise BadParameter(name, f"The search text can be at most {MAX_QUERY_LENGTH} characters.")
    return q


def list_filters(params):
    """The list parameters as keyword arguments of `selectors.live_editions_filtered`."""
    check_known(params, LIST_PARAMETERS)
    drug_class = params.get("drug_class")
    if drug_class is not None and not drug_class.strip():
        raise BadParameter("drug_class", "The drug class is empty.")
    if drug_class is not None and len(drug_class) > MAX_DRUG_CLASS_LENGTH:
        raise BadParameter("drug_class", f"A drug class has at most {MAX_DRUG_CLASS_LENGTH} characters.")
    return {
        "drug_class": drug_class.strip() if drug_class is not None else None,
        "formulary_status": _choice(params, "formulary_status", FormularyStatus),
        "legal_classification": _choice(params, "legal_classification", LegalClass),
        "updated_since": parse_updated_since(params["updated_since"]) if "updated_since" in params else None,
        "containing": text_query(params) or None,
    }


def search_text(params):
    """The required text of the search endpoint."""
    check_known(params, SEARCH_PARAMETERS)
    q = text_query(params)
    if not q:
        raise BadParameter("q", "Give the text to search for as q, e.g. ?q=lenalidomide.")
    return q
