"""Redeeming a gift: once, by its link or its code, into a membership.

A reader with no membership gets a gift membership for the gift's months; one whose gift
membership is running has it extended. A reader who already pays keeps paying through Stripe
but later: the gift pushes their subscription's next payment back by its months (a trial until
then, with no proration), so Stripe stays the one record of when they are billed, and their
membership here is mirrored from the customer.subscription.updated event Stripe sends.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import Task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.celery import publish_on_commit
from membership import access, emails, gateway
from membership.models import Gift, Member, Membership
from membership.months import add_months
from newsletters.tokens import TokenInvalid, make_token, read_token

log = logging.getLogger(__name__)

CLAIM_PURPOSE = "membership.gift-claim"
CLAIM_MAX_AGE = timedelta(days=3)
# Stripe takes "now" for a trial end that has already passed, or nearly.
TRIAL_END_MARGIN = timedelta(minutes=5)


class GiftUnavailable(Exception):
    """The gift cannot be redeemed: why is in reason (redeemed, expired, revoked, waiting)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Redeemed:
    gift: Gift
    member: Member
    membership: Membership

    @property
    def extended_paid(self) -> bool:
        return self.gift.redemption == Gift.Redemption.EXTENDED_PAID


def check(gift: Gift, now: datetime | None = None) -> None:
    """Raise GiftUnavailable unless the gift can be redeemed now."""
    now = now or timezone.now()
    if gift.status == Gift.Status.REDEEMED:
        raise GiftUnavailable("redeemed")
    if gift.status == Gift.Status.EXPIRED or (
        gift.status == Gift.Status.DELIVERED and gift.expires_at and gift.expires_at <= now
    ):
        raise GiftUnavailable("expired")
    if gift.status != Gift.Status.DELIVERED:
        raise GiftUnavailable("revoked" if gift.status == Gift.Status.REVOKED else "waiting")


def redeem(gift: Gift, member_email: str = "", member: Member | None = None) -> Redeemed:
    """Redeem a gift for a member (by default the one its link was sent to); once only.

    Concurrent redemptions of one gift queue on its row lock: the first wins, the others raise
    GiftUnavailable("redeemed").
    """
    now = timezone.now()
    with transaction.atomic():
        gift = Gift.objects.select_for_update().select_related("purchase").get(pk=gift.pk)
        check(gift, now)
        if member is None:
            member = Member.objects.get_or_create_for_email(member_email or gift.link_sent_to)
        # Two gifts redeemed at once by one member each add their months, in turn.
        member = Member.objects.select_for_update().get(pk=member.pk)
        membership = _apply(gift, member, now)
        gift.status = Gift.Status.REDEEMED
        gift.redeemed_at = now
        gift.redeemed_by = member
        gift.membership = membership
        gift.save()
        emails.gift_redeemed(gift.purchase, gift)
    log.info("gift %s redeemed by member %s: %s", gift.pk, member.pk, gift.redemption)
    return Redeemed(gift=gift, member=member, membership=membership)


def _apply(gift: Gift, member: Member, now: datetime) -> Membership:
    paying = member.paying_membership()
    if paying is not None:
        paying = Membership.objects.select_for_update().get(pk=paying.pk)
        # Stripe counts in whole seconds.
        start = max(paying.next_payment_at() or now, now).replace(microsecond=0)
        paying.push_next_payment(add_months(start, gift.months))
        paying.save(update_fields=["gift_trial_end", "gift_trial_end_sent_at", "updated_at"])
        publish_on_commit(_push_task(), paying.pk)
        return _covers(gift, paying, Gift.Redemption.EXTENDED_PAID, start)
    running = (
        member.memberships.select_for_update(of=("self",))
        .giving_access(now)
        .filter(source=Membership.Source.GIFT, current_period_end__isnull=False)
        .order_by("-current_period_end")
        .first()
    )
    if running is not None and running.current_period_end is not None:
        start = running.current_period_end
        running.current_period_end = add_months(start, gift.months)
        running.ending_reminder_sent_at = None
        running.save(update_fields=["current_period_end", "ending_reminder_sent_at", "updated_at"])
        return _covers(gift, running, Gift.Redemption.EXTENDED_GIFT, start)
    membership = Membership.objects.create(
        member=member,
        source=Membership.Source.GIFT,
        status=Membership.Status.ACTIVE,
        started_at=now,
        current_period_end=add_months(now, gift.months),
        note=f"Gift {gift.pk} from purchase {gift.purchase_id}",
    )
    return _covers(gift, membership, Gift.Redemption.STARTED, now)


