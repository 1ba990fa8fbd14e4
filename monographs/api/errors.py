"""JSON errors with a reason, for every failure the API can give.

Clients get `{"error": <code>, "detail": <reason>}` (plus `parameter` for a bad
query parameter), never an HTML page and never a 500 for bad input.
"""

from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, Throttled
from rest_framework.views import exception_handler as drf_exception_handler


class BadParameter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_parameter"

    def __init__(self, parameter, reason):
        self.parameter = parameter
        super().__init__(detail=reason, code="bad_parameter")


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, BadParameter):
        body = {"error": "bad_parameter", "parameter": exc.parameter, "detail": str(exc.detail)}
    elif isinstance(exc, NotFound):
        body = {"error": "not_found", "detail": str(exc.detail)}
    elif isinstance(exc, Http404):
        # DRF raises it for a `format` it has no renderer for (?format=api): JSON is the only one.
        request = context.get("request")
        asked = request is not None and "format" in request.query_params
        detail = "Only JSON is served; leave out the format parameter." if asked else "Not found."
        body = {"error": "not_found", "detail": detail}
    elif isinstance(exc, Throttled):
        body = {"error": "throttled", "detail": str(exc.detail), "retry_after": exc.wait and int(exc.wait + 0.999)}
    elif isinstance(exc, APIException):
        detail = exc.detail if isinstance(exc.detail, str) else exc.get_full_details()
        body = {"error": getattr(exc, "default_code", "error"), "detail": detail}
    else:
        body = response.data
    response.data = body
    return response
