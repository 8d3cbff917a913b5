"""A Stripe webhook storm: 1,000 events, duplicated and shuffled, end in the same state as the
same events delivered in order."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from membership.models import Member, Membership, StripeEvent
from tests.membership.conftest import event, invoice, post_event, subscription

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = 150
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def history(n, member):
    """One subscription's life as Stripe reports it: events with their creation times."""
    sub_id = f"sub_storm_{n:04d}"
    t = START + timedelta(minutes=n)
    p1, p2, p3 = t + MONTH, t + 2 * MONTH, t + 3 * MONTH

    def sub(status, period_end, **changes):
        return subscription(
            id=sub_id,
            status=status,
            period_end=period_end,
            member=member,
            customer=member.stripe_customer_id,
            **changes,
        )

    events = [
        ("customer.subscription.created", sub("incomplete", p1), t),
        ("invoice.paid", invoice(sub_id, "paid", t, p1, f"in_{n}_1"), t + timedelta(seconds=1)),
        ("customer.subscription.updated", sub("active", p1), t + timedelta(seconds=2)),
        ("invoice.paid", invoice(sub_id, "paid", p1, p2, f"in_{n}_2"), p1),
        ("customer.subscription.updated", sub("active", p2), p1 + timedelta(seconds=1)),
    ]
    if n % 3 == 0:  # a renewal fails, then the card is fixed
        events += [
            ("invoice.payment_failed", invoice(sub_id, "open", p2, p3, f"in_{n}_3"), p2),
            ("customer.subscription.updated", sub("past_due", p2), p2 + timedelta(seconds=1)),
            ("invoice.paid", invoice(sub_id, "paid", p2, p3, f"in_{n}_3"), p2 + timedelta(days=2)),
            (
                "customer.subscription.updated",
                sub("active", p3),
                p2 + timedelta(days=2, seconds=1),
            ),
        ]
    if n % 4 == 0:  # cancelled at the period's end, then ended
        last = p3 if n % 3 == 0 else p2
        events += [
            (
                "customer.subscription.updated",
                sub("active", last, cancel_at_period_end=True),
                last - timedelta(days=5),
            ),
            (
                "customer.subscription.deleted",
                sub("canceled", last, ended_at=int(last.timestamp())),
                last,
            ),
        ]
    return [
        event(kind, obj, created=at, event_id=f"evt_{n}_{i}")
        for i, (kind, obj, at) in enumerate(events)
    ]


def state():
    return {
        m.stripe_subscription_id: (
            m.status,
            m.current_period_end,
            m.cancel_at_period_end,
            m.ended_at,
            m.past_due_since,
            m.last_paid_at,
            m.plan_id,
        )
        for m in Membership.objects.all()
    }


def deliver(envelopes):
    client = Client()
    for envelope in envelopes:
        assert post_event(client, envelope).status_code == 200


def test_a_shuffled_storm_with_duplicates_ends_as_ordered_delivery(plans):
    members = [
        Member.objects.create(email=f"m{n}@example.org", stripe_customer_id=f"cus_storm_{n}")
        for n in range(SUBSCRIPTIONS)
    ]
    envelopes = [e for n, member in enumerate(members) for e in history(n, member)]
    assert len(envelopes) >= 1000
    ordered = sorted(envelopes, key=lambda e: e["created"])
    deliver(ordered)
    expected = state()
    assert len(expected) == SUBSCRIPTIONS
    assert {s[0] for s in expected.values()} == {"active", "canceled"}

    Membership.objects.all().delete()
    StripeEvent.objects.all().delete()
    rng = random.Random(20261127)
    storm = envelopes + rng.sample(envelopes, len(envelopes) // 10)  # a tenth arrive twice
    rng.shuffle(storm)
    assert len(storm) >= 1000
    deliver(storm)
    assert state() == expected
    assert StripeEvent.objects.count() == len(envelopes)  # each stored once
