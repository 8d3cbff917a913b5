"""What each Stripe event does to members and memberships.

Each handler takes the event's object (plain data, shaped as in API version
gateway.API_VERSION) and the time Stripe created the event, runs inside the transaction that
records the event, and returns a short note of what it did. Raising leaves the event failed,
answers 500 so Stripe retries, and lets staff replay it.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from membership import access, emails, gift_handlers
from membership.models import Member, Membership, Plan
from newsletters.addresses import normalise_email

Handler = Callable[[dict[str, Any], datetime], str]
PAID_CHECKOUT = {"paid", "no_payment_required"}


class UnknownCustomer(Exception):
    """An event about a customer no member is known by (yet: Stripe retries)."""


class MalformedObject(Exception):
    """The event's object lacks what a handler needs."""


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int) else None


def _find_member(metadata: Any, customer_id: Any, email: Any = None) -> Member | None:
    """The member an object is about: by our own id in its metadata, its customer, or email."""
    member_id = (metadata or {}).get("member_id")
    if isinstance(member_id, str) and member_id.isdigit():
        member = Member.objects.filter(pk=int(member_id)).first()
        if member is not None:
            return member
    if isinstance(customer_id, str) and customer_id:
        member = Member.objects.filter(stripe_customer_id=customer_id).first()
        if member is not None:
            return member
    if isinstance(email, str) and email:
        try:
            return Member.objects.get_or_create_for_email(normalise_email(email))
        except ValidationError:
            return None
    return None


def _claim_customer(member: Member, customer_id: Any) -> None:
    if member.stripe_customer_id or not isinstance(customer_id, str) or not customer_id:
        return
    if Member.objects.filter(stripe_customer_id=customer_id).exists():
        return  # another member has it; staff can sort out duplicates in the admin
    member.stripe_customer_id = customer_id
    member.save(update_fields=["stripe_customer_id"])


def _welcome_once(membership: Membership) -> None:
    """Welcome a member who joined through our checkout, once, whichever event comes first."""
    if membership.welcomed_at is None:
        emails.member_welcome(membership.member, membership)
        membership.welcomed_at = timezone.now()


def checkout_session_completed(session: dict[str, Any], at: datetime) -> str:
    if session.get("mode") == "payment":
        return gift_handlers.checkout_completed(session, at)
    if session.get("mode") != "subscription":
        return "not a membership checkout"
    subscription_id = session.get("subscription")
    if not isinstance(subscription_id, str):
        raise MalformedObject("a subscription checkout without a subscription id")
    email = (session.get("customer_details") or {}).get("email") or session.get("customer_email")
    member = _find_member(session.get("metadata"), session.get("customer"), email)
    if member is None:
        raise UnknownCustomer(f"no member and no email for checkout {session.get('id')}")
    _claim_customer(member, session.get("customer"))
    paid = session.get("payment_status") in PAID_CHECKOUT
    plan_id = str((session.get("metadata") or {}).get("plan_id", ""))
    membership, created = Membership.objects.select_for_update().get_or_create(
        stripe_subscription_id=subscription_id,
        defaults={
            "member": member,
            "source": Membership.Source.PAID,
            "plan": Plan.objects.filter(pk=int(plan_id)).first() if plan_id.isdigit() else None,
            "status": Membership.Status.ACTIVE if paid else Membership.Status.INCOMPLETE,
            "started_at": at,
        },
    )
    membership.checkout_session_id = str(session.get("id", ""))[:100]
    if paid:
        _welcome_once(membership)
    membership.save(update_fields=["checkout_session_id", "welcomed_at", "updated_at"])
    if created:
        _apply_waiting_invoices(subscription_id)
    return "membership created" if created else "checkout recorded"


def _period_end(subscription: dict[str, Any]) -> datetime | None:
    """The end of the current period: on the subscription's items in current API versions."""
    items = (subscription.get("items") or {}).get("data") or []
    ends = [end for item in items if (end := _time(item.get("current_period_end")))]
    return max(ends) if ends else None


def _plan(subscription: dict[str, Any]) -> Plan | None:
    items = (subscription.get("items") or {}).get("data") or []
    price_ids = [(item.get("price") or {}).get("id") for item in items]
    return Plan.objects.filter(stripe_price_id__in=[p for p in price_ids if p]).first()


