"""FHIR R4 read and search endpoints under /fhir/, answering application/fhir+json.

Only live editions are served: a draft, never-published or withdrawn entry
(or one of its strengths) is a 404 with an OperationOutcome, like any
unknown id. These are plain Django views because FHIR defines its own
interface; the REST API's OpenAPI description does not cover them.
"""

import json
from functools import wraps

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .. import fhir, selectors
from ..search import MAX_QUERY_LENGTH
from . import conditional, filters
from .throttling import ClientRateThrottle

MAX_COUNT = 200
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
ALLOWED_METHODS = ("GET", "HEAD")


def _response(body, status=200):
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=f"{fhir.FHIR_CONTENT_TYPE}; charset=utf-8"
    )


def _base_url(request):
    return request.build_absolute_uri("/fhir/")


def _not_found(what):
    return _response(fhir.operation_outcome("not-found", f"No published {what}."), status=404)


def _bad_request(reason):
    return _response(fhir.operation_outcome("invalid", reason), status=400)


def _with_conditional(request, edition, build):
    etag = conditional.make_etag(request, edition.pk)
    cached = conditional.not_modified(request, etag=etag, last_modified=edition.published_at)
    if cached is not None:
        return cached
    return conditional.set_headers(_response(build()), etag=etag, last_modified=edition.published_at)


def _only(request, allowed):
    allowed = {*allowed, "_format"}
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        return _bad_request(f"Unknown search parameter {unknown[0]!r}; supported: {', '.join(sorted(allowed))}.")
    # A repeated parameter means AND in FHIR; rather than answer with one of them ignored,
    # refuse it, as the REST API does.
    repeated = sorted(name for name, values in request.GET.lists() if len(values) > 1)
    if repeated:
        return _bad_request(f"Give {repeated[0]!r} at most once; repeated search parameters are not supported.")
    if any("\x00" in value for _name, values in request.GET.lists() for value in values):
        return _bad_request("Search parameters must not contain null characters.")
    if request.GET.get("_format", "json") not in JSON_FORMATS:
        return _bad_request("Only JSON is served: _format=json.")
    return None


def read_only(view):
    """GET and HEAD only; any other method is a 405 OperationOutcome with an Allow header.

    csrf_exempt, because Django's CSRF check runs before the view and answered
    every write with its HTML 403 page, which no FHIR client can read. It is
    safe: these views change nothing, every method that could (POST, PUT,
    PATCH, DELETE) is refused below, and GET and HEAD are never CSRF-checked.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ALLOWED_METHODS:
            response = _response(
                fhir.operation_outcome(
                    "not-supported", f"{request.method[:20]} is not supported: this FHIR server is read-only."
                ),
                status=405,
            )
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            return response
        return view(request, *args, **kwargs)

    return wrapper


def throttled(view):
    """The REST API's rate limit (FORMULARY_API_THROTTLE_RATE), answered with an OperationOutcome."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        throttle = ClientRateThrottle()
        if not throttle.allow_request(request, None):
            wait = int((throttle.wait() or 1) + 0.999)
            response = _response(
                fhir.operation_outcome("throttled", f"Too many requests; try again in {wait} seconds."), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return view(request, *args, **kwargs)

    return wrapper


@read_only
@throttled
def medication_knowledge_read(request, pk):
    if (error := _only(request, set())) is not None:
        return error
    edition = selectors.live_edition_for_entry(filters.as_id(pk)) if filters.as_id(pk) else None
    if edition is None:
        return _not_found(f"MedicationKnowledge with id {pk}")
    return _with_conditional(request, edition, lambda: fhir.medication_knowledge(edition, base_url=_base_url(request)))


@read_only
@throttled
def medication_read(request, pk):
    if (error := _only(request, set())) is not None:
        return error
    found = selectors.live_strength(filters.as_id(pk)) if filters.as_id(pk) else None
    if found is None:
        return _not_found(f"Medication with id {pk}")
    edition, product, strength = found
    return _with_conditional(
        request, edition, lambda: fhir.medication(edition, product, strength, base_url=_base_url(request))
    )


def _whole(request, name, default, low, high):
    raw = request.GET.get(name)
    if raw is None:
        return default, None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        return None, _bad_request(f"{name} must be a whole number from {low} to {high}.")
    return int(raw), None


@read_only
@throttled
def medication_knowledge_search(request):
    """Search by name (generic name or synonym, contains, case-insensitive); without name, all entries."""
    if (error := _only(request, {"name", "_count", "_offset"})) is not None:
        return error
    count, error = _whole(request, "_count", MAX_COUNT, 1, MAX_COUNT)
    if error is not None:
        return error
    offset, error = _whole(request, "_offset", 0, 0, filters.MAX_ID)
    if error is not None:
        return error
    editions = selectors.live_editions_filtered()
    if "name" in request.GET:
        name = request.GET["name"].strip()
        if not name or len(name) > MAX_QUERY_LENGTH:
            return _bad_request(f"name must be 1 to {MAX_QUERY_LENGTH} characters.")
        editions = selectors.live_editions_containing(name)
    base = _base_url(request)
    resources = [fhir.medication_knowledge(e, base_url=base) for e in editions[offset : offset + count]]
    bundle = fhir.searchset(resources, base_url=base, self_url=request.build_absolute_uri())
    bundle["total"] = total = editions.count()
    if offset + count < total:
        query = request.GET.copy()
        query["_offset"] = str(offset + count)
        bundle["link"].append(
            {"relation": "next", "url": request.build_absolute_uri(f"{request.path}?{query.urlencode()}")}
        )
    return _response(bundle)


@read_only
@throttled
def medication_search(request):
    """Search Medications by HK registration number: ?identifier=HK-12345 (or system|HK-12345)."""
    if (error := _only(request, {"identifier"})) is not None:
        return error
    identifier = request.GET.get("identifier", "").strip()
    if not identifier:
        return _bad_request("Give identifier, the Hong Kong registration number, e.g. identifier=HK-12345.")
    value = identifier.rsplit("|", 1)[-1]
    base = _base_url(request)
    resources = [fhir.medication(e, p, s, base_url=base) for e, p, s in selectors.live_strengths_registered_as(value)]
    return _response(fhir.searchset(resources, base_url=base, self_url=request.build_absolute_uri()))
