"""The lists readers may sign up for, held in memory for a few seconds.

Every signup checks the lists it names; reading them from memory instead of PostgreSQL keeps
the signup path near the cost of one INSERT. Saving or deleting a newsletter forgets the copy
in this process; other processes see the change within CATALOGUE_SECONDS, and the worker checks
again that each list still takes signups before acting on one.
"""

import time
from collections.abc import Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from newsletters.models import Newsletter

CATALOGUE_SECONDS = 10.0
_cached: tuple[float, list[Newsletter]] | None = None


def _public() -> list[Newsletter]:
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > CATALOGUE_SECONDS:
        _cached = (now, list(Newsletter.objects.filter(is_public=True)))
    return _cached[1]


def offered() -> dict[str, Newsletter]:
    """Slug to newsletter, in display order, for every list any reader may sign up for."""
    return {n.slug: n for n in _public() if n.audience == Newsletter.Audience.EVERYONE}


def public(ids: Iterable[int]) -> list[Newsletter]:
    """The lists among these ids that take signups (hidden ones do not), in display order."""
    wanted = set(ids)
    return [n for n in _public() if n.pk in wanted]


@receiver(post_save, sender=Newsletter)
@receiver(post_delete, sender=Newsletter)
def forget(**_: Any) -> None:
    global _cached
    _cached = None