def subscription_changed(subscription: dict[str, Any], at: datetime) -> str:
    subscription_id = subscription.get("id")
    status = subscription.get("status")
    if not isinstance(subscription_id, str) or status not in Membership.Status.values:
        raise MalformedObject(f"subscription {subscription_id!r} with status {status!r}")
    membership = (
        Membership.objects.select_for_update()
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )
    if membership is None:
        member = _find_member(subscription.get("metadata"), subscription.get("customer"))
        if member is None:
            raise UnknownCustomer(
                f"subscription {subscription_id} of customer {subscription.get('customer')} "
                "names no member of ours"
            )
        _claim_customer(member, subscription.get("customer"))
        membership = Membership.objects.create(
            member=member,
            source=Membership.Source.PAID,
            stripe_subscription_id=subscription_id,
            status=Membership.Status.INCOMPLETE,
            started_at=_time(subscription.get("start_date")) or at,
        )
        _apply_waiting_invoices(subscription_id)
        membership.refresh_from_db()
    if not membership.accepts(at, status):
        return f"older than the state we hold ({membership.status}); left as it is"
    membership.status = status
    membership.plan = _plan(subscription) or membership.plan
    # A cancellation set for a date (cancel_at) ends it then, if before the period's end.
    cancel_at = _time(subscription.get("cancel_at"))
    ends = [d for d in (_period_end(subscription), cancel_at) if d]
    membership.current_period_end = min(ends) if ends else None
    membership.cancel_at_period_end = bool(subscription.get("cancel_at_period_end") or cancel_at)
    membership.ended_at = _time(subscription.get("ended_at")) or (
        at if status in Membership.FINAL else None
    )
    if status in (Membership.Status.PAST_DUE, Membership.Status.UNPAID):
        membership.mark_past_due(at)
    else:
        membership.past_due_since = None
    membership.stripe_event_at = at
    # A checkout paid later (not at once) is welcomed when its subscription starts.
    if membership.checkout_session_id and status in Membership.RUNNING:
        _welcome_once(membership)
    membership.save()
    access.sync(membership.member)
    return f"status {status}"


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The subscription an invoice bills: under parent.subscription_details in current versions."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription_id = details.get("subscription")
    return subscription_id if isinstance(subscription_id, str) else None


def _membership_for_invoice(invoice: dict[str, Any]) -> Membership | None:
    subscription_id = _invoice_subscription(invoice)
    if subscription_id is None:
        return None
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("member", "plan")
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )


WAITING_FOR_SUBSCRIPTION = "waiting for its subscription"


def _apply_waiting_invoices(subscription_id: str) -> None:
    """Apply invoice events that arrived before their subscription was known, in Stripe's order.

    Stripe does not promise order: an invoice can come before the subscription it bills. Such
    events are stored as waiting and applied here, once, when the membership first exists.
    """
    from membership.models import StripeEvent

    waiting = StripeEvent.objects.filter(
        type__in=["invoice.paid", "invoice.payment_failed"],
        outcome=WAITING_FOR_SUBSCRIPTION,
        payload__data__object__parent__subscription_details__subscription=subscription_id,
    ).order_by("created_at", "pk")
    for stored in waiting.select_for_update():
        invoice = stored.payload["data"]["object"]
        note = HANDLERS[stored.type](invoice, stored.created_at)
        stored.outcome = f"applied when its subscription arrived: {note}"[:200]
        stored.save(update_fields=["outcome"])


def invoice_paid(invoice: dict[str, Any], at: datetime) -> str:
    membership = _membership_for_invoice(invoice)
    if membership is None:
        return WAITING_FOR_SUBSCRIPTION
    if membership.last_paid_at is None or at > membership.last_paid_at:
        membership.last_paid_at = at
    lines = (invoice.get("lines") or {}).get("data") or []
    ends = [end for line in lines if (end := _time((line.get("period") or {}).get("end")))]
    period_end = max(ends) if ends else None
    if period_end and (membership.current_period_end or period_end) <= period_end:
        membership.current_period_end = period_end
    note = "payment recorded"
    if membership.status in (Membership.Status.PAST_DUE, Membership.Status.UNPAID) and (
        membership.accepts(at, Membership.Status.ACTIVE)
    ):
        membership.status = Membership.Status.ACTIVE
        membership.past_due_since = None
        membership.stripe_event_at = at
        note = "paid again: active"
    membership.save()
    return note


def invoice_payment_failed(invoice: dict[str, Any], at: datetime) -> str:
    membership = _membership_for_invoice(invoice)
    if membership is None:
        return WAITING_FOR_SUBSCRIPTION
    if membership.status in Membership.FINAL:
        return "the membership has ended"
    newer = membership.stripe_event_at and at < membership.stripe_event_at
    if newer and membership.status in Membership.RUNNING:
        return "older than a later good state; left as it is"
    membership.mark_past_due(at)
    note = "past due"
    invoice_id = str(invoice.get("id", ""))[:100]
    if invoice_id != membership.failed_invoice_id:
        account_url = settings.SITE_URL + reverse("membership:account")
        fix_url = invoice.get("hosted_invoice_url") or account_url
        emails.payment_failed(membership.member, membership, fix_url)
        membership.failed_invoice_id = invoice_id
        note = "past due; member emailed"
    membership.save()
    return note


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout_session_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "checkout.session.async_payment_succeeded": gift_handlers.async_payment_succeeded,
    "checkout.session.async_payment_failed": gift_handlers.async_payment_failed,
    "checkout.session.expired": gift_handlers.checkout_expired,
    "charge.refunded": gift_handlers.charge_refunded,
}
