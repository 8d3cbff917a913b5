"""Fixed-window rate limits for reader-facing endpoints, shared through Redis.

All of a request's counters are bumped in one round trip, by one small script (a signup checks
its IP and its address): a pipeline of INCR and EXPIRE per counter took 40% more of the
client's CPU, on the path that has to stay close to the cost of a bare INSERT. Without Redis
(a first run) the counters live in Django's cache. The limits fail open: when Redis is unreachable
a signup still goes through, because losing a reader's signup is worse than letting a burst past.

Signup counters, the busiest by far, are sent in batches (`Batch`): a process counts its own
hits at once and sends them to Redis at most every `Batch.every` seconds, with the hit that
finds the last send older than that. A process that sees fewer signups than that sends every
hit as it comes, as the other limits always do; a busy one makes one round trip per interval
however many signups it takes. Other processes' hits reach its counts with its next send, so
in one window a flood spread over n processes can get up to n times a limit through before
every process refuses it. Signups can afford that: a burst is a few more rows for the worker,
which mails one address a few confirmations a day at most however many requests it gets
(`CONFIRMATION_EMAILS_PER_DAY`). Gift codes and sign-in links, where every guess counts, stay
exact.
"""

import ipaddress
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import islice

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from redis.commands.core import Script

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    @cache
    def parse(cls, text: str) -> "Rate":
        """Read "30/10m", "6/h" or "100/s"."""
        match = _RATE.match(text)
        if not match:
            raise ImproperlyConfigured(f"A rate looks like 30/10m or 6/h, not {text!r}")
        count, multiplier, unit = match.groups()
        return cls(limit=int(count), period=int(multiplier or 1) * _UNITS[unit])


# Add ARGV[2i-1] hits to each key i; a key's window starts (and its expiry, ARGV[2i] seconds,
# is set) with its first hits.
_HIT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local hits = tonumber(ARGV[2 * i - 1])
  counts[i] = redis.call('INCRBY', key, hits)
  if counts[i] == hits then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return counts
"""


@cache
def _redis() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


@cache
def _hit_script(client: redis.Redis) -> Script:
    """The script, sent by its hash (and loaded first where the server does not know it)."""
    return client.register_script(_HIT_SCRIPT)


def client_ip(request: HttpRequest) -> str | None:
    """The reader's address: REMOTE_ADDR, or the proxy header named in settings."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    # X-Forwarded-For lists the client first; anything that is not an address is dropped.
    return _address(request.META.get(meta_key, "").split(",")[0].strip())


@lru_cache(maxsize=4096)
def _address(candidate: str) -> str | None:
    """The address in its standard form (parsing one costs as much as a rate limit's check)."""
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def exceeded(*checks: tuple[str, str, str], batch: "Batch | None" = None) -> bool:
    """Count one hit on each (group, value, rate) and say whether any is over its limit."""
    now = int(time.time())
    keys: list[tuple[str, Rate]] = []
    for group, value, rate_text in checks:
        rate = Rate.parse(rate_text)
        window = now - now % rate.period
        keys.append((f"rl:{group}:{window}:{value}", rate))
    try:
        if batch is not None and _redis() is not None:
            counts = batch.hit(keys)
        else:
            counts = _hit({key: (1, rate.period + 1) for key, rate in keys})
    except Exception:
        log.warning("rate limits unavailable; letting the request through", exc_info=True)
        return False
    return any(count > rate.limit for count, (_, rate) in zip(counts, keys, strict=True))


def _hit(hits: dict[str, tuple[int, int]]) -> list[int]:
    """Add hits to counters ({key: (hits, expiry in seconds)}); their counts, in that order."""
    client = _redis()
    if client is None:
        counts = []
        for key, (count, expiry) in hits.items():
            django_cache.add(key, 0, expiry)
            counts.append(django_cache.incr(key, count))
        return counts
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    counts = _hit_script(client)(
        keys=[f"{prefix}:{key}" for key in hits],
        args=[number for pair in hits.values() for number in pair],
    )
    return [int(count) for count in counts]


class Batch:
    """Counters a process sends to Redis together, at most every `every` seconds (see above)."""

    every = 0.05
    # Counts from earlier sends, to judge keys hit again: past this many keys, those sent
    # longest ago are forgotten (a key hit again is counted from Redis with the next send).
    remembered = 20_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unsent: dict[str, tuple[int, int]] = {}
        self._sent: dict[str, int] = {}
        self._sent_at = -math.inf

    def hit(self, keys: list[tuple[str, Rate]]) -> list[int]:
        with self._lock:
            for key, rate in keys:
                unsent = self._unsent.get(key, (0, 0))[0]
                self._unsent[key] = (unsent + 1, rate.period + 1)
            if time.monotonic() - self._sent_at >= self.every:
                self._send()
            return [self._sent.get(key, 0) + self._unsent.get(key, (0, 0))[0] for key, _ in keys]

    def _send(self) -> None:
        # Taken out before sending: if Redis is down they are lost, and tried again only
        # after `every`, as the limits fail open.
        hits, self._unsent = self._unsent, {}
        self._sent_at = time.monotonic()
        for key, count in zip(hits, _hit(hits), strict=True):
            self._sent.pop(key, None)  # last sent, last in order
            self._sent[key] = count
        for key in list(islice(self._sent, max(0, len(self._sent) - self.remembered))):
            del self._sent[key]

    def forget(self) -> None:
        with self._lock:
            self._unsent.clear()
            self._sent.clear()
            self._sent_at = -math.inf


_signups = Batch()


def forget() -> None:
    """Drop this process's signup counts (tests that start with empty counters)."""
    _signups.forget()


def signup_limited(request: HttpRequest, email: str | None) -> bool:
    """The limits on signing up: per IP always, per address once the address is known."""
    checks = [("signup:ip", client_ip(request) or "-", settings.SIGNUP_RATE_PER_IP)]
    if email is not None:
        checks.append(("signup:address", email.lower(), settings.SIGNUP_RATE_PER_ADDRESS))
    return exceeded(*checks, batch=_signups)


def ip_limited(request: HttpRequest, group: str, rate: str | None = None) -> bool:
    return exceeded((f"{group}:ip", client_ip(request) or "-", rate or settings.SIGNUP_RATE_PER_IP))


def address_limited(request: HttpRequest, group: str, email: str, rate: str | None = None) -> bool:
    return exceeded((f"{group}:address", email.lower(), rate or settings.SIGNUP_RATE_PER_ADDRESS))
