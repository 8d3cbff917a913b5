import copy
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from membership import gateway
from membership.models import Member, Membership, Plan
from membership.signin import SESSION_KEY
from newsletters.models import Newsletter
from tests.membership.fakes import FakeStripe

STRIPE_OBJECTS = Path(__file__).parent / "stripe"
WEBHOOK = "/stripe/webhook/"
CUSTOMER = "cus_QXg1o8vcGmoR32"
SUBSCRIPTION = "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw"
MONTHLY_PRICE = "price_1PgafmB7WZ01zgkW6dKueIc5"


def stripe_object(name, **changes):
    """One of our captured Stripe objects (tests/membership/stripe/), with fields changed."""
    obj = json.loads((STRIPE_OBJECTS / f"{name}.json").read_text())
    obj.update(copy.deepcopy(changes))
    return obj


def event(kind, obj, *, created=None, event_id=None):
    envelope = stripe_object("event", type=kind, data={"object": obj})
    envelope["created"] = int(created.timestamp() if created else time.time())
    envelope["id"] = event_id or f"evt_test_{time.monotonic_ns()}"
    return envelope


def subscription(*, status="active", period_end=None, member=None, **changes):
    """A subscription for the monthly plan, its period's end on its item."""
    sub = stripe_object("subscription", status=status, **changes)
    if period_end is not None:
        sub["items"]["data"][0]["current_period_end"] = int(period_end.timestamp())
    if member is not None:
        sub["metadata"] = {"member_id": str(member.pk)}
    return sub


def invoice(sub_id, kind_status, period_start, period_end, invoice_id):
    """An invoice for a subscription, billing one period (named under parent, as now)."""
    obj = stripe_object(
        "invoice",
        id=invoice_id,
        status=kind_status,
        parent={"type": "subscription_details", "subscription_details": {"subscription": sub_id}},
    )
    obj["lines"]["data"][0]["period"] = {
        "start": int(period_start.timestamp()),
        "end": int(period_end.timestamp()),
    }
    return obj


def sign(body, secret=None, timestamp=None):
    """The Stripe-Signature header Stripe would send, made by stripe's own signing code."""
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)


def post_event(client, envelope, **signing):
    body = json.dumps(envelope)
    return client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, **signing)
    )


def at(timestamp):
    return datetime.fromtimestamp(timestamp, tz=UTC)


@pytest.fixture
def plans(db):
    monthly = Plan.objects.create(
        name="Monthly", stripe_price_id=MONTHLY_PRICE, interval="month", amount=500, currency="gbp"
    )
    yearly = Plan.objects.create(
        name="Yearly",
        stripe_price_id="price_1PgagYB7WZ01zgkWyEaRLy01",
        interval="year",
        amount=5000,
        currency="gbp",
        position=1,
    )
    return {"monthly": monthly, "yearly": yearly}


@pytest.fixture
def members_list(db):
    return Newsletter.objects.create(
        slug="members-dispatch",
        name="The Members' Dispatch",
        description="A letter to members.",
        audience=Newsletter.Audience.MEMBERS,
    )


@pytest.fixture
def member(db):
    return Member.objects.create(email="reader@example.org", stripe_customer_id=CUSTOMER)


@pytest.fixture
def paid(member, plans):
    """An active monthly membership, mirrored from Stripe a minute ago."""
    now = timezone.now()
    return Membership.objects.create(
        member=member,
        plan=plans["monthly"],
        stripe_subscription_id=SUBSCRIPTION,
        status=Membership.Status.ACTIVE,
        current_period_end=now + timedelta(days=20),
        started_at=now - timedelta(days=10),
        stripe_event_at=now - timedelta(minutes=1),
    )


@pytest.fixture
def stripe_api(settings, monkeypatch):
    """Real payments (a secret key set), with Stripe replaced at the StripeClient's HTTP client."""
    settings.STRIPE_SECRET_KEY = "sk_test_51PgafmB7WZ01zgkW"
    fake = FakeStripe()
    monkeypatch.setattr(gateway, "http_client", fake)
    return fake


@pytest.fixture
def demo_payments(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""


def sign_in_as(client, member):
    session = client.session
    session[SESSION_KEY] = member.pk
    session.save()


@pytest.fixture
def gift_prices(db):
    from membership.models import GiftPrice

    return {
        months: GiftPrice.objects.create(months=months, amount=amount, currency="gbp")
        for months, amount in {1: 500, 3: 1500, 6: 2800, 12: 5000}.items()
    }
