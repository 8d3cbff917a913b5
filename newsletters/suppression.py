"""Stopping list email to an address, and lifting that when the reader confirms afresh."""

from datetime import datetime

from django.conf import settings
from django.db import transaction

from newsletters import consent
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Subscriber, Subscription, Suppression, address_hash

_ACTION_FOR_REASON: dict[str, str] = {
    Suppression.Reason.BOUNCED: ConsentEvent.Action.BOUNCED,
    Suppression.Reason.SOFT_BOUNCES: ConsentEvent.Action.BOUNCED,
    Suppression.Reason.COMPLAINED: ConsentEvent.Action.COMPLAINED,
}


def is_suppressed(email: str) -> bool:
    return Suppression.objects.for_email(email).exists()


def suppress(email: str, reason: str, provenance: Provenance, detail: str = "") -> bool:
    """Suppress an address on every list and say why in the ledger; True if it is new."""
    with transaction.atomic():
        _, created = Suppression.objects.get_or_create(
            address_hash=address_hash(email), defaults={"reason": reason, "detail": detail[:300]}
        )
        subscriber = Subscriber.objects.for_email(email).first()
        if created and subscriber is not None:
            action = _ACTION_FOR_REASON.get(reason, str(ConsentEvent.Action.SUPPRESSED))
            lists = [
                s.newsletter
                for s in subscriber.subscriptions.exclude(
                    status=Subscription.Status.UNSUBSCRIBED
                ).select_related("newsletter")
            ]
            consent.record(subscriber, action, lists or [None], provenance)
    return created


def soft_bounce(email: str, at: datetime, provenance: Provenance, detail: str = "") -> bool:
    """Count a soft bounce; a run of SOFT_BOUNCE_LIMIT suppresses. True if this one did."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().for_email(email).first()
        if subscriber is None:
            return False  # not a reader: no list email to stop
        run = subscriber.count_soft_bounce(at)
        if run < settings.SOFT_BOUNCE_LIMIT:
            return False
        # A reader who comes back starts a fresh run.
        subscriber.end_soft_bounce_run()
        return suppress(
            email,
            Suppression.Reason.SOFT_BOUNCES,
            provenance,
            detail=f"{run} soft bounces in a row; the last: {detail}",
        )


def lift(email: str) -> bool:
    """Forget a suppression because the reader confirmed afresh; True if there was one."""
    deleted, _ = Suppression.objects.for_email(email).delete()
    return deleted > 0
