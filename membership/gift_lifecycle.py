"""What happens to gifts by the clock: reminders before a gift membership ends, expiry of
gifts nobody redeemed, and forgetting checkouts nobody paid. Beat runs these; each is safe to
run again or twice at once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from membership import emails
from membership.models import Gift, GiftPurchase, Membership

log = logging.getLogger(__name__)


def remind_ending(now: datetime | None = None) -> int:
    """Invite members whose gift membership ends within GIFT_REMINDER_DAYS to continue, once."""
    now = now or timezone.now()
    window_end = now + timedelta(days=settings.GIFT_REMINDER_DAYS)
    join_url = settings.SITE_URL + reverse("membership:join")
    reminded = 0
    with transaction.atomic():
        ending = (
            Membership.objects.select_for_update(skip_locked=True, of=("self",))
            .gifts_ending_between(now, window_end)
            .filter(ending_reminder_sent_at__isnull=True)
            .select_related("member")
        )
        for membership in ending:
            # A member who already pays (or has joined to continue) needs no invitation.
            if membership.member.paying_membership() is None:
                emails.gift_ending(membership.member, membership, join_url)
                reminded += 1
            membership.ending_reminder_sent_at = now
            membership.save(update_fields=["ending_reminder_sent_at", "updated_at"])
    if reminded:
        log.info("invited %d gift members to continue", reminded)
    return reminded


def expire_unredeemed(now: datetime | None = None) -> int:
    """Gifts nobody redeemed in time stop working."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Gift.objects.select_for_update(skip_locked=True).past_expiry(now).only("pk")
        count = Gift.objects.filter(pk__in=[gift.pk for gift in due]).update(
            status=Gift.Status.EXPIRED
        )
    if count:
        log.info("expired %d unredeemed gifts", count)
    return count


def forget_abandoned(now: datetime | None = None) -> int:
    """Delete purchases whose Checkout was never completed: names and messages go with them.

    A Checkout session lasts a day at most, so one still waiting after GIFT_ABANDONED_AFTER_DAYS
    was never paid. Payments that clear later are in "processing" and are kept; failed ones are
    kept as long again after they failed, for the buyer's questions.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.GIFT_ABANDONED_AFTER_DAYS)
    never_paid = Q(status=GiftPurchase.Status.PENDING, created_at__lt=cutoff) | Q(
        status__in=[GiftPurchase.Status.ABANDONED, GiftPurchase.Status.FAILED],
        failed_at__lt=cutoff,
    )
    _, by_model = GiftPurchase.objects.filter(never_paid).delete()
    count = by_model.get(GiftPurchase._meta.label, 0)
    if count:
        log.info("forgot %d unpaid gift purchases", count)
    return count
