"""Stripe's webhook: verify, record each event once, dispatch by type, keep failures replayable."""

import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from membership import gateway
from membership.handlers import HANDLERS
from membership.models import StripeEvent

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST /stripe/webhook/: 400 unless signed by Stripe; 500 when a handler fails."""
    try:
        event = gateway.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except gateway.BadEvent as exc:
        log.warning("stripe webhook refused: %s", exc)
        return JsonResponse({"error": str(exc)}, status=400)
    stored, duplicate = receive(event)
    if duplicate:
        return JsonResponse({"status": "duplicate"})
    if stored.status == StripeEvent.Status.FAILED:
        return JsonResponse({"status": "failed"}, status=500)
    return JsonResponse({"status": stored.status})


def receive(event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a verified event once and handle it; a duplicate of a handled one does nothing.

    A failed event is handled again when Stripe sends it again: that is what its retries are for.
    """
    obj = event["data"]["object"]
    with transaction.atomic():
        StripeEvent.objects.bulk_create(
            [
                StripeEvent(
                    stripe_id=event["id"][:100],
                    type=event["type"][:100],
                    object_id=str(obj.get("id", ""))[:100],
                    created_at=datetime.fromtimestamp(event["created"], tz=UTC),
                    livemode=bool(event.get("livemode")),
                    payload=event,
                    # Until handled below, in this same transaction: nobody sees it so.
                    status=StripeEvent.Status.FAILED,
                )
            ],
            ignore_conflicts=True,
        )
        # Concurrent deliveries of one event wait here for the first to finish.
        stored = StripeEvent.objects.select_for_update().get(stripe_id=event["id"][:100])
        if stored.attempts and stored.status != StripeEvent.Status.FAILED:
            return stored, True
        _handle(stored)
    return stored, False


def replay(event_id: int) -> tuple[StripeEvent, bool]:
    """Handle a stored event again, as staff ask from the admin; only failed ones are re-run.

    Return the event and whether it was run again.
    """
    with transaction.atomic():
        stored = StripeEvent.objects.select_for_update().get(pk=event_id)
        if stored.status != StripeEvent.Status.FAILED:
            return stored, False
        _handle(stored)
    return stored, True


def _handle(stored: StripeEvent) -> None:
    handler = HANDLERS.get(stored.type)
    stored.attempts += 1
    stored.processed_at = timezone.now()
    if handler is None:
        stored.status = StripeEvent.Status.IGNORED
        stored.outcome = "type not handled"
    else:
        try:
            with transaction.atomic():
                outcome = handler(stored.payload["data"]["object"], stored.created_at)
        except Exception:
            log.exception("stripe event %s (%s) failed", stored.stripe_id, stored.type)
            stored.status = StripeEvent.Status.FAILED
            stored.error = traceback.format_exc()[-5000:]
        else:
            stored.status = StripeEvent.Status.PROCESSED
            stored.outcome = outcome[:200]
            stored.error = ""
    stored.save()
