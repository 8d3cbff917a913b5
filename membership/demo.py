"""The payments demo: a local stand-in for Stripe Checkout and the customer portal.

It runs only without a Stripe key and with DEBUG on. Paying or changing a membership here
builds the events Stripe would send, shaped as in gateway.API_VERSION, stores them, and a
Celery task signs them with the webhook secret and posts them to our own webhook, so the real
verification and handlers run. The post is never made inside the request that asked for it:
a web server with one sync worker would be waiting on itself. The worker posts after the
request's transaction commits, and the web server answers it like any other request.
"""

import hashlib
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from membership import gateway
from membership import stripe_shapes as shapes
from membership.models import DemoEvent, Membership, Plan

log = logging.getLogger(__name__)

_CHECKOUT_SALT = "membership.demo.checkout"
_PORTAL_SALT = "membership.demo.portal"
CHECKOUT_MAX_AGE = timedelta(hours=24)  # as long as a Stripe Checkout session lasts
PORTAL_MAX_AGE = timedelta(hours=1)


class PostFailed(Exception):
    """The webhook could not be reached or did not accept an event; the task retries."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class DemoCheckout:
    session_id: str
    member_id: int
    plan_id: int
    email: str
    customer_id: str
    success_url: str
    cancel_url: str
    trial_end: datetime | None = None


def create_checkout_session(request: gateway.CheckoutRequest) -> gateway.Session:
    # The same idempotency key gives the same session, as at Stripe.
    session_id = f"cs_demo_{_digest(request.idempotency_key)}"
    token = signing.dumps(
        {
            "s": session_id,
            "m": request.member_id,
            "p": request.plan_id,
            "e": request.email,
            "c": request.customer_id,
            "ok": request.success_url,
            "no": request.cancel_url,
            "t": int(request.trial_end.timestamp()) if request.trial_end else None,
        },
        salt=_CHECKOUT_SALT,
        compress=True,
    )
    url = settings.SITE_URL + reverse("membership:demo_checkout", args=[token])
    return gateway.Session(id=session_id, url=url)


def read_checkout(token: str) -> DemoCheckout:
    """Raise signing.BadSignature (or SignatureExpired) for a link that is not ours or too old."""
    data = signing.loads(token, salt=_CHECKOUT_SALT, max_age=CHECKOUT_MAX_AGE)
    return DemoCheckout(
        session_id=data["s"],
        member_id=data["m"],
        plan_id=data["p"],
        email=data["e"],
        customer_id=data["c"],
        success_url=data["ok"],
        cancel_url=data["no"],
        trial_end=datetime.fromtimestamp(data["t"], tz=UTC) if data.get("t") else None,
    )


def complete_checkout(checkout: DemoCheckout) -> str:
    """Pay a demo checkout: send the events Stripe would; return the success page's address."""
    plan = Plan.objects.get(pk=checkout.plan_id)
    now = timezone.now()
    digest = checkout.session_id.removeprefix("cs_demo_")
    customer = checkout.customer_id or f"cus_demo_{_digest(checkout.email.lower())[:14]}"
    sub = shapes.Subscription(f"sub_demo_{digest}", customer, checkout.member_id, plan, now)
    # A reader whose gift membership runs on starts with a trial until it ends.
    trial_end = checkout.trial_end
    period_end = trial_end or shapes.add_interval(now, plan.interval)
    session = {
        "id": checkout.session_id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "no_payment_required" if trial_end else "paid",
        "customer": customer,
        "customer_email": None if checkout.customer_id else checkout.email,
        "customer_details": {"email": checkout.email, "name": None},
        "subscription": sub.id,
        "client_reference_id": str(checkout.member_id),
        "metadata": {"member_id": str(checkout.member_id), "plan_id": str(plan.pk)},
        "amount_total": plan.amount,
        "currency": plan.currency,
        "success_url": checkout.success_url,
        "cancel_url": checkout.cancel_url,
        "livemode": False,
        "url": None,
    }
    subscription = shapes.subscription(
        sub,
        status="trialing" if trial_end else "active",
        period_start=now,
        period_end=period_end,
        trial_end=trial_end,
    )
    invoice = shapes.invoice(
        sub,
        paid=True,
        reason="subscription_create",
        period_start=now,
        period_end=period_end,
        amount=0 if trial_end else None,
    )
    # Stripe's usual order; paying twice makes the same event ids, which the webhook ignores.
    _send(
        [
            shapes.event(
                f"evt_demo_{digest}_1", "customer.subscription.created", subscription, now
            ),
            shapes.event(f"evt_demo_{digest}_2", "invoice.paid", invoice, now),
            shapes.event(f"evt_demo_{digest}_3", "checkout.session.completed", session, now),
        ]
    )
    return checkout.success_url.replace("{CHECKOUT_SESSION_ID}", checkout.session_id)


