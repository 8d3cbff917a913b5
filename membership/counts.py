"""Drive progress and the supporter count: exact counts, cached briefly.

The cache holds when each count was made, so "briefly" is judged by the clock the rest of the
service uses. When the cache is unreachable the count is made afresh: a widget on an article
must not fail because Redis is restarting.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from membership.models import Drive, Membership, SupporterCount

log = logging.getLogger(__name__)


def _cached(key: str, count: Callable[[], int], now: datetime) -> int:
    ttl = settings.MEMBERSHIP_COUNTS_CACHE_SECONDS
    try:
        hit = cache.get(key)
    except Exception:
        log.warning("count cache unavailable; counting afresh", exc_info=True)
        hit = None
    if hit and now - hit["at"] < timedelta(seconds=ttl):
        return int(hit["count"])
    value = count()
    try:
        cache.set(key, {"count": value, "at": now}, timeout=ttl or None)
    except Exception:
        log.warning("count cache unavailable; not stored", exc_info=True)
    return value


def supporter_count(now: datetime | None = None) -> int:
    """Members with a membership of a counted kind that gives access now, each counted once.

    Staff choose the kinds (paid, gift, complimentary) in the admin, under Supporter count.
    """
    now = now or timezone.now()
    sources = SupporterCount.current().sources
    return _cached(
        ":".join(["membership:supporters", *sources]),
        lambda: (
            Membership.objects.giving_access(now)
            .filter(source__in=sources)
            .values("member")
            .distinct()
            .count()
        ),
        now,
    )


def supporters_label(count: int) -> str:
    number = number_format(count, force_grouping=True)
    return ngettext("%(count)s supporter", "%(count)s supporters", count) % {"count": number}


@dataclass(frozen=True)
class Progress:
    drive: Drive
    count: int
    days_left: int
    started: bool
    ended: bool

    @property
    def percent(self) -> int:
        """Up to 100, for the bar; the count itself may pass the goal."""
        return min(100, self.count * 100 // self.drive.goal) if self.drive.goal else 100

    @property
    def label(self) -> str:
        count = number_format(self.count, force_grouping=True)
        goal = number_format(self.drive.goal, force_grouping=True)
        members = ngettext(
            "%(count)s of %(goal)s new member", "%(count)s of %(goal)s new members", self.drive.goal
        ) % {"count": count, "goal": goal}
        if self.ended:
            return _("%(members)s; the drive has ended") % {"members": members}
        if not self.started:
            return _("%(members)s; the drive has not started yet") % {"members": members}
        days = ngettext("%(days)s day left", "%(days)s days left", self.days_left) % {
            "days": self.days_left
        }
        return f"{members}, {days}"

    def as_json(self) -> dict[str, object]:
        return {
            "drive": self.drive.slug,
            "title": self.drive.title,
            "goal": self.drive.goal,
            "count": self.count,
            "percent": self.percent,
            "starts_at": self.drive.starts_at.isoformat(),
            "ends_at": self.drive.ends_at.isoformat(),
            "days_left": self.days_left,
            "label": self.label,
        }


def drive_progress(drive: Drive, now: datetime | None = None) -> Progress:
    now = now or timezone.now()
    # The window and kinds are in the key, so a drive staff just edited is counted afresh.
    key = ":".join(
        [
            "membership:drive",
            str(drive.pk),
            str(int(drive.starts_at.timestamp())),
            str(int(drive.ends_at.timestamp())),
            *drive.sources,
        ]
    )
    count = _cached(key, drive.count_new_members, now)
    return Progress(
        drive=drive,
        count=count,
        days_left=drive.days_left(now),
        started=now >= drive.starts_at,
        ended=now >= drive.ends_at,
    )
