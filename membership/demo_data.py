"""The demo plans, members' newsletter and drive a first run starts with."""

from datetime import timedelta

from django.utils import timezone

from membership.models import Drive, GiftPrice, Plan
from newsletters.models import Newsletter

DEMO_PLANS = [
    {
        "stripe_price_id": "price_demo_monthly",
        "name": "Monthly",
        "interval": Plan.Interval.MONTH,
        "amount": 500,
        "currency": "gbp",
        "position": 10,
    },
    {
        "stripe_price_id": "price_demo_yearly",
        "name": "Yearly",
        "interval": Plan.Interval.YEAR,
        "amount": 5000,
        "currency": "gbp",
        "position": 20,
    },
]


DEMO_GIFT_PRICES = {1: 500, 3: 1500, 6: 2800, 12: 5000}


def seed_membership() -> None:
    """Create the demo plans, gift prices, a members-only list and a drive if missing; edits
    are kept.
    """
    for fields in DEMO_PLANS:
        Plan.objects.get_or_create(stripe_price_id=fields["stripe_price_id"], defaults=fields)
    for months, amount in DEMO_GIFT_PRICES.items():
        GiftPrice.objects.get_or_create(
            months=months, defaults={"amount": amount, "currency": "gbp"}
        )
    Newsletter.objects.get_or_create(
        slug="members-dispatch",
        defaults={
            "name": "The Members' Dispatch",
            "description": "A letter from the newsroom to its members, every other Friday.",
            "audience": Newsletter.Audience.MEMBERS,
            "position": 90,
        },
    )
    now = timezone.now()
    Drive.objects.get_or_create(
        slug="birthday",
        defaults={
            "title": "Our birthday drive",
            "goal": 1000,
            "starts_at": now,
            "ends_at": now + timedelta(days=30),
        },
    )
