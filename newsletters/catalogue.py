"""The lists readers may sign up for, held in memory for a few seconds.

Every signup checks the lists it names; reading them from memory instead of PostgreSQL keeps
the signup path near the cost of one INSERT. Saving or deleting a newsletter forgets the copy
in this process; other processes see the change within CATALOGUE_SECONDS, and the worker checks
again that each list still takes signups before acting on one.
"""

import time
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from newsletters.models import Newsletter

CATALOGUE_SECONDS = 10.0
_cached: tuple[float, dict[str, Newsletter]] | None = None


def offered() -> dict[str, Newsletter]:
    """Slug to newsletter, in display order, for every list any reader may sign up for."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > CATALOGUE_SECONDS:
        _cached = (now, {n.slug: n for n in Newsletter.objects.offered()})
    return _cached[1]


@receiver(post_save, sender=Newsletter)
@receiver(post_delete, sender=Newsletter)
def forget(**_: Any) -> None:
    global _cached
    _cached = None
