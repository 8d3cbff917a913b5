"""Joining and managing a paid membership: our records first, then Stripe."""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from membership import gateway
from membership.models import Member, Membership, Plan


class AlreadyMember(Exception):
    """The address already pays for a membership; a second one would charge it twice."""

    def __init__(self, member: Member) -> None:
        super().__init__(f"member {member.pk} already has a paid membership")
        self.member = member


def _key(kind: str, *parts: object) -> str:
    """Our idempotency key: the same click (same attempt, same choices) gives the same key."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"{kind}-{digest}"


def start(email: str, plan: Plan, attempt: str) -> gateway.Session:
    """Open a Checkout session for a normalised address and a plan; return where to send them.

    The member is recorded before Stripe is called, so their address is never lost, and
    Stripe's events find them by the id we put in the session's metadata. Raises AlreadyMember
    for an address that already pays, and gateway.PaymentsUnavailable when Stripe cannot be
    reached.
    """
    member = Member.objects.get_or_create_for_email(email)
    paying = member.memberships.giving_access().filter(source=Membership.Source.PAID)
    if paying.exists():
        raise AlreadyMember(member)
    welcome = settings.SITE_URL + reverse("membership:welcome")
    trial_end = gift_trial_end(member)
    request = gateway.CheckoutRequest(
        member_id=member.pk,
        plan_id=plan.pk,
        price_id=plan.stripe_price_id,
        email=member.email,
        customer_id=member.stripe_customer_id or "",
        success_url=welcome + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=settings.SITE_URL + reverse("membership:cancelled"),
        idempotency_key=_key("checkout", attempt, member.pk, plan.stripe_price_id, trial_end),
        trial_end=trial_end,
    )
    return gateway.create_checkout_session(request)


# Stripe Checkout takes a trial end at least 48 hours away; a little more allows for the
# reader taking their time on the payment page.
MIN_TRIAL = timedelta(hours=49)


def gift_trial_end(member: Member, now: datetime | None = None) -> datetime | None:
    """A gift member who joins keeps the rest of the gift: no payment until it ends."""
    now = now or timezone.now()
    ends = member.gift_ends_at(now)
    return ends if ends is not None and ends - now >= MIN_TRIAL else None


def open_portal(member: Member, attempt: str) -> gateway.Session:
    """Open Stripe's customer portal for a member with a Stripe customer."""
    if not member.stripe_customer_id:
        raise gateway.PaymentsUnavailable(f"member {member.pk} has no Stripe customer")
    return_url = settings.SITE_URL + reverse("membership:account")
    return gateway.create_portal_session(
        member.stripe_customer_id,
        return_url,
        idempotency_key=_key("portal", attempt, member.stripe_customer_id),
    )
