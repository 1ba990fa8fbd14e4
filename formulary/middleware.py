"""Answer 503 with a reason, not a bare 500, while the database is unreachable."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest

logger = logging.getLogger(__name__)

MESSAGE = (
    "The formulary database is unavailable for a moment. Please try again shortly. / "
    "藥物名冊資料庫暫時無法使用，請稍後再試。"
)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exception)
            response = HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = "5"
            return response
        return None


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
