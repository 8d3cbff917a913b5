"""Delivering gifts on their day, and what the buyer may change before a gift is redeemed.

Beat runs deliver_due every few minutes: a gift whose morning has come is emailed to its
recipient once, whichever run (or how many at once) finds it first. Far-future Celery
countdowns are never used: the Redis broker redelivers long-delayed tasks.
"""

import logging
from datetime import date, datetime
from itertools import groupby

from django.db import transaction
from django.utils import timezone

from membership import emails
from membership.models import Gift, GiftPurchase
from membership.models.gifts import format_code

log = logging.getLogger(__name__)

BATCH = 200


class NotChangeable(Exception):
    """The gift has gone past the point where this can be changed."""


def _send(gift: Gift, now: datetime) -> None:
    """Email the gift with its working link and code; the first time, make them."""
    token, code = gift.credentials() if gift.link_salt else gift.rotate_credentials()
    gift.link_sent_to = gift.recipient_email
    gift.last_sent_at = now
    gift.save()
    emails.gift_for_recipient(gift, gift.redeem_url(token), format_code(code))


def _deliver(gift: Gift, now: datetime) -> None:
    gift.status = Gift.Status.DELIVERED
    gift.delivered_at = now
    _send(gift, now)


def deliver_paid(purchase: GiftPurchase, now: datetime) -> list[Gift]:
    """At payment, deliver the purchase's gifts that are due; the receipt says so."""
    gifts = list(purchase.gifts.select_for_update().due(now))
    for gift in gifts:
        _deliver(gift, now)
    return gifts


def deliver_due(now: datetime | None = None) -> int:
    """Deliver every paid gift whose time has come; tell each buyer once per run. Idempotent."""
    now = now or timezone.now()
    delivered = 0
    while True:
        with transaction.atomic():
            # Rows another run holds are skipped, not waited for: it is delivering them.
            batch = list(
                Gift.objects.select_for_update(skip_locked=True, of=("self",))
                .due(now)
                .select_related("purchase")
                .order_by("purchase_id", "pk")[:BATCH]
            )
            for gift in batch:
                _deliver(gift, now)
            for _purchase_id, group in groupby(batch, key=lambda gift: gift.purchase_id):
                gifts = list(group)
                emails.gifts_delivered(gifts[0].purchase, gifts)
        delivered += len(batch)
        if len(batch) < BATCH:
            break
    if delivered:
        log.info("delivered %d gifts", delivered)
    return delivered


def _locked(gift: Gift) -> Gift:
    return Gift.objects.select_for_update().select_related("purchase").get(pk=gift.pk)


def resend(gift: Gift) -> Gift:
    """Email a delivered gift again, with the same link and code."""
    with transaction.atomic():
        gift = _locked(gift)
        if not gift.can_resend:
            raise NotChangeable
        _send(gift, timezone.now())
    return gift


def change_address(gift: Gift, email: str) -> Gift:
    """Correct the recipient's address before redemption.

    A delivered gift goes to the new address with a fresh link and code, and the ones sent to
    the wrong address stop working.
    """
    with transaction.atomic():
        gift = _locked(gift)
        if not gift.can_change_address:
            raise NotChangeable
        gift.recipient_email = email
        if gift.status == Gift.Status.DELIVERED:
            gift.rotate_credentials()
            _send(gift, timezone.now())
        else:
            gift.save(update_fields=["recipient_email"])
    return gift


def change_date(gift: Gift, deliver_on: date | None) -> Gift:
    """Move delivery before it happens; no date, or today's past morning, delivers it now."""
    now = timezone.now()
    with transaction.atomic():
        gift = _locked(gift)
        if not gift.can_change_date:
            raise NotChangeable
        gift.schedule(deliver_on)
        if gift.status == Gift.Status.SCHEDULED:
            paid_at = gift.purchase.paid_at or now
            if gift.deliver_at is None or gift.deliver_at <= now:
                gift.deliver_at = now
                gift.set_expiry(paid_at)
                _deliver(gift, now)
                emails.gifts_delivered(gift.purchase, [gift])
                return gift
            gift.set_expiry(paid_at)
        gift.save(update_fields=["deliver_on", "deliver_at", "expires_at"])
    return gift
