"""FHIR R4 endpoints under /fhir/, answering application/fhir+json only.

Only editions that went live are served. A draft, never-published or unknown
id is a 404; an entry (or strength) that was public and was withdrawn is 410
Gone, FHIR's deleted resource, for read, vread and history alike. Every answer
under /fhir/, errors included (404 for an unknown address, 405, 406, 429), is a
FHIR resource; the database-down 503 comes from `formulary.middleware` in the
same form. These are plain Django views because FHIR defines its own interface:
the search parameters, and the CapabilityStatement that advertises them, come
from the one table in `fhir_search`.
"""

import json
import uuid
from functools import partial, wraps

from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .. import fhir, http_cache, selectors
from ..throttling import ClientRateThrottle
from . import fhir_search, filters

ALLOWED_METHODS = ("GET", "HEAD")
# What an Accept header may ask for and get JSON; anything else (XML, Turtle, HTML alone) is a 406.
ACCEPTABLE = {"application/fhir+json", "application/json", "application/json+fhir", "application/*", "*/*"}


def _response(body, status=200):
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=f"{fhir.FHIR_CONTENT_TYPE}; charset=utf-8"
    )


def _outcome(status, code, diagnostics):
    return _response(fhir.operation_outcome(code, diagnostics), status=status)


def _base_url(request):
    return request.build_absolute_uri("/fhir/")


class Refused(Exception):
    """An answer other than the resource asked for, raised where it is found; `fhir_endpoint`
    answers it as an OperationOutcome (as api/filters.py raises `BadParameter` for DRF's views)."""

    def __init__(self, status, code, diagnostics):
        super().__init__(diagnostics)
        self.status, self.code = status, code


def _not_found(what):
    return Refused(404, "not-found", f"No published {what}.")


def _gone(what):
    return Refused(410, "deleted", f"{what} was withdrawn from the formulary and is no longer published.")


def _accepts_json(request):
    header = request.headers.get("Accept", "").strip()
    if not header:
        return True
    for part in header.split(","):
        media_type, *options = (piece.strip() for piece in part.split(";"))
        if media_type.lower() in ACCEPTABLE and "q=0" not in [o.replace(" ", "") for o in options]:
            return True
    return False


def fhir_endpoint(view):
    """GET and HEAD only (405 otherwise), JSON only (406 otherwise), the API's rate limit (429),
    and a refused search a 400 OperationOutcome.

    csrf_exempt, because Django's CSRF check runs before the view and answered
    every write with its HTML 403 page, which no FHIR client can read. It is
    safe: these views change nothing, every method that could (POST, PUT,
    PATCH, DELETE) is refused below, and GET and HEAD are never CSRF-checked.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ALLOWED_METHODS:
            response = _outcome(
                405, "not-supported", f"{request.method[:20]} is not supported: this FHIR server is read-only."
            )
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            return response
        if not _accepts_json(request):
            return _outcome(406, "not-supported", "Only JSON is served: Accept application/fhir+json.")
        throttle = ClientRateThrottle()
        if not throttle.allow_request(request, None):
            wait = int((throttle.wait() or 1) + 0.999)
            response = _outcome(429, "throttled", f"Too many requests; try again in {wait} seconds.")
            response["Retry-After"] = str(wait)
            return response
        try:
            return view(request, *args, **kwargs)
        except fhir_search.SearchError as error:
            code = "invalid" if error.status == 400 else "not-supported"
            return _outcome(error.status, code, str(error))
        except Refused as error:
            return _outcome(error.status, error.code, str(error))

    return wrapper


# --- Caching ---


def _conditional(request, build, *, etag, last_modified=None):
    """304 when the client's copy is current, else the built response; with the caching headers."""
    return http_cache.conditional_response(
        request, etag=etag, last_modified=last_modified, render=lambda: _response(build())
    )


def _version_etag(request, edition):
    # FHIR's convention: the weak ETag of a resource carries its version id.
    return http_cache.make_etag(request.build_absolute_uri(), edition.pk, version_id=edition.number, per_language=False)


def _read(request, edition, build):
    return _conditional(request, build, etag=_version_etag(request, edition), last_modified=edition.published_at)


# --- Capability ---


@fhir_endpoint
def metadata(request):
    fhir_search.check_plain(request.GET, allowed=("mode",))
    base = _base_url(request)
    changed = selectors.formulary_last_changed()
    statement = fhir_search.capability_statement(
        base,
        date=(changed or timezone.now()).isoformat(),
        software_version=settings.SPECTACULAR_SETTINGS.get("VERSION", "1"),
    )
    etag = http_cache.make_etag(base, "metadata", changed, weak=True, per_language=False)
    return _conditional(request, lambda: statement, etag=etag)


