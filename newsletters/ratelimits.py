"""Rate limits for reader-facing endpoints, on the shared cache.

They fail open: when the cache is unreachable a signup still goes through, because losing a
reader's signup is worse than letting a burst past for a while.
"""

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The reader's address: REMOTE_ADDR, or the proxy header named in settings."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    value = request.META.get(meta_key, "")
    # X-Forwarded-For lists the client first; anything that is not an address is dropped.
    candidate = value.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _limited(request: HttpRequest, group: str, rate: str, value: str) -> bool:
    try:
        return bool(
            is_ratelimited(
                request, group=group, key=lambda _g, _r: value, rate=rate, increment=True
            )
        )
    except Exception:
        log.warning("rate limit %s unavailable; letting the request through", group, exc_info=True)
        return False


def ip_limited(request: HttpRequest, group: str, rate: str | None = None) -> bool:
    return _limited(
        request, f"{group}:ip", rate or settings.SIGNUP_RATE_PER_IP, client_ip(request) or "-"
    )


def address_limited(request: HttpRequest, group: str, email: str, rate: str | None = None) -> bool:
    return _limited(
        request, f"{group}:address", rate or settings.SIGNUP_RATE_PER_ADDRESS, email.lower()
    )
