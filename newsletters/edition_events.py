"""Per-edition counts from the ESP's tracking events and from readers leaving.

Every edition message carries metadata naming the edition and the recipient row (merge
metadata in a batch), which anymail hands back on each tracking event. Each count is of
readers, not events: a second open by the same reader changes nothing.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from newsletters.models import Edition, EditionRecipient, Newsletter, Subscriber

# What leaving a list within this long of an edition counts as: leaving after that edition.
UNSUBSCRIBE_ATTRIBUTION = timedelta(days=30)
COUNTS = ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")

_BY_EVENT = {
    EventType.DELIVERED: "delivered",
    EventType.OPENED: "opened",
    EventType.CLICKED: "clicked",
    EventType.BOUNCED: "bounced",
    EventType.COMPLAINED: "complained",
    EventType.UNSUBSCRIBED: "unsubscribed",
}
_BY_REJECT_REASON = {
    RejectReason.BOUNCED: "bounced",
    RejectReason.INVALID: "bounced",
    RejectReason.SPAM: "complained",
    RejectReason.UNSUBSCRIBED: "unsubscribed",
}


def count_once(edition_id: int, recipient_id: int, what: str, at: datetime) -> bool:
    """Note that a reader of an edition did something; True if it is the first time."""
    if what not in COUNTS:
        raise ValueError(f"unknown count {what!r}")
    with transaction.atomic():
        first = (
            EditionRecipient.objects.filter(pk=recipient_id, edition_id=edition_id)
            .filter(**{f"{what}_at__isnull": True})
            .update(**{f"{what}_at": at})
        )
        if first:
            Edition.objects.filter(pk=edition_id).update(**{what: F(what) + 1})
    return bool(first)


def _ids(metadata: object) -> tuple[int, int] | None:
    if not isinstance(metadata, dict) or metadata.get("kind") != "edition":
        return None
    try:
        return int(metadata["edition"]), int(metadata["recipient"])
    except (KeyError, TypeError, ValueError):
        return None


def record(event: AnymailTrackingEvent) -> str | None:
    """Count a tracking event against its edition; return what it counted as, if anything."""
    ids = _ids(event.metadata)
    if ids is None:
        return None
    what = _BY_EVENT.get(event.event_type)
    if event.event_type == EventType.REJECTED:
        what = _BY_REJECT_REASON.get(event.reject_reason)
    if what is None:
        return None
    at = event.timestamp or timezone.now()
    edition_id, recipient_id = ids
    count_once(edition_id, recipient_id, what, at)
    if what == "clicked":
        # A click means the reader opened it, whatever blocked the tracking pixel.
        count_once(edition_id, recipient_id, "opened", at)
    return what


def count_unsubscribes(subscriber: Subscriber, left: Iterable[Newsletter]) -> int:
    """Count leaving a list against the latest edition of it the reader was sent lately."""
    now = timezone.now()
    counted = 0
    for newsletter in left:
        latest = (
            EditionRecipient.objects.filter(
                subscriber=subscriber,
                edition__newsletter=newsletter,
                status=EditionRecipient.Status.SENT,
                sent_at__gte=now - UNSUBSCRIBE_ATTRIBUTION,
            )
            .order_by("-sent_at")
            .values_list("pk", "edition_id")
            .first()
        )
        if latest is not None:
            counted += count_once(latest[1], latest[0], "unsubscribed", now)
    return counted
