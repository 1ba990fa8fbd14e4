"""Answer 503 with a reason, not a bare 500, while the database is unreachable."""

import datetime
import json
import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

MESSAGE = (
    "The formulary database is unavailable for a moment. Please try again shortly. / "
    "藥物名冊資料庫暫時無法使用，請稍後再試。"
)


DATABASE_ERRORS = (OperationalError, InterfaceError)


def error_in_format(request, *, text, api_code, fhir_code):
    """(body, content type) of an error in the format of the address asked: FHIR's OperationOutcome
    under /fhir/, the REST API's documented `{"error", "detail"}` under /api/, plain text elsewhere
    (`text` is "English / Chinese"; the APIs are English). Built here, without the domain app:
    these errors happen before any view, some while the database is down."""
    path = getattr(request, "path", "") or ""
    english = text.split(" / ")[0]
    if path.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": fhir_code, "diagnostics": english}],
        }
        return json.dumps(outcome), "application/fhir+json; charset=utf-8"
    if path.startswith("/api/"):
        return json.dumps({"error": api_code, "detail": english}), "application/json"
    return text, "text/plain; charset=utf-8"


def _unavailable_body(request):
    return error_in_format(request, text=MESSAGE, api_code="unavailable", fhir_code="transient")


class RequestUriLengthMiddleware:
    """414 in the format of the address for an address longer than FORMULARY_MAX_REQUEST_URI
    characters (path and query as sent). Below gunicorn's limit (8190 bytes, which it answers with
    its own plain page) and nginx's (8 KB), so a client of the REST API or FHIR gets an error it
    can read for any address the servers in front let through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        limit = settings.FORMULARY_MAX_REQUEST_URI
        if len(request.get_full_path()) > limit:
            body, content_type = error_in_format(
                request,
                text=f"The address is longer than {limit} characters. / 網址超過 {limit} 個字元。",
                api_code="uri_too_long",
                fhir_code="too-long",
            )
            return HttpResponse(body, status=414, content_type=content_type)
        return self.get_response(request)


def database_unavailable(exception, request=None):
    """The 503 with the reason and Retry-After, never stored by any cache."""
    logger.warning("database unavailable: %s", exception)
    body, content_type = _unavailable_body(request)
    response = HttpResponse(body, status=503, content_type=content_type)
    response["Retry-After"] = "5"
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """503 for a database error in a view (`process_exception` sees views' exceptions only;
    for the page cache's own queries see `DatabaseCheckedPageCacheMiddleware`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(exception, request)
        return None


class DatabaseCheckedPageCacheMiddleware:
    """The public page cache (`monographs.public_cache.PublicPageCacheMiddleware`) inside the
    503 handling: it reads the publication stamp before any view runs, from the database when
    Redis is off or down, and a database error there was a bare 500 (PostgreSQL and
    Redis both down). No order of MIDDLEWARE can fix that, since Django turns an exception in
    a middleware into a 500 response before the middleware around it sees it, and
    `process_exception` sees views' exceptions only; so this one holds the page cache and
    catches what its own code raises. Whatever the page cache asks the database, now or later,
    is covered; what the view raises is left to `DatabaseUnavailableMiddleware` as before."""

    def __init__(self, get_response):
        # Imported here: the project's middleware must not load the domain app at start-up.
        from monographs.public_cache import PublicPageCacheMiddleware

        self.page_cache = PublicPageCacheMiddleware(get_response)

    def __call__(self, request):
        try:
            return self.page_cache(request)
        except DATABASE_ERRORS as exception:
            return database_unavailable(exception, request)


class RejectNullCharactersMiddleware:
    """Refuse a NUL character in the address with 400.

    PostgreSQL cannot store or compare text containing NUL, so a slug with one
    would otherwise fail deep inside the first query that used it. Query
    parameters are each view's business: search strips NUL, the API refuses it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return HttpResponseBadRequest(
                "Null characters are not allowed in addresses. / 網址不可包含空字元。",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class AdminQueryChecksMiddleware:
    """Refuse, with 400 and the reason, admin query parameters that would otherwise be a 500.

    Django's admin passes query values into queries and date arithmetic with
    few checks of its own, so two kinds of bad value reached PostgreSQL or
    Python's calendar and failed there:

    - a NUL character in any parameter (list filters, search, autocomplete and
      every other admin view): PostgreSQL cannot compare text containing NUL;
    - a date-hierarchy year, month or day outside the calendar (`?created_at__year=99999999999`
      on the audit log, `attempt_time__year=9999` on django-axes' lists).

    One check for the whole admin, by the resolved namespace (so a moved admin,
    `ADMIN_URL`, is covered), instead of one per filter: it covers the filters of
    other apps (users, axes) and the next filter someone adds. A NUL is never a
    legitimate part of an admin address, so refusing the whole request loses
    nothing. Form fields (POST) are left to the forms, which say "Null characters
    are not allowed" next to the field. Outside the admin each view checks its
    own parameters: search strips NUL, the API and FHIR refuse it in their formats.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.resolver_match is None or "admin" not in request.resolver_match.namespaces:
            return None
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                # repr() shows the NUL as \x00 rather than echoing a raw control character.
                shown = repr(name[:50])
                return _bad_request(
                    f"The query parameter {shown} contains a null character, which is not allowed. / "
                    f"查詢參數 {shown} 包含空字元，不獲接受。"
                )
        # ModelAdmin.get_urls marks each of its views with the ModelAdmin it belongs to.
        model_admin = getattr(view_func, "model_admin", None)
        field = getattr(model_admin, "date_hierarchy", None)
        if field and not _date_hierarchy_in_range(request.GET, field):
            return _bad_request(
                f"The date in the address ({field}__year, __month, __day) is outside the calendar; "
                "choose a date from the links above the list. / 網址中的日期超出範圍，請從列表上方的連結選擇日期。"
            )
        return None


def _date_hierarchy_in_range(query, field):
    """Whether the admin's date-hierarchy computation can succeed for this year, month and day.

    Mirrors `ChangeList.get_filters`: it builds the first moment shown, then the
    end of the day, month or year. Django turns a ValueError in the first step
    into its own "invalid lookup" redirect, but an OverflowError (a 20-digit
    year) or any error in the second step (year 9999 has no following year)
    escapes as a 500.
    """
    year = query.get(f"{field}__year")
    if year is None:
        return True
    month, day = query.get(f"{field}__month"), query.get(f"{field}__day")
    try:
        start = datetime.datetime(int(year), int(month or 1), int(day or 1))
        if day:
            start + datetime.timedelta(days=1)
        elif month:
            start + datetime.timedelta(days=32)
        else:
            start.replace(year=start.year + 1)
    except (ValueError, OverflowError):
        return False
    return True


def _bad_request(message):
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


EDITOR_MARKER_COOKIE = "formulary_editor"


class EditorMarkerMiddleware:
    """Keep a cookie-free public site while letting editors find their "Edit this entry" link.

    On admin responses only, a signed-in user who may change entries gets a plain marker
    cookie (no secret in it: it only tells the public page's script that asking is worth
    it); anyone else has it removed. Public responses are never touched, so they set no
    cookie and stay the same for every visitor (cacheable). The link itself comes from
    `monographs.views.edit_link`, which checks the session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or match.namespace != "admin":
            return response
        user = getattr(request, "user", None)
        # Imported here: the project's middleware must not load the domain app at start-up.
        from monographs import workflow

        may_edit = bool(user and user.is_authenticated and workflow.can_edit(user, None))
        has_marker = EDITOR_MARKER_COOKIE in request.COOKIES
        if may_edit and not has_marker:
            # Not HttpOnly on purpose: the public page's script reads it. It grants nothing.
            response.set_cookie(EDITOR_MARKER_COOKIE, "1", samesite="Lax", secure=request.is_secure())
        elif not may_edit and has_marker:
            response.delete_cookie(EDITOR_MARKER_COOKIE, samesite="Lax")
        return response
