"""Thin Celery tasks: they take ids, call domain code and own their retries."""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from membership import access, demo, gateway, gift_delivery, gift_lifecycle, gift_redemption
from membership.models import SignInLink


@shared_task(bind=True, max_retries=6, acks_late=True)
def post_demo_events(self: Any, demo_event_ids: list[int]) -> int:
    """Post the payments demo's events to our webhook; retried while it is unreachable."""
    try:
        return demo.post(demo_event_ids)
    except demo.PostFailed as exc:
        raise self.retry(countdown=2**self.request.retries, exc=exc) from exc


@shared_task
def close_lapsed_member_lists() -> int:
    """Close members-only lists for readers whose membership has run out by the clock."""
    return access.close_lapsed()


@shared_task
def purge_sign_in_links() -> int:
    """Forget sign-in links that expired more than a day ago."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = SignInLink.objects.expired(cutoff).delete()
    return deleted


@shared_task
def deliver_due_gifts() -> int:
    """Email every paid gift whose delivery morning has come; run by beat."""
    return gift_delivery.deliver_due()


@shared_task(bind=True, max_retries=8, acks_late=True)
def push_next_payment(self: Any, membership_id: int) -> bool:
    """Tell Stripe the next payment date redeemed gifts ask for; retried while it fails."""
    try:
        return gift_redemption.push_next_payment(membership_id)
    except gateway.PaymentsUnavailable as exc:
        raise self.retry(countdown=min(30 * 2**self.request.retries, 3600), exc=exc) from exc


@shared_task
def gift_housekeeping() -> dict[str, int]:
    """Reminders, expiry, forgetting unpaid checkouts, and Stripe updates still owed; by beat."""
    from config.celery import publish

    owed = gift_redemption.unsent_pushes()
    for membership_id in owed:
        publish(push_next_payment, membership_id)
    return {
        "reminded": gift_lifecycle.remind_ending(),
        "expired": gift_lifecycle.expire_unredeemed(),
        "forgotten": gift_lifecycle.forget_abandoned(),
        "stripe_updates_requeued": len(owed),
    }
