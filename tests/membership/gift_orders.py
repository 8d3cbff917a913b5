"""Buying, paying for and delivering gifts in tests, through the same doors readers use."""

from django.db import transaction
from django.utils import timezone

from membership import gift_purchase
from membership.models import Gift, GiftPurchase
from newsletters.models import OutboundEmail
from tests.membership.conftest import event, post_event, stripe_object

ATTEMPT = "0123456789abcdef0123456789abcdef"
BUYER = "giver@example.org"


def recipient(n=1, **fields):
    return {
        "name": f"Friend {n}",
        "email": f"friend{n}@example.org",
        "months": "3",
        "message": "",
        "deliver_on": "",
        **fields,
    }


def gift_form(*recipients, buyer_name="A Giver", buyer_email=BUYER, attempt=ATTEMPT):
    """The gift page's form as a browser posts it."""
    recipients = recipients or (recipient(),)
    data = {
        "recipients-TOTAL_FORMS": str(len(recipients)),
        "recipients-INITIAL_FORMS": "0",
        "recipients-MIN_NUM_FORMS": "1",
        "recipients-MAX_NUM_FORMS": "10",
        "buyer_name": buyer_name,
        "buyer_email": buyer_email,
        "attempt": attempt,
    }
    for i, fields in enumerate(recipients):
        for key, value in fields.items():
            data[f"recipients-{i}-{key}"] = value
    return data


def order(*recipients, buyer_name="A Giver", buyer_email=BUYER):
    recipients = recipients or (
        gift_purchase.Recipient("Friend 1", "friend1@example.org", 3, "", None),
    )
    return gift_purchase.Order(buyer_name, buyer_email, list(recipients))


def a_recipient(n=1, months=3, message="", deliver_on=None, name=None):
    return gift_purchase.Recipient(
        name or f"Friend {n}", f"friend{n}@example.org", months, message, deliver_on
    )


def session_for(purchase, **changes):
    """The payment-mode Checkout session Stripe would send for a purchase."""
    fields = {
        "id": purchase.checkout_session_id or f"cs_test_gift{purchase.pk}",
        "metadata": {"gift_purchase_id": str(purchase.pk)},
        "amount_total": purchase.amount_total,
        "customer_email": purchase.buyer_email,
        **changes,
    }
    return stripe_object("checkout_session_payment", **fields)


def pay(client, purchase, kind="checkout.session.completed", created=None, **changes):
    return post_event(client, event(kind, session_for(purchase, **changes), created=created))


def refund(client, purchase, amount_refunded, created=None, **changes):
    charge = stripe_object(
        "charge",
        payment_intent=purchase.payment_intent_id,
        amount=purchase.amount_total,
        amount_refunded=amount_refunded,
        refunded=amount_refunded >= purchase.amount_total,
        **changes,
    )
    return post_event(client, event("charge.refunded", charge, created=created))


def bought(*recipients, attempt=ATTEMPT, **buyer):
    """A purchase recorded as the form would, waiting for payment."""
    return gift_purchase.record(order(*recipients, **buyer), attempt)


def paid(*recipients, at=None, **buyer):
    """A purchase Stripe has said is paid (gifts due now are delivered)."""
    purchase = bought(*recipients, **buyer)
    with transaction.atomic():  # as inside the webhook's handling of the event
        purchase = GiftPurchase.objects.select_for_update().get(pk=purchase.pk)
        gift_purchase.paid(purchase, at or timezone.now(), f"pi_test_gift_{purchase.pk}")
    purchase.refresh_from_db()
    return purchase


def gift_email(to):
    """The latest gift email queued to an address."""
    return OutboundEmail.objects.filter(kind="gift", to=to).order_by("-pk").first()


def gifts(purchase):
    return list(Gift.objects.filter(purchase=purchase).order_by("pk"))
