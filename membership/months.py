"""Whole months on the calendar, and the newsroom's own clock for dates readers choose."""

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def add_months(start: datetime, months: int) -> datetime:
    """The same day and time some months on (or back), or the month's last day where it is short."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def newsroom_zone() -> ZoneInfo:
    return ZoneInfo(settings.NEWSROOM_TIME_ZONE)


def newsroom_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), newsroom_zone()).date()


def morning_of(day: date) -> datetime:
    """GIFT_DELIVERY_HOUR o'clock on a day in the newsroom's time zone, as an aware datetime."""
    return datetime.combine(day, time(hour=settings.GIFT_DELIVERY_HOUR), tzinfo=newsroom_zone())
