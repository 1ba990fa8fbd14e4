"""The client's address, as the rate limits, django-axes and the error log see it.

Each reverse proxy appends the address it received the request from to
X-Forwarded-For, so of the chain "X-Forwarded-For entries, then REMOTE_ADDR"
only the last FORMULARY_TRUSTED_PROXIES + 1 entries were written by someone we
trust; everything to their left is whatever the client chose to send. Taking
any other entry would let a client pick a fresh address for every request (and
so escape the throttle), or lock out another person's username from "their"
address. The app must then be reachable only through those proxies.
"""

import ipaddress
import logging

from django.conf import settings


def _parsed(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The address of the client that reached the outermost trusted proxy (or us), or None.

    With 0 trusted proxies (the default) that is REMOTE_ADDR and X-Forwarded-For is
    ignored. Addresses are returned in canonical form, so one IPv6 address cannot
    be spelt several ways to get several counters.
    """
    trusted = settings.FORMULARY_TRUSTED_PROXIES
    chain = [request.META.get("REMOTE_ADDR") or ""]
    if trusted:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        chain = [part for part in forwarded.split(",") if part.strip()] + chain
    # Walk from the right: the trusted hops first, then the address they vouch for. A chain
    # shorter than expected did not pass every proxy; its left-most entry is the best we have.
    position = max(len(chain) - 1 - trusted, 0)
    # An unreadable entry where the client should be means a proxy misbehaved: fall back to
    # the nearest trusted address to its right, which over-counts one proxy rather than let
    # a client name its own counter (and axes needs a valid address to store).
    for entry in chain[position:]:
        address = _parsed(entry)
        if address:
            return address
    return None


class ClientIPFilter(logging.Filter):
    """Adds `client_ip` to every log record, taken from the request the record is about (or "-")."""

    def filter(self, record):
        request = getattr(record, "request", None)
        # django.server records carry a socket, not an HttpRequest.
        record.client_ip = (client_ip(request) if hasattr(request, "META") else None) or "-"
        return True