@fhir_endpoint
def search_parameter_read(request, pk):
    fhir_search.check_plain(request.GET)
    for resource_type, spec in fhir_search.own_parameters():
        if fhir_search.search_parameter_id(resource_type, spec) == pk:
            return _response(fhir_search.search_parameter(resource_type, spec, _base_url(request)))
    raise _not_found(f"SearchParameter with id {pk[:40]}")


@fhir_endpoint
def not_found(request, path=""):
    """Any other address under /fhir/ (an unknown resource type, a trailing slash, /fhir/ itself)."""
    return _outcome(404, "not-found", f"Nothing at /fhir/{path[:100]}; see /fhir/metadata for what is served.")


# --- Reads, versions and history ---


@fhir_endpoint
def medication_knowledge_read(request, pk):
    fhir_search.check_plain(request.GET)
    entry_id = filters.as_id(pk)
    edition = selectors.live_edition_for_entry(entry_id) if entry_id else None
    if edition is None:
        if entry_id and selectors.went_live_editions(entry_id):
            raise _gone(f"MedicationKnowledge/{entry_id}")
        raise _not_found(f"MedicationKnowledge with id {pk[:40]}")
    return _read(request, edition, lambda: fhir.medication_knowledge(edition, base_url=_base_url(request)))


def _knowledge_versions(request, pk):
    """[(edition, its MedicationKnowledge to build)] of every edition of the entry that went live,
    newest first; 404 for none, 410 when the entry was withdrawn."""
    entry_id = filters.as_id(pk)
    editions = selectors.went_live_editions(entry_id) if entry_id else []
    if not editions:
        raise _not_found(f"MedicationKnowledge with id {pk[:40]}")
    if selectors.live_edition_for_entry(entry_id) is None:
        raise _gone(f"MedicationKnowledge/{entry_id}")
    base = _base_url(request)
    return [(e, partial(fhir.medication_knowledge, e, base_url=base)) for e in editions]


@fhir_endpoint
def medication_knowledge_vread(request, pk, vid):
    fhir_search.check_plain(request.GET)
    return _vread(request, _knowledge_versions(request, pk), f"MedicationKnowledge/{pk}", vid)


@fhir_endpoint
def medication_knowledge_history(request, pk):
    fhir_search.check_plain(request.GET)
    return _history(request, _knowledge_versions(request, pk))


def _strength_in(edition, strength_id):
    for product in edition.content.get("products", []):
        for strength in product.get("strengths", []):
            if strength.get("id") == strength_id:
                return product, strength
    return None


@fhir_endpoint
def medication_read(request, pk):
    fhir_search.check_plain(request.GET)
    strength_id = filters.as_id(pk)
    found = selectors.live_strength(strength_id) if strength_id else None
    if found is None:
        if strength_id and selectors.entry_of_published_strength(strength_id):
            raise _gone(f"Medication/{strength_id}")
        raise _not_found(f"Medication with id {pk[:40]}")
    edition, product, strength = found
    return _read(request, edition, lambda: fhir.medication(edition, product, strength, base_url=_base_url(request)))


def _medication_versions(request, pk):
    """[(edition, its Medication to build)] of every edition that went live with this strength,
    newest first; 404 for none, 410 when the strength was withdrawn."""
    strength_id = filters.as_id(pk)
    entry_id = selectors.entry_of_published_strength(strength_id) if strength_id else None
    if entry_id is None:
        raise _not_found(f"Medication with id {pk[:40]}")
    if selectors.live_strength(strength_id) is None:
        raise _gone(f"Medication/{strength_id}")
    base = _base_url(request)
    versions = []
    for edition in selectors.went_live_editions(entry_id):
        found = _strength_in(edition, strength_id)
        if found:
            versions.append((edition, partial(fhir.medication, edition, *found, base_url=base)))
    return versions


@fhir_endpoint
def medication_vread(request, pk, vid):
    fhir_search.check_plain(request.GET)
    return _vread(request, _medication_versions(request, pk), f"Medication/{pk}", vid)


@fhir_endpoint
def medication_history(request, pk):
    fhir_search.check_plain(request.GET)
    return _history(request, _medication_versions(request, pk))


def _vread(request, versions, resource, vid):
    """The version numbered `vid` of a resource's `versions` (`_knowledge_versions`), or a 404."""
    number = filters.as_id(vid)
    found = next(((edition, build) for edition, build in versions if edition.number == number), None)
    if found is None:
        raise _not_found(f"version {vid[:20]} of {resource}")
    return _read(request, *found)


