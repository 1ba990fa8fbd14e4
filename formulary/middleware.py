"""Answer 503 with a reason, not a bare 500, while the database is unreachable."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

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