def create_portal_session(customer_id: str, return_url: str) -> gateway.Session:
    token = signing.dumps({"c": customer_id, "r": return_url}, salt=_PORTAL_SALT)
    url = settings.SITE_URL + reverse("membership:demo_portal", args=[token])
    return gateway.Session(id=f"bps_demo_{_digest(token)}", url=url)


@dataclass(frozen=True)
class DemoPortal:
    customer_id: str
    return_url: str

    def memberships(self) -> list[Membership]:
        return list(
            Membership.objects.filter(
                member__stripe_customer_id=self.customer_id, source=Membership.Source.PAID
            )
            .exclude(status__in=Membership.FINAL)
            .select_related("plan")
            .order_by("-started_at")
        )


def read_portal(token: str) -> DemoPortal:
    data = signing.loads(token, salt=_PORTAL_SALT, max_age=PORTAL_MAX_AGE)
    return DemoPortal(customer_id=data["c"], return_url=data["r"])


PORTAL_ACTIONS = ("cancel", "resume", "cancel_now", "fail_renewal", "renew")


def portal_action(portal: DemoPortal, membership: Membership, action: str) -> None:
    """Change a demo subscription as the portal (or Stripe's billing) would, by its events."""
    if membership.plan is None or not membership.stripe_subscription_id:
        raise ValueError("only demo subscriptions with a plan can be changed here")
    now = timezone.now()
    sub = shapes.Subscription(
        membership.stripe_subscription_id,
        portal.customer_id,
        membership.member_id,
        membership.plan,
        membership.started_at,
    )
    period_end = membership.current_period_end or shapes.add_interval(now, membership.plan.interval)
    state: dict[str, Any] = {
        "status": membership.status,
        "period_start": now,
        "period_end": period_end,
        "cancel_at_period_end": membership.cancel_at_period_end,
    }
    kind = "customer.subscription.updated"
    events: list[tuple[str, dict[str, Any]]] = []
    if action == "cancel":
        state["cancel_at_period_end"] = True
    elif action == "resume":
        state["cancel_at_period_end"] = False
    elif action == "cancel_now":
        kind = "customer.subscription.deleted"
        state.update(status="canceled", ended_at=now)
    elif action == "fail_renewal":
        invoice = shapes.invoice(
            sub, paid=False, reason="subscription_cycle", period_start=now, period_end=period_end
        )
        events.append(("invoice.payment_failed", invoice))
        state["status"] = "past_due"
    elif action == "renew":
        period_end = shapes.add_interval(max(now, period_end), membership.plan.interval)
        invoice = shapes.invoice(
            sub, paid=True, reason="subscription_cycle", period_start=now, period_end=period_end
        )
        events.append(("invoice.paid", invoice))
        state.update(status="active", period_end=period_end)
    else:
        raise ValueError(f"unknown demo portal action {action!r}")
    events.append((kind, shapes.subscription(sub, **state)))
    _send([shapes.event(f"evt_demo_{uuid.uuid4().hex[:24]}", k, obj, now) for k, obj in events])


def _send(events: list[dict[str, Any]]) -> None:
    from config.celery import publish_on_commit
    from membership.tasks import post_demo_events

    with transaction.atomic():
        rows = [
            DemoEvent.objects.get_or_create(stripe_id=event["id"], defaults={"payload": event})[0]
            for event in events
        ]
        publish_on_commit(post_demo_events, [row.pk for row in rows])


def post(demo_event_ids: list[int]) -> int:
    """Sign and post stored demo events to our webhook, in order; return how many went."""
    url = settings.SITE_URL + reverse("membership:stripe_webhook")
    if not url.startswith(("http://", "https://")):
        raise PostFailed(f"SITE_URL must be an http(s) address, not {settings.SITE_URL!r}")
    posted = 0
    waiting = DemoEvent.objects.filter(pk__in=demo_event_ids, posted_at__isnull=True)
    for row in waiting.order_by("pk"):
        body = json.dumps(row.payload)
        request = urllib.request.Request(  # noqa: S310 - an http(s) address, checked above
            url,
            data=body.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": gateway.sign(body)},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.save(update_fields=["last_error"])
            raise PostFailed(row.last_error) from exc
        if not 200 <= status < 300:
            row.last_error = f"the webhook answered {status}"
            row.save(update_fields=["last_error"])
            raise PostFailed(row.last_error)
        row.posted_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["posted_at", "last_error"])
        posted += 1
    log.info("payments demo: posted %d events to %s", posted, url)
    return posted
