"""What any HTTP cache may do with a public response: validators, conditional GET, Cache-Control.

One module for the public pages, the REST API and FHIR, so that all three answer a client's
If-None-Match / If-Modified-Since the same way and all follow FORMULARY_PUBLIC_MAX_AGE:

- `make_etag`: a digest of what a response shows, under the representation version (derived
  from the code, templates and translations, so a deployment that changes any of them changes
  every ETag) and the language.
- `conditional_response`: 304 when the client's copy is current (Django's
  `get_conditional_response`), else the rendered response; either way with the validators and
  `set_cache_control`.
- `set_cache_control`: `public, no-cache` (every use revalidated, so a withdrawal is seen at
  once), or `public, max-age=N` with FORMULARY_PUBLIC_MAX_AGE=N; errors `no-store`.
- `stamped`: the validators of a page that can list any entry, from the formulary's
  publication stamp (`publication.publication_stamp`), read once per request.
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views.decorators.http import condition

from . import publication

# Statuses any cache may keep: a page, its 304, a redirect (the search's to an entry).
PUBLIC_STATUSES = {200, 301, 302, 304}


def _representation_digest():
    """A digest of everything that shapes a public response: the app's code (views, template
    tags, serializers…), the templates and the compiled translations. Derived, so no version
    number has to be remembered: any deployment that changes one of them changes every ETag and
    every shared-cache key, and no response of the old code outlives the upgrade."""
    digest = hashlib.sha256()
    app = Path(__file__).resolve().parent
    roots = [
        (app, (".py",)),
        (Path(settings.BASE_DIR) / "templates", (".html", ".txt")),
        *((Path(root), (".mo",)) for root in settings.LOCALE_PATHS),
    ]
    for root, suffixes in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in suffixes and path.is_file() and "migrations" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


REPRESENTATION_VERSION = _representation_digest()


def make_etag(*parts, weak=False, version_id=None, per_language=True):
    """The ETag of a response showing `parts`, in the request's language unless `per_language`
    is False (FHIR's resources are English whatever the client accepts). `version_id` makes it
    FHIR's weak form carrying the resource's version (`W/"<version>-<digest>"`)."""
    digest = hashlib.sha256()
    for part in (REPRESENTATION_VERSION, get_language() if per_language else "", *parts):
        digest.update(str(part).encode("utf-8"))
        digest.update(b"\x00")
    if version_id is not None:
        return f'W/"{version_id}-{digest.hexdigest()[:12]}"'
    return f'{"W/" if weak else ""}"{digest.hexdigest()[:32]}"'


def max_age():
    return max(settings.FORMULARY_PUBLIC_MAX_AGE, 0)


def set_cache_control(response):
    """Public for pages, API answers and their redirects; never stored for errors and refusals
    (404, 400, 429…). A Cache-Control the view set itself is kept."""
    if response.status_code in PUBLIC_STATUSES:
        if not response.has_header("Cache-Control"):
            seconds = max_age()
            if seconds:
                patch_cache_control(response, public=True, max_age=seconds)
            else:
                patch_cache_control(response, public=True, no_cache=True)
    else:
        add_never_cache_headers(response)
    return response


def conditional_response(request, *, etag, last_modified, render):
    """A 304 when the client's copy is current, else `render()`; either way with the ETag,
    Last-Modified and Cache-Control. `request` may be Django's or REST framework's."""
    timestamp = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(getattr(request, "_request", request), etag=etag, last_modified=timestamp)
    if response is None:
        response = render()
    response["ETag"] = etag
    if timestamp:
        response["Last-Modified"] = http_date(timestamp)
    return set_cache_control(response)


def request_stamp(request):
    """The formulary's publication stamp, read once per request (the shared page cache and the
    view's validators share it)."""
    if not hasattr(request, "formulary_stamp"):
        request.formulary_stamp = publication.publication_stamp()
    return request.formulary_stamp


def _stamp_etag(request, *args, **kwargs):
    # The day is part of it: the changes page and its feed show "this quarter so far".
    return make_etag("stamp", str(request_stamp(request)), timezone.localdate())


def _stamp_last_modified(request, *args, **kwargs):
    return request_stamp(request).changed_at


def stamped(view):
    """ETag and Last-Modified from the publication stamp, 304 when the client's copy is current."""
    return condition(etag_func=_stamp_etag, last_modified_func=_stamp_last_modified)(view)


def edition_validators(edition, *, variant="edition"):
    """(ETag, Last-Modified) of a page showing one live edition (or its `variant`, e.g. the
    both-languages view): the edition, when it was approved and went live, the language."""
    return make_etag(variant, edition.pk, edition.approved_at.timestamp()), edition.published_at