def _covers(gift: Gift, membership: Membership, kind: str, start: datetime) -> Membership:
    gift.redemption = kind
    gift.covers_from = start
    gift.covers_to = add_months(start, gift.months)
    return membership


def _push_task() -> Task:
    from membership.tasks import push_next_payment

    return push_next_payment


def take_back(gift: Gift, now: datetime) -> None:
    """Undo what a redeemed gift gave, as a refund or staff revoking it asks.

    Only this gift's time is taken: other gifts stacked on the same membership keep theirs.
    A gift membership left with no time ends now and its members-only lists close; a paying
    member's next payment moves forward again (to now, at the earliest). Time already used up
    is not billed afterwards: a membership that has run out, or a payment the gift's months
    no longer hold back, is left alone.
    """
    if gift.membership_id is None or gift.covers_from is None or gift.covers_to is None:
        return
    if gift.covers_to <= now:
        return
    membership = (
        Membership.objects.select_for_update().select_related("member").get(pk=gift.membership_id)
    )
    given = gift.covers_to - gift.covers_from
    if gift.redemption == Gift.Redemption.EXTENDED_PAID:
        pushed_to = membership.next_payment_at() or now
        membership.push_next_payment(max(pushed_to - given, now))
        membership.save(update_fields=["gift_trial_end", "gift_trial_end_sent_at", "updated_at"])
        publish_on_commit(_push_task(), membership.pk)
        return
    ends = membership.current_period_end
    if ends is None or ends <= now or membership.status in Membership.FINAL:
        return  # no end to move, or over already
    shortened = ends - given
    if shortened <= now:
        membership.end(now)
    else:
        membership.current_period_end = shortened
        membership.save(update_fields=["current_period_end", "updated_at"])
    access.sync(membership.member)


def push_next_payment(membership_id: int) -> bool:
    """Tell Stripe the next payment date redeemed gifts ask for; safe to run again.

    Raises gateway.PaymentsUnavailable for the task to retry. Returns whether Stripe was asked.
    """
    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None or membership.gift_trial_end is None:
        return False
    if membership.gift_trial_end_sent_at is not None or not membership.stripe_subscription_id:
        return False
    target = membership.gift_trial_end
    now = timezone.now()
    if membership.status in Membership.FINAL:
        log.warning("membership %s ended before its gift time reached Stripe", membership.pk)
        return False
    gateway.set_trial_end(
        membership.stripe_subscription_id,
        target if target > now + TRIAL_END_MARGIN else None,
        idempotency_key=f"trial-end-{membership.pk}-{int(target.timestamp())}",
    )
    # Only if no later gift (or refund) moved it again meanwhile: that one sends its own.
    Membership.objects.filter(pk=membership.pk, gift_trial_end=target).update(
        gift_trial_end_sent_at=now
    )
    return True


def unsent_pushes() -> list[int]:
    return list(
        Membership.objects.filter(
            gift_trial_end__isnull=False, gift_trial_end_sent_at__isnull=True
        ).values_list("pk", flat=True)
    )


# A gift code typed by someone not signed in: we email a link to the address they give, so
# only its owner can redeem into it (and be signed in as its member).


def claim_url(gift: Gift, email: str) -> str:
    token = make_token(CLAIM_PURPOSE, {"g": gift.pk, "e": email, "s": gift.link_salt})
    return settings.SITE_URL + reverse("membership:gift_claim", args=[token])


def email_claim_link(gift: Gift, email: str) -> None:
    """Email a link that redeems the gift into this address; the code keeps working till then."""
    check(gift)
    emails.gift_claim_link(gift, email, claim_url(gift, email))


def read_claim(token: str) -> tuple[Gift, str]:
    """The gift and address a claim link is for; raise TokenInvalid or TokenExpired."""
    payload = read_token(CLAIM_PURPOSE, token, CLAIM_MAX_AGE)
    if not isinstance(payload, dict) or not isinstance(payload.get("g"), int):
        raise TokenInvalid("not a gift claim")
    gift = Gift.objects.select_related("purchase").filter(pk=payload["g"]).first()
    # A new code (the address was corrected) makes older claims worthless.
    if gift is None or gift.link_salt != payload.get("s") or not payload.get("e"):
        raise TokenInvalid("gift gone or its code changed")
    return gift, str(payload["e"])
