"""The payments demo for gifts: Checkout in payment mode, refunds, and moving a paying member's
next payment, each answered with the events Stripe would send (see demo.py).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from membership import gateway
from membership import stripe_shapes as shapes
from membership.demo import CHECKOUT_MAX_AGE, _digest, _send
from membership.models import Gift, GiftPurchase, Membership

_SALT = "membership.demo.gift-checkout"

# How the demo buyer pays: at once, or by a method that clears later and succeeds or fails.
PAY_NOW = "pay"
PAY_LATER = "pay_later"
PAY_LATER_FAILS = "pay_later_fails"
CHOICES = (PAY_NOW, PAY_LATER, PAY_LATER_FAILS)


@dataclass(frozen=True)
class DemoGiftCheckout:
    session_id: str
    purchase_id: int
    email: str
    success_url: str
    cancel_url: str


def create_checkout_session(request: gateway.GiftCheckoutRequest) -> gateway.Session:
    session_id = f"cs_demo_{_digest(request.idempotency_key)}"
    token = signing.dumps(
        {
            "s": session_id,
            "p": request.purchase_id,
            "e": request.email,
            "ok": request.success_url,
            "no": request.cancel_url,
        },
        salt=_SALT,
        compress=True,
    )
    url = settings.SITE_URL + reverse("membership:demo_gift_checkout", args=[token])
    return gateway.Session(id=session_id, url=url)


def read_checkout(token: str) -> DemoGiftCheckout:
    """Raise signing.BadSignature (or SignatureExpired) for a link that is not ours or too old."""
    data = signing.loads(token, salt=_SALT, max_age=CHECKOUT_MAX_AGE)
    return DemoGiftCheckout(
        session_id=data["s"],
        purchase_id=data["p"],
        email=data["e"],
        success_url=data["ok"],
        cancel_url=data["no"],
    )


def complete_checkout(checkout: DemoGiftCheckout, purchase: GiftPurchase, choice: str) -> str:
    """Pay a demo gift checkout as chosen; return the success page's address."""
    if choice not in CHOICES:
        raise ValueError(f"unknown demo payment {choice!r}")
    now = timezone.now()
    digest = checkout.session_id.removeprefix("cs_demo_")

    def session(payment_status: str) -> dict[str, object]:
        return shapes.payment_checkout_session(
            checkout.session_id,
            purchase_id=purchase.pk,
            email=checkout.email,
            amount=purchase.amount_total,
            currency=purchase.currency,
            payment_intent=f"pi_demo_{digest}",
            payment_status=payment_status,
            success_url=checkout.success_url,
            cancel_url=checkout.cancel_url,
        )

    completed = "checkout.session.completed"
    if choice == PAY_NOW:
        events = [(completed, session("paid"))]
    else:
        later = "async_payment_succeeded" if choice == PAY_LATER else "async_payment_failed"
        events = [
            (completed, session("unpaid")),
            (f"checkout.session.{later}", session("paid" if choice == PAY_LATER else "unpaid")),
        ]
    # Paying twice makes the same event ids, which the webhook acknowledges and ignores.
    _send(
        [
            shapes.event(f"evt_demo_{digest}_g{n}", kind, obj, now)
            for n, (kind, obj) in enumerate(events, start=1)
        ]
    )
    return checkout.success_url.replace("{CHECKOUT_SESSION_ID}", checkout.session_id)


def create_refund(request: gateway.RefundRequest) -> str:
    """Refund as Stripe would: charge.refunded with the amount refunded so far, in all."""
    purchase = GiftPurchase.objects.get(payment_intent_id=request.payment_intent_id)
    gifts = purchase.gifts.exclude(status=Gift.Status.UNPAID)
    asked = sum(
        gift.amount
        for gift in gifts
        if gift.refund_requested_at or gift.revoke_reason == Gift.RevokeReason.REFUNDED
    )
    charge = shapes.charge(
        payment_intent=request.payment_intent_id,
        amount=purchase.amount_total,
        amount_refunded=min(max(asked, request.amount), purchase.amount_total),
        currency=purchase.currency,
        email=purchase.buyer_email,
    )
    refund_id = f"re_demo_{_digest(request.idempotency_key)}"
    _send([shapes.event(f"evt_demo_{refund_id}", "charge.refunded", charge, timezone.now())])
    return refund_id


def set_trial_end(subscription_id: str, trial_end: datetime | None) -> None:
    """Move a demo subscription's next payment, as Stripe would: customer.subscription.updated."""
    membership = (
        Membership.objects.select_related("member", "plan")
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )
    if membership is None or membership.plan is None:
        raise gateway.PaymentsUnavailable(f"no demo subscription {subscription_id}")
    now = timezone.now()
    sub = shapes.Subscription(
        subscription_id,
        membership.member.stripe_customer_id or "",
        membership.member_id,
        membership.plan,
        membership.started_at,
    )
    if trial_end is None:  # "now": the trial ends and a paid period starts
        status, period_end = "active", shapes.add_interval(now, membership.plan.interval)
    else:
        status, period_end = "trialing", trial_end
    subscription = shapes.subscription(
        sub,
        status=status,
        period_start=now,
        period_end=period_end,
        cancel_at_period_end=membership.cancel_at_period_end,
        trial_end=trial_end,
    )
    kind = "customer.subscription.updated"
    _send([shapes.event(f"evt_demo_{uuid.uuid4().hex[:24]}", kind, subscription, now)])
