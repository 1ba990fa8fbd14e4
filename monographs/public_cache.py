"""Caching of the public pages: HTTP validators and headers, and the shared full-response cache.

Public pages are the same for every visitor (the language is in the address, no cookie,
no CSRF token), so any cache may keep them. Three pieces, all Django's own:

- **The publication stamp** (`selectors.publication_stamp`): PostgreSQL's publication
  counter, incremented inside every publishing transaction (approval, scheduled go-live,
  withdrawal), with the database's identity. Read once per request from the database,
  never from Redis: PostgreSQL is the truth and Redis only a copy, so no publication depends
  on a Redis write, and a page cached before it is unreachable the moment it commits,
  whichever process (a web worker, `publish_scheduled`) made it and whatever Redis was doing.
- **HTTP caching**: lists, search, changes and the other stamp-based pages get an ETag
  and Last-Modified from the stamp (`stamped`, Django's `condition` decorator); the entry
  page from its live edition (`entry_validators`). Conditional GETs get 304.
  `Cache-Control: public, no-cache` (every use revalidated, so a withdrawal is seen at
  once), or `public, max-age=N` with FORMULARY_PUBLIC_MAX_AGE=N; errors are `no-store`.
- **The shared full-response cache** (`PublicPageCacheMiddleware`): with REDIS_URL (or
  PAGE_CACHE_REDIS_URL), GET responses of public pages (200, and the search's redirect to a
  registration number) are kept in Redis, keyed by Django's `get_cache_key`/`learn_cache_key`
  (the absolute address, hashed, and the language) under a prefix holding the stamp, the day
  and the page version; the cache's KEY_PREFIX names the install (FORMULARY_CACHE_PREFIX,
  by default derived from the database's address and name). A new stamp makes every older
  response unreachable; they expire after FORMULARY_PUBLIC_CACHE_SECONDS. A hit runs no view
  and no template: one SQL read (the stamp) and one Redis read.

What an outsider can make the cache hold is bounded: only the configured host
(`FORMULARY_PUBLIC_CACHE_HOSTS`, by default FORMULARY_SITE_URL's), only the query parameters
each page reads, and only values that name something real — a view that was given a page
number out of range, a letter with no entries or dates outside the formulary's history calls
`not_shared(request)`. The deploy runs this cache on a Redis with `maxmemory` and
`allkeys-lru`, apart from the rate-limit counters (`docs/operations.md`).

A Redis failure is never an error page: the page is rendered without the cache and a
warning logged; the cache is not asked again for RETRY_AFTER_FAILURE_SECONDS.
"""

import hashlib
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_cache_key,
    get_conditional_response,
    learn_cache_key,
    patch_cache_control,
)
from django.utils.http import http_date, parse_http_date_safe, urlencode
from django.utils.translation import get_language
from django.views.decorators.http import condition
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_ALIAS = "public"  # settings.CACHES: Redis with REDIS_URL, else a dummy cache (off)
RETRY_AFTER_FAILURE_SECONDS = 5
# Change when a page's output changes other than through templates or translations
# (view code, template tags); templates and compiled translations are hashed below.
PAGE_VERSION = "1"
# Public pages never kept in the shared cache: the booklets are large PDFs with their own cache.
UNCACHED_VIEWS = {"booklet", "class_booklet"}
# Says whether the shared cache served a public page ("hit") or the app rendered one it may
# keep ("miss"); absent when the shared cache is off. For operators and bench/run.py's hit ratio.
CACHE_STATUS_HEADER = "X-Formulary-Cache"
PUBLIC_NAMESPACE = "monographs"
# The query parameters each page reads. A request with any other parameter is answered as
# usual but not kept: otherwise `?x=1`, `?x=2`… would each fill Redis with a copy of the page.
PAGE_PARAMETERS = {
    "entry_list": {"letter", "status", "changed", "page"},
    "class_detail": {"status", "changed", "page"},
    "search": {"q", "page"},
    "changes": {"from", "to"},
    "changes_feed": {"language"},
}
# Statuses a shared cache may keep: a page, its 304, the search's redirect to an entry.
PUBLIC_STATUSES = {200, 301, 302, 304}

