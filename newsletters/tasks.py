"""Thin Celery tasks: they take ids, call domain code and own their retries."""

from typing import Any

from celery import shared_task

from newsletters import outbox, purge


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_email(self: Any, outbound_email_id: int) -> bool:
    """Send one outbox row; a transient failure is retried with backoff."""
    attempt = outbox.deliver(outbound_email_id)
    if attempt.retry_in is not None:
        # The row records its own attempts and gives up by itself; the sweep is the backstop.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.sent


@shared_task
def sweep_outbox() -> int:
    """Queue outbox rows that were never picked up or whose worker died."""
    return outbox.sweep()


@shared_task
def purge_unconfirmed() -> int:
    """Purge signups never confirmed within PENDING_PURGE_DAYS; run by beat."""
    return purge.purge_unconfirmed()
