"""Stripe objects as the current API version shapes them, built for the payments demo.

Only the fields this service reads, and the ones around them that make the shape recognisable:
a subscription's period dates are on its items, and an invoice names its subscription under
parent.subscription_details.
"""

import calendar
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from membership import gateway
from membership.models import Plan


def add_interval(start: datetime, interval: str) -> datetime:
    """One month or year later, on the same day where the calendar has it."""
    months = 12 if interval == Plan.Interval.YEAR else 1
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


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
    sub: Subscription, *, paid: bool, reason: str, period_start: datetime, period_end: datetime
) -> dict[str, Any]:
    invoice_id = f"in_demo_{uuid.uuid4().hex[:24]}"
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": sub.customer,
        "status": "paid" if paid else "open",
        "billing_reason": reason,
        "currency": sub.plan.currency,
        "amount_due": sub.plan.amount,
        "amount_paid": sub.plan.amount if paid else 0,
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
                    "amount": sub.plan.amount,
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
