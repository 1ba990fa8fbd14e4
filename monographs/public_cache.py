"""The shared full-response cache of the public pages (`PublicPageCacheMiddleware`).

Public pages are the same for every visitor (the language is in the address, no cookie, no
CSRF token), so whole responses can be shared by every server. What a page may be kept under is
declared on its view, beside the code that reads the request:

- `@shared_page(params={"q", "page"})`: the query parameters the view reads; a request with any
  other parameter is answered but not kept (`?x=1`, `?x=2`… would each be a copy). `entry="slug"`
  names the URL argument of an entry's own page: it is keyed by that entry's publication stamp
  alone, so publishing another entry leaves it reachable. Every other page can list any entry
  and is keyed by the formulary's stamp. `guard` is run before a stored copy is served (the
  search's rate limit: every search is counted).
- `@not_shared_page`: never kept (the booklets are large PDFs with their own store). Every
  public view declares one or the other (tests/test_public_cache.py).

Keys: the stamp (`publication`, read from PostgreSQL on every request, never from Redis: a page
cached before a change is unreachable the moment it commits, whatever Redis was doing), the day,
the representation version (`http_cache.REPRESENTATION_VERSION`), the language and the hashed
absolute address; the cache's KEY_PREFIX names the install (FORMULARY_CACHE_PREFIX). A hit is
one SQL read and one Redis read, runs no view and no template, and skips the middleware after
this one. Older responses expire after FORMULARY_PUBLIC_CACHE_SECONDS.

What an outsider can make the cache hold is bounded: only the configured host
(`FORMULARY_PUBLIC_CACHE_HOSTS`, by default FORMULARY_SITE_URL's), only paths and the declared
query parameters written as the site's links write them (each parameter once), and only values that name
something real — a view that was given a page number out of range, a letter with no entries or
dates outside the formulary's history calls `not_shared(request)`. The deploy runs this cache
on a Redis with `maxmemory` and `allkeys-lru`, apart from the rate-limit counters
(`docs/operations.md`).

A Redis failure is never an error page: the page is rendered without the cache and a
warning logged; the cache is not asked again for RETRY_AFTER_FAILURE_SECONDS.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe, urlencode
from django.utils.translation import get_language
from redis.exceptions import RedisError

from . import http_cache, publication

logger = logging.getLogger(__name__)

CACHE_ALIAS = "public"  # settings.CACHES: Redis with REDIS_URL, else a dummy cache (off)
RETRY_AFTER_FAILURE_SECONDS = 5
# Says whether the shared cache served a public page ("hit") or the app rendered one it may
# keep ("miss"); absent when the shared cache is off. For operators and bench/run.py's hit ratio.
CACHE_STATUS_HEADER = "X-Formulary-Cache"
PUBLIC_NAMESPACE = "monographs"

_store_down_until = 0.0


@dataclass(frozen=True)
class SharedPage:
    """How a view's pages may be kept: see `shared_page`."""

    params: frozenset
    entry: str | None = None
    guard: Callable | None = None


def shared_page(*, params=(), entry=None, guard=None):
    """Declare that the shared cache may keep this view's pages: `params` the query parameters
    it reads, `entry` the URL argument (a slug) naming the entry whose own page it is, `guard`
    a check run before a stored copy is served (it returns a response to send instead, or None)."""

    def declare(view):
        view.shared_page = SharedPage(params=frozenset(params), entry=entry, guard=guard)
        return view

    return declare


def not_shared_page(view):
    """Declare that the shared cache never keeps this view's pages."""
    view.shared_page = None
    return view


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


# --- The middleware. ---


def _public_page(request):
    """(the view's `SharedPage` or None, the URL's match) of a public page, or None when the
    address is not one (another namespace, or nothing)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    if PUBLIC_NAMESPACE not in match.namespaces:
        return None
    return getattr(match.func, "shared_page", None), match


def _canonical_query(request):
    """Whether the query string is written as the site's own links write it (each parameter
    once, encoded as `urlencode` encodes it): `?&&&`, `?page=%31` or `?q=%6cenalidomide` ask for
    the same page as a canonical address and must not each be stored as a copy of it."""
    raw = request.META.get("QUERY_STRING", "")
    return raw == urlencode(list(request.GET.items()))


def _canonical_path(request, match):
    """Whether the path is written as the site's own links write it: `<int:…>` arguments also
    match `compare/01/2/`, `compare/001/2/`… (the same page), which must not each be stored."""
    return request.path == reverse(match.view_name, args=match.args, kwargs=match.kwargs)


def _cacheable(request, page, match):
    return (
        page is not None
        and request.method == "GET"
        and shared_cache_enabled()
        and request.get_host() in shared_hosts()
        and _canonical_query(request)
        and _canonical_path(request, match)
        and all(key in page.params and len(values) == 1 for key, values in request.GET.lists())
    )


def _page_key(request, page, kwargs):
    """The page's key: the stamp it depends on (its entry's, or the formulary's), the day, the
    representation version, the language and the address; None when an entry page's address
    names no live entry (a 404, nothing to keep). Built here rather than with Django's
    `get_cache_key`, which costs a second Redis read (the stored header list): public pages
    vary by nothing but their address and language (responses with Vary are never kept)."""
    if page.entry is not None:
        stamp = publication.entry_stamp(kwargs[page.entry])
        if stamp is None:
            return None
    else:
        stamp = http_cache.request_stamp(request)
    address = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
    return (
        f"public.{stamp}.{timezone.localdate():%Y%m%d}.{http_cache.REPRESENTATION_VERSION}.{get_language()}.{address}"
    )


class PublicPageCacheMiddleware:
    """Cache headers on every public page; with REDIS_URL, whole responses shared by all servers.

    Placed after LocaleMiddleware (the language is taken from the address first) and before
    the CSRF, authentication and message middleware, which a hit skips.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = _public_page(request)
        if found is None:
            return self.get_response(request)
        page, match = found
        key = _page_key(request, page, match.kwargs) if _cacheable(request, page, match) else None
        if key is not None:
            hit = self._fetch(key)
            if hit is not None:
                refusal = page.guard(request) if page.guard is not None else None
                if refusal is not None:
                    return http_cache.set_cache_control(refusal)
                response = self._conditional(request, hit)
                response[CACHE_STATUS_HEADER] = "hit"
                return http_cache.set_cache_control(response)
        response = self.get_response(request)
        http_cache.set_cache_control(response)
        if key is not None and self._may_store(request, response):
            self._save(key, response)
        if key is not None:
            # Set after storing, so a stored copy never says "miss" when served.
            response[CACHE_STATUS_HEADER] = "miss"
        return response

    def _fetch(self, key):
        store = _store()
        if store is None:
            return None
        try:
            return store.get(key)
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
        if response.status_code not in (200, 301, 302) or response.streaming or response.has_header("Vary"):
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

    def _save(self, key, response):
        store = _store()
        if store is None:
            return
        try:
            store.set(key, response, cache_seconds())
        except (RedisError, OSError) as error:
            _failed(error)
