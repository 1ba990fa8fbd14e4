"""Caching headers and conditional GET for polling clients.

Published editions never change, so a response is determined by which
editions it shows and the address asked for. The ETag hashes exactly that, and
is computed from ids alone before any content is loaded; Last-Modified is the
last publication or withdrawal anywhere in the formulary (a withdrawal removes
an entry, so it must count as a change too).
"""

import hashlib

from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import get_language

API_REPRESENTATION_VERSION = "1"
CACHE_CONTROL = "public, no-cache"


def make_etag(request, *parts):
    digest = hashlib.sha256()
    # Labels follow the request's language (Accept-Language), so the language is part of the representation.
    for part in (API_REPRESENTATION_VERSION, get_language(), request.build_absolute_uri(), *parts):
        digest.update(str(part).encode("utf-8"))
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:40]}"'


def not_modified(request, *, etag, last_modified):
    """A 304 response if the client's copy is current, else None."""
    timestamp = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(getattr(request, "_request", request), etag=etag, last_modified=timestamp)
    if response is not None:
        set_headers(response, etag=etag, last_modified=last_modified)
    return response


def set_headers(response, *, etag, last_modified):
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = CACHE_CONTROL
    return response
