"""The aggregates the admin reads: list counts and daily growth."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from newsletters.consent import Provenance, record
from newsletters.models import GrowthDay, ListStats, Subscriber, Subscription

pytestmark = pytest.mark.django_db


def test_list_counts_are_kept_per_status_including_lists_with_no_readers(newsletters):
    reader = Subscriber.objects.create(email="r@example.org")
    Subscription.objects.create(
        subscriber=reader, newsletter=newsletters["daily-briefing"], status="active"
    )
    ListStats.objects.refresh()
    ListStats.objects.refresh()  # refreshing again updates in place
    counts = {
        s.newsletter.slug: (s.active, s.pending, s.unsubscribed) for s in ListStats.objects.all()
    }
    assert counts == {
        "daily-briefing": (1, 0, 0),
        "editors-picks": (0, 0, 0),
        "weekly-explainer": (0, 0, 0),
    }


def test_growth_counts_confirmations_imports_and_unsubscribes_by_day(newsletters):
    daily = newsletters["daily-briefing"]
    reader = Subscriber.objects.create(email="r@example.org")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=10)):
        record(reader, "confirmed", [daily], Provenance("email_link"))
        record(reader, "imported", [daily], Provenance("import"))
        # Consent an export recorded elsewhere is not a join here.
        record(reader, "confirmed", [daily], Provenance("import"))
        record(reader, "requested", [daily], Provenance("form"))
    with time_machine.travel(now):
        record(reader, "unsubscribed", [daily], Provenance("staff"))
        record(reader, "unsubscribed", [None], Provenance("staff"))
        assert GrowthDay.objects.refresh_recent() == 2  # a first run builds the whole history
    rows = [(g.day, g.subscribed, g.unsubscribed, g.net) for g in GrowthDay.objects.order_by("day")]
    assert rows == [
        ((now - timedelta(days=10)).date(), 2, 0, 2),
        (now.date(), 0, 1, -1),
    ]


def test_the_periodic_refresh_recounts_only_the_last_two_days(newsletters):
    daily = newsletters["daily-briefing"]
    reader = Subscriber.objects.create(email="r@example.org")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=10)):
        record(reader, "confirmed", [daily], Provenance("email_link"))
    GrowthDay.objects.refresh()
    GrowthDay.objects.filter(day=(now - timedelta(days=10)).date()).update(subscribed=99)
    with time_machine.travel(now):
        record(reader, "confirmed", [daily], Provenance("email_link"))
        GrowthDay.objects.refresh_recent()
    assert sorted(GrowthDay.objects.values_list("subscribed", flat=True)) == [1, 99]
