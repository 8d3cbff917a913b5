"""Refunds and revoking: a refunded gift stops working, or stops what it started.

Stripe's charge.refunded says how much of a purchase's payment has been refunded in all, not
which gifts: a purchase pays for up to ten. Gifts are marked refunded until the refunded
amount is covered: first those refunded through the admin, then those staff had revoked, then
those not yet delivered, then delivered but unredeemed ones, then redeemed ones.
"""

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from membership import gateway, gift_redemption
from membership.models import Gift, GiftPurchase

log = logging.getLogger(__name__)

_ORDER: dict[str, int] = {
    Gift.Status.REVOKED: 0,
    Gift.Status.SCHEDULED: 1,
    Gift.Status.AWAITING_PAYMENT: 1,
    Gift.Status.DELIVERED: 2,
    Gift.Status.EXPIRED: 3,
    Gift.Status.REDEEMED: 4,
}


class NotRefundable(Exception):
    """Unpaid, already revoked, or already being refunded."""


def revoke(gift: Gift, reason: str, now: datetime | None = None) -> bool:
    """Stop a gift: an unredeemed one can no longer be delivered or redeemed, and a redeemed
    one's membership time is taken back. Call inside a transaction. False if already stopped.
    """
    now = now or timezone.now()
    gift = Gift.objects.select_for_update().get(pk=gift.pk)
    if gift.status in (Gift.Status.REVOKED, Gift.Status.UNPAID):
        return False
    was_redeemed = gift.status == Gift.Status.REDEEMED
    gift.status = Gift.Status.REVOKED
    gift.revoked_at = now
    gift.revoke_reason = reason
    gift.save(update_fields=["status", "revoked_at", "revoke_reason"])
    if was_redeemed:
        gift_redemption.take_back(gift, now)
    log.info("gift %s revoked (%s)", gift.pk, reason)
    return True


def charge_refunded(charge: dict[str, Any], at: datetime) -> str:
    """Handle charge.refunded for a gift purchase; other charges are not ours to act on."""
    payment_intent = charge.get("payment_intent")
    if not isinstance(payment_intent, str) or not payment_intent:
        return "no payment intent: not a gift purchase"
    purchase = (
        GiftPurchase.objects.select_for_update().filter(payment_intent_id=payment_intent).first()
    )
    if purchase is None:
        return "not a gift purchase"
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int):
        raise ValueError(f"charge {charge.get('id')} without amount_refunded")
    full = bool(charge.get("refunded"))
    # Events come out of order: the amount refunded only ever grows.
    purchase.amount_refunded = max(purchase.amount_refunded, refunded)
    purchase.save(update_fields=["amount_refunded"])
    gifts = list(purchase.gifts.select_for_update().exclude(status=Gift.Status.UNPAID))
    refunded_already = [g for g in gifts if g.revoke_reason == Gift.RevokeReason.REFUNDED]
    covered = sum(gift.amount for gift in refunded_already)
    candidates = sorted(
        (gift for gift in gifts if gift.revoke_reason != Gift.RevokeReason.REFUNDED),
        key=lambda gift: (gift.refund_requested_at is None, _ORDER.get(gift.status, 9), gift.pk),
    )
    revoked = 0
    for gift in candidates:
        if not full and covered >= purchase.amount_refunded:
            break
        if gift.status == Gift.Status.REVOKED:
            # Revoked by staff before; now the money went back too.
            Gift.objects.filter(pk=gift.pk).update(revoke_reason=Gift.RevokeReason.REFUNDED)
        elif revoke(gift, Gift.RevokeReason.REFUNDED):
            revoked += 1
        covered += gift.amount
    return f"refunded {purchase.amount_refunded} in all; {revoked} gifts revoked"


def request_refund(gift: Gift) -> str:
    """Refund one gift's price through Stripe; its charge.refunded event revokes the gift.

    The request is recorded first, so the event revokes this gift and not another of the
    purchase. Raises NotRefundable, or gateway.PaymentsUnavailable.
    """
    with transaction.atomic():
        gift = Gift.objects.select_for_update().select_related("purchase").get(pk=gift.pk)
        purchase = gift.purchase
        if (
            not purchase.payment_intent_id
            or gift.status in (Gift.Status.UNPAID, Gift.Status.AWAITING_PAYMENT)
            or gift.revoke_reason == Gift.RevokeReason.REFUNDED
            or gift.refund_requested_at is not None
        ):
            raise NotRefundable
        gift.refund_requested_at = timezone.now()
        gift.save(update_fields=["refund_requested_at"])
    request = gateway.RefundRequest(
        payment_intent_id=purchase.payment_intent_id,
        amount=gift.amount,
        idempotency_key=f"gift-refund-{gift.pk}",
        metadata={"gift_id": str(gift.pk), "gift_purchase_id": str(purchase.pk)},
    )
    try:
        return gateway.create_refund(request)
    except gateway.PaymentsUnavailable:
        Gift.objects.filter(pk=gift.pk).update(refund_requested_at=None)
        raise