_store_down_until = 0.0


def _page_files_digest():
    """A digest of the templates and compiled translations, so a deployment that changes
    either changes every ETag and cache key (no old page outlives an upgrade)."""
    digest = hashlib.sha256(PAGE_VERSION.encode())
    roots = [Path(settings.BASE_DIR) / "templates", *map(Path, settings.LOCALE_PATHS)]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".html", ".txt", ".mo") and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


TEMPLATE_VERSION = _page_files_digest()


def shared_cache_enabled():
    return bool(settings.PAGE_CACHE_REDIS_URL or settings.REDIS_URL)


def shared_hosts():
    """The Host headers (name and port, as sent) whose pages the shared cache keeps: every
    other spelling of the address (`:1`, `:2`…, a second name) is served but not kept."""
    return set(settings.FORMULARY_PUBLIC_CACHE_HOSTS)


def not_shared(request):
    """Say that this page must not be kept in the shared cache: a view calls it when a
    parameter it was given names nothing real (a page out of range, a letter without
    entries, dates outside the formulary's history), so random values cannot fill Redis."""
    request.formulary_not_shared = True


def max_age():
    return max(settings.FORMULARY_PUBLIC_MAX_AGE, 0)


def cache_seconds():
    return max(settings.FORMULARY_PUBLIC_CACHE_SECONDS, 0)


def max_bytes():
    return settings.FORMULARY_PUBLIC_CACHE_MAX_BYTES


# --- Talking to Redis: every call goes through here, so an outage is one code path. ---


def _store():
    """The shared cache, or None when it is off or was failing a moment ago."""
    if not shared_cache_enabled() or time.monotonic() < _store_down_until:
        return None
    return caches[CACHE_ALIAS]


def retry_now():
    """Ask the shared cache again at the next request instead of after the back-off."""
    global _store_down_until
    _store_down_until = 0.0


def _failed(error):
    global _store_down_until
    _store_down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
    logger.warning("shared page cache unavailable, pages are rendered without it: %s", error)


# --- The publication stamp. ---


def publication_stamp():
    """The current stamp (`selectors.PublicationStamp`), from PostgreSQL."""
    from . import selectors

    return selectors.publication_stamp()


def request_stamp(request):
    """The stamp, read once per request (the middleware and the view's validators share it)."""
    if not hasattr(request, "formulary_stamp"):
        request.formulary_stamp = publication_stamp()
    return request.formulary_stamp


# --- HTTP validators. ---


def make_etag(*parts):
    digest = hashlib.sha256()
    for part in (TEMPLATE_VERSION, get_language(), *parts):
        digest.update(str(part).encode("utf-8"))
        digest.update(b"\x00")
    return f'"{digest.hexdigest()[:32]}"'


def _stamp_etag(request, *args, **kwargs):
    # The day is part of it: the changes page and its feed show "this quarter so far".
    return make_etag("stamp", str(request_stamp(request)), timezone.localdate())


def _stamp_last_modified(request, *args, **kwargs):
    return request_stamp(request).changed_at


def stamped(view):
    """ETag and Last-Modified from the publication stamp, 304 when the client's copy is current."""
    return condition(etag_func=_stamp_etag, last_modified_func=_stamp_last_modified)(view)


def entry_validators(edition, *, variant="edition"):
    """(ETag, Last-Modified) of an entry page (or its `variant`, e.g. the both-languages view):
    its live edition, when it went live, the language."""
    return make_etag(variant, edition.pk, edition.approved_at.timestamp()), edition.published_at


