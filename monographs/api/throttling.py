"""Rate limiting per client address, with the rate read from settings on each request.

DRF's own throttles read their rates once at import, so a deployment (or a
test) could not change them; this one reads `FORMULARY_API_THROTTLE_RATE`
("600/minute"; empty or "off" disables it) every time.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    scope = "formulary_api"

    def get_rate(self):
        rate = (getattr(settings, "FORMULARY_API_THROTTLE_RATE", "") or "").strip()
        return None if rate.lower() in ("", "off", "none") else rate

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