def _history(request, versions):
    """A history Bundle of a resource's `versions` (`_knowledge_versions`), newest first (FHIR's order)."""
    base = _base_url(request)
    editions = [edition for edition, _build in versions]
    oldest = editions[-1].number
    entries = []
    for edition, build in versions:
        resource = build()
        url = f"{resource['resourceType']}/{resource['id']}"
        first = edition.number == oldest
        entries.append(
            {
                "fullUrl": f"{base}{url}",
                "resource": resource,
                "request": {"method": "POST" if first else "PUT", "url": url},
                "response": {
                    "status": "201 Created" if first else "200 OK",
                    "etag": f'W/"{edition.number}"',
                    "lastModified": edition.published_at.isoformat(),
                },
            }
        )
    now = timezone.now()
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": editions[0].published_at.isoformat()},
        "type": "history",
        "timestamp": now.isoformat(),
        "total": len(entries),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": entries,
    }
    etag = http_cache.make_etag(request.build_absolute_uri(), *(e.pk for e in editions), weak=True, per_language=False)
    return _conditional(request, lambda: bundle, etag=etag, last_modified=editions[0].published_at)


# --- Search ---


def _searchset(request, search, *, total, resources, newest):
    """A searchset Bundle with paging links that keep every other parameter as given."""

    def link(relation, offset):
        query = QueryDict(mutable=True)
        for name, values in request.GET.lists():
            if name != "_offset":
                query.setlist(name, values)
        if offset:
            query["_offset"] = str(offset)
        return {"relation": relation, "url": request.build_absolute_uri(f"{request.path}?{query.urlencode()}")}

    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if not search.count_only and total:
        count, offset = search.count, search.offset
        last = (total - 1) // count * count
        links.append(link("first", 0))
        if offset > 0:
            links.append(link("previous", max(offset - count, 0)))
        if offset + count < total:
            links.append(link("next", offset + count))
        links.append(link("last", last))
    now = timezone.now()
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": (newest or now).isoformat()},
        "type": "searchset",
        "timestamp": now.isoformat(),
    }
    if search.total != "none" or search.count_only:
        bundle["total"] = total
    bundle["link"] = links
    if resources:
        base = _base_url(request)
        bundle["entry"] = [
            {
                "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
                "resource": fhir_search.subset(r, search),
                "search": {"mode": "match"},
            }
            for r in resources
        ]
    return bundle


def _parse(resource_type, request):
    prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
    return fhir_search.parse(resource_type, request.GET, lenient="handling=lenient" in prefer.split(","))


def _search_etag(request, identities):
    """Weak: the same editions at the same address are the same answer, whatever its bundle id and
    timestamp (which differ on every response)."""
    query = sorted((name, value) for name, values in request.GET.lists() for value in values)
    return http_cache.make_etag(
        request.path, query, request.get_host(), request.scheme, identities, weak=True, per_language=False
    )


@fhir_endpoint
def medication_knowledge_search(request):
    """Search published entries; without parameters, all of them, in generic-name order."""
    search = _parse("MedicationKnowledge", request)
    editions = fhir_search.filter_editions(search, selectors.live_editions()).order_by("generic_name", "entry_id")
    ids = list(editions.values_list("pk", flat=True))

    def build():
        page = [] if search.count_only else ids[search.offset : search.offset + search.count]
        by_id = selectors.live_editions_in_bulk(page)
        base = _base_url(request)
        resources = [fhir.medication_knowledge(by_id[pk], base_url=base) for pk in page if pk in by_id]
        newest = selectors.live_editions().filter(pk__in=ids).aggregate(newest=Max("live_state__live_since"))["newest"]
        return _searchset(request, search, total=len(ids), resources=resources, newest=newest)

    return _conditional(request, build, etag=_search_etag(request, ids))


@fhir_endpoint
def medication_search(request):
    """Search the strengths of published entries (one Medication each), in strength-id order."""
    search = _parse("Medication", request)
    items = [
        fhir_search.StrengthItem(edition, product, strength)
        for edition in fhir_search.candidate_editions(search, selectors.live_editions())
        for product in edition.content.get("products", [])
        for strength in product.get("strengths", [])
    ]
    found = sorted((i for i in items if fhir_search.matches(search, i)), key=lambda i: i.strength["id"])
    identities = [(i.edition.pk, i.strength["id"]) for i in found]

    def build():
        page = [] if search.count_only else found[search.offset : search.offset + search.count]
        base = _base_url(request)
        resources = [fhir.medication(i.edition, i.product, i.strength, base_url=base) for i in page]
        newest = max((i.edition.published_at for i in found), default=None)
        return _searchset(request, search, total=len(found), resources=resources, newest=newest)

    return _conditional(request, build, etag=_search_etag(request, identities))
