"""Stripe objects as the current API version shapes them, built for the payments demo.

Only the fields this service reads, and the ones around them that make the shape recognisable:
a subscription's period dates are on its items, and an invoice names its subscription under
parent.subscription_details.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from membership import gateway
from membership.models import Plan
from membership.months import add_months


def add_interval(start: datetime, interval: str) -> datetime:
    """One month or year later, on the same day where the calendar has it."""
    return add_months(start, 12 if interval == Plan.Interval.YEAR else 1)


def _ts(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def event(event_id: str, kind: str, obj: dict[str, Any], created: datetime) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": gateway.API_VERSION,
        "created": _ts(created),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def _price(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.stripe_price_id,
        "object": "price",
        "active": True,
        "currency": plan.currency,
        "unit_amount": plan.amount,
        "recurring": {"interval": plan.interval, "interval_count": 1},
        "type": "recurring",
    }


@dataclass(frozen=True)
class Subscription:
    id: str
    customer: str
    member_id: int
    plan: Plan
    started: datetime


def subscription(
    sub: Subscription,
    *,
    status: str,
    period_start: datetime,
    period_end: datetime,
    cancel_at_period_end: bool = False,
    ended_at: datetime | None = None,
    trial_end: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": sub.id,
        "object": "subscription",
        "customer": sub.customer,
        "status": status,
        "created": _ts(sub.started),
        "start_date": _ts(sub.started),
        "currency": sub.plan.currency,
        "cancel_at": None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": _ts(ended_at),
        "ended_at": _ts(ended_at),
        "trial_end": _ts(trial_end),
        "livemode": False,
        "metadata": {"member_id": str(sub.member_id)},
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"si_{sub.id.removeprefix('sub_')}",
                    "object": "subscription_item",
                    "subscription": sub.id,
                    "quantity": 1,
                    "price": _price(sub.plan),
                    "current_period_start": _ts(period_start),
                    "current_period_end": _ts(period_end),
                }
            ],
        },
    }


def invoice(
    sub: Subscription,
    *,
    paid: bool,
    reason: str,
    period_start: datetime,
    period_end: datetime,
    amount: int | None = None,
) -> dict[str, Any]:
    invoice_id = f"in_demo_{uuid.uuid4().hex[:24]}"
    amount = sub.plan.amount if amount is None else amount
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": sub.customer,
        "status": "paid" if paid else "open",
        "billing_reason": reason,
        "currency": sub.plan.currency,
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "attempt_count": 1,
        "hosted_invoice_url": None,
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": sub.id, "metadata": {}},
        },
        "lines": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"il_demo_{uuid.uuid4().hex[:24]}",
                    "object": "line_item",
                    "amount": amount,
                    "currency": sub.plan.currency,
                    "invoice": invoice_id,
                    "period": {"start": _ts(period_start), "end": _ts(period_end)},
                    "parent": {
                        "type": "subscription_item_details",
                        "subscription_item_details": {
                            "subscription": sub.id,
                            "subscription_item": f"si_{sub.id.removeprefix('sub_')}",
                            "proration": False,
                        },
                    },
                }
            ],
        },
    }


def payment_checkout_session(
    session_id: str,
    *,
    purchase_id: int,
    email: str,
    amount: int,
    currency: str,
    payment_intent: str,
    payment_status: str,
    success_url: str,
    cancel_url: str,
) -> dict[str, Any]:
    """A Checkout session in payment mode, as gift purchases use."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": payment_status,
        "payment_intent": payment_intent,
        "customer": None,
        "customer_email": email,
        "customer_details": {"email": email, "name": None},
        "subscription": None,
        "client_reference_id": f"gift-purchase-{purchase_id}",
        "metadata": {"gift_purchase_id": str(purchase_id)},
        "amount_total": amount,
        "currency": currency,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "livemode": False,
        "url": None,
    }


def charge(
    *, payment_intent: str, amount: int, amount_refunded: int, currency: str, email: str
) -> dict[str, Any]:
    """The charge behind a payment intent, as charge.refunded carries it."""
    return {
        "id": f"ch_{payment_intent.removeprefix('pi_')}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "captured": True,
        "paid": True,
        "status": "succeeded",
        "currency": currency,
        "customer": None,
        "payment_intent": payment_intent,
        "billing_details": {"email": email, "name": None},
        "receipt_email": email,
        "livemode": False,
        "metadata": {},
    }
