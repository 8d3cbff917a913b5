"""The one door to Stripe: nothing else in the service imports stripe.

Every call goes through a StripeClient pinned to one API version, so an SDK upgrade cannot
change the shape of what Stripe sends us. Calls that create things carry our own idempotency
key. Without a secret key (development only) the calls go to the local payments demo instead.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings

log = logging.getLogger(__name__)

API_VERSION = "2026-10-28.endive"
# Stripe's own default: a signature older than this is refused as a replay.
SIGNATURE_TOLERANCE_SECONDS = 300
# None: the SDK's own HTTP client. The tests put a fake here, the one point they replace.
http_client: stripe.HTTPClient | None = None


class PaymentsUnavailable(Exception):
    """Stripe could not be reached or refused the request; the reader may try again."""


class BadEvent(Exception):
    """A webhook body that is unsigned, wrongly signed, stale or not a Stripe event."""


@dataclass(frozen=True)
class CheckoutRequest:
    member_id: int
    plan_id: int
    price_id: str
    email: str
    customer_id: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    # A reader whose gift membership runs on pays nothing until it ends.
    trial_end: datetime | None = None


@dataclass(frozen=True)
class GiftLine:
    name: str
    months: int
    unit_amount: int
    quantity: int


@dataclass(frozen=True)
class GiftCheckoutRequest:
    purchase_id: int
    email: str
    currency: str
    lines: list[GiftLine]
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True)
class RefundRequest:
    payment_intent_id: str
    amount: int
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Session:
    id: str
    url: str


def demo_mode() -> bool:
    return not settings.STRIPE_SECRET_KEY


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        http_client=http_client,
        max_network_retries=2,  # safe: the idempotency key makes a retry return the same thing
    )


def _refuse_demo_in_production() -> None:
    if not settings.DEBUG:
        raise PaymentsUnavailable("STRIPE_SECRET_KEY is not set and the demo is for DEBUG only")


def create_checkout_session(request: CheckoutRequest) -> Session:
    """Start Stripe Checkout in subscription mode for one plan."""
    if demo_mode():
        _refuse_demo_in_production()
        from membership import demo

        return demo.create_checkout_session(request)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": request.price_id, "quantity": 1}],
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "client_reference_id": str(request.member_id),
        "metadata": {"member_id": str(request.member_id), "plan_id": str(request.plan_id)},
        "subscription_data": {"metadata": {"member_id": str(request.member_id)}},
    }
    if request.trial_end is not None:
        params["subscription_data"]["trial_end"] = int(request.trial_end.timestamp())
    if request.customer_id:
        params["customer"] = request.customer_id
    else:
        params["customer_email"] = request.email
    return _create_session(params, request.idempotency_key, f"member {request.member_id}")


def _create_session(params: dict[str, Any], idempotency_key: str, about: str) -> Session:
    try:
        session = _client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        log.error("checkout for %s failed: %s", about, exc)
        raise PaymentsUnavailable(str(exc)) from exc
    if not session.url:
        raise PaymentsUnavailable("Stripe returned a Checkout session without a URL")
    return Session(id=session.id, url=session.url)


def create_gift_checkout_session(request: GiftCheckoutRequest) -> Session:
    """Start Stripe Checkout in payment mode: one session for every gift in a purchase."""
    if demo_mode():
        _refuse_demo_in_production()
        from membership import demo_gifts

        return demo_gifts.create_checkout_session(request)
    metadata = {"gift_purchase_id": str(request.purchase_id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": line.quantity,
                "price_data": {
                    "currency": request.currency,
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.name, "metadata": {"months": str(line.months)}},
                },
            }
            for line in request.lines
        ],
        "customer_email": request.email,
        "client_reference_id": f"gift-purchase-{request.purchase_id}",
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "submit_type": "pay",
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    return _create_session(params, request.idempotency_key, f"gift purchase {request.purchase_id}")


def set_trial_end(subscription_id: str, trial_end: datetime | None, idempotency_key: str) -> None:
    """Move a subscription's next payment to trial_end (None: now), with no proration.

    Redeemed gifts push a paying member's next payment back this way; a refunded one pulls it
    forward again. Stripe answers with customer.subscription.updated, which mirrors it here.
    """
    if demo_mode():
        _refuse_demo_in_production()
        from membership import demo_gifts

        return demo_gifts.set_trial_end(subscription_id, trial_end)
    params: dict[str, Any] = {
        "trial_end": int(trial_end.timestamp()) if trial_end else "now",
        # The member keeps the time they paid for; the gift adds to it, no credit either way.
        "proration_behavior": "none",
    }
    try:
        _client().v1.subscriptions.update(
            subscription_id,
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        log.error("moving the next payment of %s failed: %s", subscription_id, exc)
        raise PaymentsUnavailable(str(exc)) from exc


def create_refund(request: RefundRequest) -> str:
    """Refund part or all of a payment; Stripe's charge.refunded event does the rest."""
    if demo_mode():
        _refuse_demo_in_production()
        from membership import demo_gifts

        return demo_gifts.create_refund(request)
    try:
        refund = _client().v1.refunds.create(
            params={
                "payment_intent": request.payment_intent_id,
                "amount": request.amount,
                "metadata": request.metadata,
            },
            options={"idempotency_key": request.idempotency_key},
        )
    except stripe.StripeError as exc:
        log.error("refund on %s failed: %s", request.payment_intent_id, exc)
        raise PaymentsUnavailable(str(exc)) from exc
    return str(refund.id)


def create_portal_session(customer_id: str, return_url: str, idempotency_key: str) -> Session:
    """Open Stripe's customer portal (card, invoices, cancelling) for one customer."""
    if demo_mode():
        _refuse_demo_in_production()
        from membership import demo

        return demo.create_portal_session(customer_id, return_url)
    try:
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        log.error("portal for customer %s failed: %s", customer_id, exc)
        raise PaymentsUnavailable(str(exc)) from exc
    return Session(id=session.id, url=session.url)


def verify_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """Check the Stripe-Signature over the raw body and return the event as plain data."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise BadEvent(str(exc).split(". ")[0]) from None
    except UnicodeDecodeError:
        raise BadEvent("The body is not UTF-8") from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise BadEvent("The body is not JSON") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise BadEvent("The body is not a Stripe event")
    return event


def sign(payload: str) -> str:
    """A Stripe-Signature header for a body, as Stripe makes it (the demo signs with this)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret))
