"""Thin Celery tasks: they take ids, call domain code and own their retries."""

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from membership import access, demo
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
