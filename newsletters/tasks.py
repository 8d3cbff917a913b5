"""Thin Celery tasks: they take ids, call domain code and own their retries."""

from typing import Any

from celery import shared_task
from django.conf import settings

from config.celery import publish
from newsletters import edition_delivery, editions, outbox, purge, signup
from newsletters.importing import invitations, sweep
from newsletters.importing import run as importing
from newsletters.models import GrowthDay, ListStats


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_email(self: Any, outbound_email_id: int) -> bool:
    """Send one outbox row; a transient failure is retried with backoff."""
    attempt = outbox.deliver(outbound_email_id)
    if attempt.retry_in is not None:
        # The row records its own attempts and gives up by itself; the sweep is the backstop.
        raise self.retry(countdown=attempt.retry_in)
    return attempt.sent


@shared_task(acks_late=True)
def process_signup(signup_request_id: int) -> bool:
    """Turn a committed signup into subscriptions, then send its confirmation from here."""
    with outbox.send_here() as held:
        processed = signup.process_request(signup_request_id)
    for outbound_email_id in held:
        attempt = outbox.deliver(outbound_email_id)
        if attempt.retry_in is not None:
            publish(send_email, outbound_email_id, countdown=attempt.retry_in)
    return processed


@shared_task
def sweep_outbox() -> int:
    """Queue signups and emails that were never picked up or whose worker died."""
    return signup.sweep_requests() + outbox.sweep()


@shared_task
def purge_unconfirmed() -> int:
    """Purge signups never confirmed within PENDING_PURGE_DAYS; run by beat."""
    return purge.purge_unconfirmed()


@shared_task(acks_late=True)
def run_import(import_id: int) -> bool:
    """Import an uploaded file, or resume it; a second worker on the same run leaves it."""
    return importing.run(import_id)


@shared_task
def resume_imports() -> int:
    """Queue imports no worker is on: never picked up, or whose worker died."""
    return sweep.resume_stalled()


@shared_task
def send_import_confirmations() -> int:
    """Send the next confirmations imports asked for, within the per-minute budget."""
    return invitations.send_due(settings.IMPORT_CONFIRMATIONS_PER_MINUTE)


@shared_task
def refresh_audience_stats() -> None:
    """Recount each list's subscribers and the last days of growth."""
    ListStats.objects.refresh()
    GrowthDay.objects.refresh_recent()


@shared_task(acks_late=True)
def start_edition(edition_id: int) -> bool:
    """Snapshot a due edition's readers and queue the workers that send it."""
    return editions.start(edition_id)


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_edition(self: Any, edition_id: int) -> bool:
    """Send an edition's waiting recipients for a while, then hand over to a fresh task.

    Many of these run at once on one edition; each takes its own batches. A transient ESP
    failure leaves the batch waiting and retries with backoff.
    """
    try:
        more = edition_delivery.deliver(edition_id)
    except Exception as exc:
        countdown = outbox.backoff(self.request.retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if more:
        publish(deliver_edition, edition_id)
    return more


@shared_task
def editions_tick() -> int:
    """Start due editions and wake stalled sends; run by beat."""
    return editions.tick()
