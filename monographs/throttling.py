"""Rate limiting per client address: one exact count shared by every worker.

DRF's SimpleRateThrottle keeps a list of timestamps that it reads and writes
back (a get/set race: concurrent requests overwrite each other's entries) and
reads its rates once at import. These throttles instead count each client with
one atomic increment per request (`cache.add` then `cache.incr`: Redis INCR when
REDIS_URL is set, so all gunicorn workers share one count; a locked counter in
local memory otherwise) and read their rate from settings on every request, so
a deployment or a test can change it ("600/minute"; empty or "off" disables it).

Counts are kept per window of the rate's period. A request is allowed while
this window's count plus the previous window's count, weighted by how much of
the previous window still lies within one period, stays within the rate (the
"sliding window counter"): a client cannot double its rate by asking at the end
of one window and the start of the next, as with plain fixed windows.

The client is `formulary.client_ip.client_ip`, which trusts X-Forwarded-For only
as far as FORMULARY_TRUSTED_PROXIES allows.

If the counter store cannot be reached the request is let through and a
warning logged: a throttle outage must not take the formulary down with it.
"""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from formulary.client_ip import client_ip

logger = logging.getLogger(__name__)

# The cache alias that holds the counters (settings.CACHES).
CACHE_ALIAS = "throttle"
# After a failure the store is not asked again for this long, so an outage costs one
# failed connection (and one warning) per worker every few seconds, not one per request.
RETRY_AFTER_FAILURE_SECONDS = 5

_store_down_until = 0.0


class SlidingWindowThrottle(SimpleRateThrottle):
    rate_setting = None  # name of the setting with the rate

    def get_rate(self):
        rate = (getattr(settings, self.rate_setting, "") or "").strip().lower()
        return None if rate in ("", "off", "none") else rate

    def get_ident(self, request):
        return client_ip(request) or "unknown"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        global _store_down_until
        self.wait_seconds = None
        if self.rate is None:
            return True
        now = time.time()
        if now < _store_down_until:
            return True
        window, elapsed = divmod(now, self.duration)
        # The window number is part of the key, so a counter is never reset or extended:
        # the next window simply starts a new key, and an old one expires unread.
        key = f"{self.get_cache_key(request, view)}:{self.duration}"
        current_key, previous_key = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        cache = caches[CACHE_ALIAS]
        try:
            current = self._increment(cache, current_key)
            previous = cache.get(previous_key, 0)
            if current + previous * (1 - elapsed / self.duration) <= self.num_requests:
                return True
            # A refused request is not counted, so a client that keeps asking still gets
            # its rate once it slows down, as with DRF's own throttles.
            self._decrement(cache, current_key)
        except (RedisError, OSError) as error:
            _store_down_until = now + RETRY_AFTER_FAILURE_SECONDS
            logger.warning("rate limit store unavailable, requests are not being limited: %s", error)
            return True
        self.wait_seconds = self._seconds_until_room(current - 1, previous, elapsed)
        return False

    def _increment(self, cache, key):
        # Kept for two windows: it is still read as "previous" during the next one.
        cache.add(key, 0, timeout=2 * self.duration + 1)
        try:
            return cache.incr(key)
        except ValueError:
            # Gone after all (a local-memory cache culls keys when full): start it again.
            cache.add(key, 0, timeout=2 * self.duration + 1)
            return cache.incr(key)

    def _decrement(self, cache, key):
        try:
            cache.decr(key)
        except ValueError:
            pass  # already gone: nothing left to undo

    def _seconds_until_room(self, current, previous, elapsed):
        """How long until one more request fits, if the client sends nothing meanwhile."""
        room = self.num_requests - 1
        if current <= room and previous:
            # Later in this window, once the previous window's share has faded enough.
            return self.duration * (1 - (room - current) / previous) - elapsed
        # In the next window, once this window's count (then the previous one) has faded enough.
        return self.duration - elapsed + self.duration * (1 - room / max(current, 1))

    def wait(self):
        return self.wait_seconds


class ClientRateThrottle(SlidingWindowThrottle):
    """The API and FHIR: FORMULARY_API_THROTTLE_RATE."""

    scope = "formulary_api"
    rate_setting = "FORMULARY_API_THROTTLE_RATE"


class SearchRateThrottle(SlidingWindowThrottle):
    """The public HTML search: FORMULARY_SEARCH_THROTTLE_RATE."""

    scope = "formulary_search"
    rate_setting = "FORMULARY_SEARCH_THROTTLE_RATE"
