"""Buying gifts: the purchase and its gifts are committed first, then one Checkout session.

A gift counts as paid only on Stripe's word: checkout.session.completed with payment_status
"paid", or checkout.session.async_payment_succeeded for payments that clear later.
"""

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from membership import emails, gateway, gift_delivery
from membership.models import Gift, GiftPrice, GiftPurchase
from membership.models.gifts import months_label


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    months: int
    message: str
    deliver_on: date | None


@dataclass(frozen=True)
class Order:
    buyer_name: str
    buyer_email: str
    recipients: list[Recipient]


class PricesChanged(Exception):
    """A duration chosen on the form is no longer offered."""


def _attempt_key(attempt: str, order: Order) -> str:
    """The same attempt with the same order gives the same key: a double click is one purchase."""
    content = json.dumps([attempt, asdict(order)], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def record(order: Order, attempt: str) -> GiftPurchase:
    """Commit the purchase and its gifts, waiting for payment; once per attempt and order."""
    prices = {price.months: price for price in GiftPrice.objects.offered()}
    if any(r.months not in prices for r in order.recipients):
        raise PricesChanged
    currency = prices[order.recipients[0].months].currency
    with transaction.atomic():
        purchase, created = GiftPurchase.objects.get_or_create(
            attempt_key=_attempt_key(attempt, order),
            defaults={
                "buyer_name": order.buyer_name,
                "buyer_email": order.buyer_email,
                "language": translation.get_language() or settings.LANGUAGE_CODE,
                "currency": currency,
                "amount_total": sum(prices[r.months].amount for r in order.recipients),
            },
        )
        if created:
            for recipient in order.recipients:
                gift = Gift(
                    purchase=purchase,
                    months=recipient.months,
                    amount=prices[recipient.months].amount,
                    currency=currency,
                    recipient_name=recipient.name,
                    recipient_email=recipient.email,
                    message=recipient.message,
                )
                gift.schedule(recipient.deliver_on)
                gift.save()
    return purchase


def start(order: Order, attempt: str) -> gateway.Session:
    """Record the order and open its Checkout session; return where to send the buyer.

    Raises PricesChanged, or gateway.PaymentsUnavailable when Stripe cannot be reached (the
    purchase stays recorded, unpaid, and a second try reuses it).
    """
    purchase = record(order, attempt)
    by_months = Counter(gift.months for gift in purchase.gifts.all())
    amounts = {gift.months: gift.amount for gift in purchase.gifts.all()}
    lines = [
        gateway.GiftLine(
            name=str(_line_name(months)),
            months=months,
            unit_amount=amounts[months],
            quantity=quantity,
        )
        for months, quantity in sorted(by_months.items())
    ]
    thanks = settings.SITE_URL + reverse("membership:gift_thanks")
    request = gateway.GiftCheckoutRequest(
        purchase_id=purchase.pk,
        email=purchase.buyer_email,
        currency=purchase.currency,
        lines=lines,
        success_url=thanks + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=settings.SITE_URL + reverse("membership:gift_cancelled"),
        idempotency_key=f"gift-checkout-{purchase.attempt_key[:40]}",
    )
    session = gateway.create_gift_checkout_session(request)
    GiftPurchase.objects.filter(pk=purchase.pk).update(checkout_session_id=session.id[:100])
    return session


def _line_name(months: int) -> str:
    # Only the duration goes to Stripe: who the gifts are for stays with us.
    with translation.override(settings.LANGUAGE_CODE):
        return f"{settings.NEWSROOM_NAME} gift membership: {months_label(months)}"


# What Stripe's events do, called by the handlers inside the event's transaction.


def paid(purchase: GiftPurchase, at: datetime, payment_intent_id: str = "") -> str:
    """The money arrived: schedule the gifts, deliver those due now, send the receipt."""
    if not purchase.mark_paid(at, payment_intent_id):
        return "gift purchase already paid"
    gifts = list(purchase.gifts.select_for_update().filter(status=Gift.Status.AWAITING_PAYMENT))
    for gift in gifts:
        gift.mark_paid(at)
        gift.save()
    delivered = gift_delivery.deliver_paid(purchase, at)
    emails.gift_receipt(purchase, list(purchase.gifts.all()))
    return f"gift purchase paid; {len(delivered)} of {len(gifts)} gifts delivered at once"


def processing(purchase: GiftPurchase, payment_intent_id: str = "") -> str:
    purchase.mark_processing(payment_intent_id)
    return "gift purchase waiting for a payment that clears later"


def failed(purchase: GiftPurchase, at: datetime) -> str:
    """A payment that clears later did not: nothing is delivered, and the buyer is told."""
    if not purchase.mark_unpaid(GiftPurchase.Status.FAILED, at):
        return f"gift purchase is {purchase.status}; left as it is"
    emails.gift_payment_failed(purchase, settings.SITE_URL + reverse("membership:gift_buy"))
    return "gift payment failed; buyer told"


def abandoned(purchase: GiftPurchase, at: datetime) -> str:
    if not purchase.mark_unpaid(GiftPurchase.Status.ABANDONED, at):
        return f"gift purchase is {purchase.status}; left as it is"
    return "gift checkout expired unpaid"
