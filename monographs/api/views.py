"""Read-only REST API over published editions, under /api/v1/.

Every view reads through `selectors` (live editions only) and renders
`Edition.content`, so drafts, never-published and withdrawn entries cannot
appear. Parameters are checked before any query; bad ones give a 400 with the
reason (see `errors`).
"""

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.template.loader import get_template
from django.urls import Resolver404, resolve
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import http_cache, search, selectors
from ..search import MAX_QUERY_LENGTH
from ..vocabulary import FormularyStatus, LegalClass
from . import filters
from .serializers import (
    EntryDetailSerializer,
    EntryPageSerializer,
    ErrorSerializer,
    entry_record,
)

# Bounds in the description match what the filters accept, so a request valid by the schema is
# accepted (schemathesis checks exactly that): no empty or blank text, no NUL, lengths in range.
_TEXT_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
# ISO 8601 dates of 1900–2099 with an optional time and a real UTC offset (-12:00 … +14:00).
_DATE_PATTERN = (
    "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    "(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+]14:00|-14:00)?)?$"
)


def _text(max_length):
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": _TEXT_PATTERN}


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": filters.MAX_ID},
        description="Page number, from 1. A page after the last is a 404.",
        examples=[OpenApiExample("first page", value=1)],
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": filters.MAX_PAGE_SIZE},
        description=f"Entries per page, 1 to {filters.MAX_PAGE_SIZE} (default {filters.DEFAULT_PAGE_SIZE}).",
        examples=[OpenApiExample("ten per page", value=10)],
    ),
]
_ERROR_EXAMPLE = OpenApiExample(
    "bad parameter",
    value={"error": "bad_parameter", "parameter": "page_size", "detail": "page_size can be at most 200."},
    status_codes=["400"],
)
# Conditional GET: documented on every successful answer and on the 304.
CACHING_HEADERS = [
    OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="Identifies this answer; send it back as If-None-Match to get a 304 when nothing changed.",
    ),
    OpenApiParameter(
        "Last-Modified",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="When the formulary (or the entry) last changed; for If-Modified-Since.",
    ),
]
ERROR_RESPONSES = {
    304: OpenApiResponse(description="Not Modified: the ETag (If-None-Match) or date (If-Modified-Since) is current."),
    400: OpenApiResponse(ErrorSerializer, description="A bad parameter; `detail` says why.", examples=[_ERROR_EXAMPLE]),
    404: OpenApiResponse(ErrorSerializer, description="Nothing here (an unknown entry, or a page after the last)."),
    405: OpenApiResponse(ErrorSerializer, description="Any method but GET and HEAD (OPTIONS included)."),
    406: OpenApiResponse(ErrorSerializer, description="An Accept header without JSON; only JSON is served."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests; retry after `Retry-After` seconds."),
    503: OpenApiResponse(
        ErrorSerializer, description="The database is unavailable for a moment; retry after `Retry-After`."
    ),
}
CONDITIONAL_NOTE = (
    " Responses carry ETag and Last-Modified; send If-None-Match or If-Modified-Since to get 304 Not Modified "
    "when nothing changed."
)


def _paginated(request, editions, params):
    page_size = filters.parse_positive_int(params, "page_size", filters.DEFAULT_PAGE_SIZE, filters.MAX_PAGE_SIZE)
    number = filters.parse_positive_int(params, "page", 1, filters.MAX_ID)
    # A queryset from the filters, or the ranked list of editions from search.
    edition_ids = (
        list(editions.pks) if isinstance(editions, search.Results) else list(editions.values_list("pk", flat=True))
    )
    paginator = Paginator(edition_ids, page_size)
    try:
        page = paginator.page(number)
    except EmptyPage:
        # Not a bad parameter: any page number can be asked for, and this one has no entries (now).
        raise NotFound(f"Page {number} does not exist; there are {paginator.num_pages}.") from None

    etag = http_cache.make_etag(request.build_absolute_uri(), page_size, number, ",".join(map(str, edition_ids)))

    def render():
        by_id = selectors.live_editions_in_bulk(page.object_list)
        results = [entry_record(by_id[pk], request=request) for pk in page.object_list if pk in by_id]

        def link(n):
            query = request.GET.copy()
            query["page"] = str(n)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        body = {
            "count": paginator.count,
            "page": number,
            "page_size": page_size,
            "num_pages": paginator.num_pages,
            "next": link(number + 1) if page.has_next() else None,
            "previous": link(number - 1) if page.has_previous() else None,
            "results": results,
        }
        return Response(EntryPageSerializer(body).data)

    return http_cache.conditional_response(
        request, etag=etag, last_modified=selectors.formulary_last_changed(), render=render
    )


class ReadOnlyAPIView(APIView):
    """GET and HEAD only. OPTIONS too is a 405 in the documented error shape: DRF would answer it
    with its own metadata, which the API does not document."""

    http_method_names = ["get", "head"]


class SchemaView(SpectacularAPIView):
    http_method_names = ["get", "head"]


def _template_style_hash(name):
    """The CSP hash of the one inline <style> of a template, so that only it is allowed."""
    source = get_template(name).template.source
    style = re.search(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    digest = hashlib.sha256(style.group(1).encode("utf-8")).digest() if style else b""
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@method_decorator(csp_update({"style-src": [_template_style_hash("drf_spectacular/swagger_ui.html")]}), name="dispatch")
class DocsView(SpectacularSwaggerSplitView):
    """The human API page (Swagger UI), from the app's own static files (drf-spectacular-sidecar):
    no internet needed. The split view loads its start-up script from this address (?script),
    not inline, so the site's CSP (script-src 'self') stays as it is."""

    http_method_names = ["get", "head"]
    url_name = "api:schema"


@csrf_exempt
def not_found(request, path=""):
    """Any other address under /api/: the documented JSON 404, not the site's HTML page.

    Django's APPEND_SLASH cannot see a missing slash once this catch-all matches, so it is done
    here: an address that exists with a slash is redirected there, as on the rest of the site."""
    if settings.APPEND_SLASH and not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            match = resolve(f"{request.path}/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not-found":
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{request.path}/" + (f"?{query}" if query else ""))
    return JsonResponse(
        {"error": "not_found", "detail": f"Nothing at {request.path[:200]}; the API is described at /api/v1/schema/."},
        status=404,
    )


class EntryListView(ReadOnlyAPIView):
    @extend_schema(
        operation_id="entries_list",
        summary="List published entries",
        description=(
            "Published entries in generic-name order, paginated. Filters combine with AND. For incremental sync, "
            "pass the time of your last sync as `updated_since`; withdrawn entries simply stop appearing, so a "
            "full sync (no filter) now and then finds removals." + CONDITIONAL_NOTE
        ),
        parameters=[
            OpenApiParameter(
                "drug_class",
                _text(filters.MAX_DRUG_CLASS_LENGTH),
                description="Drug class, exact but case-insensitive.",
                examples=[OpenApiExample("biguanides", value="Biguanide")],
            ),
            OpenApiParameter(
                "formulary_status",
                OpenApiTypes.STR,
                enum=FormularyStatus.values,
                description="Entries with at least one product of this HA formulary status.",
            ),
            OpenApiParameter(
                "legal_classification",
                OpenApiTypes.STR,
                enum=LegalClass.values,
                description="Entries with at least one product of this legal classification.",
            ),
            OpenApiParameter(
                "updated_since",
                {"type": "string", "pattern": _DATE_PATTERN},
                description="ISO 8601 date or date-time; entries whose edition was approved at or after it. "
                "A date means midnight Hong Kong time; a date-time without offset is Hong Kong time.",
                examples=[
                    OpenApiExample("date", value="2026-01-31"),
                    OpenApiExample("date-time", value="2026-01-31T08:00:00+08:00"),
                ],
            ),
            OpenApiParameter(
                "q",
                _text(MAX_QUERY_LENGTH),
                description="Text in the generic name, synonyms, product (brand) names or drug class, or the ATC code.",
                examples=[OpenApiExample("a name", value="lenalidomide")],
            ),
            *PAGE_PARAMETERS,
            *CACHING_HEADERS,
        ],
        responses={200: EntryPageSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        editions = selectors.live_editions_filtered(**filters.list_filters(request.query_params))
        return _paginated(request, editions, request.query_params)


class SearchView(ReadOnlyAPIView):
    @extend_schema(
        operation_id="entries_search",
        summary="Search published entries",
        description="Entries whose generic name, synonyms (any spelling or language), product (brand) names or drug class contain "
        "the text, or whose ATC code is the text; case-insensitive." + CONDITIONAL_NOTE,
        parameters=[
            OpenApiParameter(
                "q",
                _text(MAX_QUERY_LENGTH),
                required=True,
                description="Text to search for.",
                examples=[OpenApiExample("a brand, misspelt", value="revlimd")],
            ),
            *PAGE_PARAMETERS,
            *CACHING_HEADERS,
        ],
        responses={200: EntryPageSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        # The same ranked, typo-tolerant search as the public pages, best match first.
        editions = search.search(filters.search_text(request.query_params))
        return _paginated(request, editions, request.query_params)


class EntryDetailView(ReadOnlyAPIView):
    @extend_schema(
        operation_id="entries_retrieve",
        summary="One published entry with its sections, products and strengths",
        description="`key` is the entry's id (stable) or its slug." + CONDITIONAL_NOTE,
        parameters=[
            OpenApiParameter(
                "key",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="Entry id or slug.",
                examples=[OpenApiExample("slug", value="lenalidomide")],
            ),
            *CACHING_HEADERS,
        ],
        responses={
            200: EntryDetailSerializer,
            **ERROR_RESPONSES,
            400: OpenApiResponse(ErrorSerializer, description="Query parameters were given; this endpoint takes none."),
            404: OpenApiResponse(ErrorSerializer, description="No published entry with this id or slug."),
        },
    )
    def get(self, request, key):
        filters.check_known(request.query_params, set())
        edition = selectors.live_edition_for_key(entry_id=filters.as_id(key), slug=key)
        if edition is None:
            raise NotFound(f"No published entry with id or slug {key!r}.")
        return http_cache.conditional_response(
            request,
            etag=http_cache.make_etag(request.build_absolute_uri(), edition.pk),
            last_modified=edition.published_at,
            render=lambda: Response(EntryDetailSerializer(entry_record(edition, request=request, detail=True)).data),
        )