def conditional_response(request, *, etag, last_modified, render):
    """A 304 when the client's copy is current (Django's `get_conditional_response`), else
    `render()`; either way with the validators set."""
    timestamp = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is None:
        response = render()
    response.headers.setdefault("ETag", etag)
    if timestamp:
        response.headers.setdefault("Last-Modified", http_date(timestamp))
    return response


def set_cache_control(response):
    """Public for pages and their redirects; never stored for errors and refusals (404, 400, 429…)."""
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


# --- The middleware. ---


def _public_view_name(request):
    """The URL name of a public page (monographs namespace), or None."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None, None
    if PUBLIC_NAMESPACE not in match.namespaces:
        return None, None
    return match.url_name, match.func


def _canonical_query(request):
    """Whether the query string is written as the site's own links write it (each parameter
    once, encoded as `urlencode` encodes it): `?&&&`, `?page=%31` or `?q=%6cenalidomide` ask for
    the same page as a canonical address and must not each be stored as a copy of it."""
    raw = request.META.get("QUERY_STRING", "")
    return raw == urlencode(list(request.GET.items()))


class PublicPageCacheMiddleware:
    """Cache headers on every public page; with REDIS_URL, whole responses shared by all servers.

    Placed after LocaleMiddleware (the language is taken from the address first) and before
    the CSRF, authentication and message middleware, which a hit skips.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name, view = _public_view_name(request)
        if name is None:
            return self.get_response(request)
        cacheable = (
            request.method == "GET"
            and name not in UNCACHED_VIEWS
            and shared_cache_enabled()
            and request.get_host() in shared_hosts()
            and _canonical_query(request)
            and all(key in PAGE_PARAMETERS.get(name, ()) and len(values) == 1 for key, values in request.GET.lists())
        )
        if cacheable:
            hit = self._fetch(request)
            if hit is not None:
                # A guard a view runs before anything else (the search throttle) still runs.
                guard = getattr(view, "before_cached_response", None)
                refusal = guard(request) if guard is not None else None
                if refusal is not None:
                    return set_cache_control(refusal)
                response = self._conditional(request, hit)
                response[CACHE_STATUS_HEADER] = "hit"
                return set_cache_control(response)
        response = self.get_response(request)
        set_cache_control(response)
        if cacheable and self._may_store(request, response):
            self._save(request, response)
        if cacheable:
            # Set after storing, so a stored copy never says "miss" when served.
            response[CACHE_STATUS_HEADER] = "miss"
        return response

    def _key_prefix(self, request):
        return f"public.{request_stamp(request)}.{timezone.localdate():%Y%m%d}.{TEMPLATE_VERSION}"

    def _fetch(self, request):
        prefix = self._key_prefix(request)
        store = _store()
        if store is None:
            return None
        try:
            key = get_cache_key(request, prefix, "GET", cache=store)
            return store.get(key) if key is not None else None
        except (RedisError, OSError) as error:
            _failed(error)
            return None

    def _conditional(self, request, response):
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        not_modified = get_conditional_response(
            request, etag=response.get("ETag"), last_modified=last_modified, response=response
        )
        return not_modified if not_modified is not None else response

    def _may_store(self, request, response):
        if response.status_code not in (200, 301, 302) or response.streaming:
            return False
        if getattr(request, "formulary_not_shared", False):
            return False
        # A safety net: a page that touched the session, the CSRF token or set a cookie
        # depends on the visitor and must not be shared (tests/test_public_cache.py).
        session = getattr(request, "session", None)
        if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or (session and session.accessed):
            logger.warning("public page %s depends on the visitor; not cached", request.path)
            return False
        return len(response.content) <= max_bytes()

    def _save(self, request, response):
        prefix = self._key_prefix(request)
        store = _store()
        if store is None:
            return
        timeout = cache_seconds()
        try:
            key = learn_cache_key(request, response, timeout, prefix, cache=store)
            store.set(key, response, timeout)
        except (RedisError, OSError) as error:
            _failed(error)
