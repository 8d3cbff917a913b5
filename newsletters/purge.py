"""Forgetting signups nobody confirmed, while the ledger keeps that they were purged.

The subscriber row and its ledger lines stay: the ledger is the proof that the address asked,
was never confirmed and was never sent list email, and a subscriber left with no lists at all
holds nothing but that proof. Erasing a subscriber (newsletters.privacy) removes it all.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsletters.models import ConsentEvent, Subscriber, Subscription

log = logging.getLogger(__name__)

BATCH = 1000


def purge_unconfirmed(now: datetime | None = None) -> int:
    """Delete pending subscriptions older than PENDING_PURGE_DAYS; return how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PENDING_PURGE_DAYS)
    total = 0
    while True:
        purged = _purge_batch(cutoff)
        total += purged
        if purged == 0:
            break
    if total:
        log.info("purged %d signups not confirmed since %s", total, cutoff.date())
    return total


def _purge_batch(cutoff: datetime) -> int:
    with transaction.atomic():
        candidates = (
            Subscription.objects.never_confirmed(cutoff)
            .order_by("subscriber_id")
            .values_list("subscriber_id", flat=True)
            .distinct()[:BATCH]
        )
        # Lock the subscribers as a signup or a confirmation would, skipping any busy just now,
        # so neither finds its row gone halfway; NO KEY keeps ledger inserts from waiting on us.
        locked = list(
            Subscriber.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk__in=list(candidates))
            .values_list("pk", flat=True)
        )
        doomed = list(
            Subscription.objects.select_for_update()
            .never_confirmed(cutoff)
            .filter(subscriber_id__in=locked)
            .values_list("pk", "subscriber_id", "newsletter_id")
        )
        if not doomed:
            return 0
        detail = f"not confirmed within {settings.PENDING_PURGE_DAYS} days"
        ConsentEvent.objects.bulk_create(
            ConsentEvent(
                subscriber_id=subscriber_id,
                newsletter_id=newsletter_id,
                action=ConsentEvent.Action.PURGED,
                source=ConsentEvent.Source.SYSTEM,
                source_detail=detail,
            )
            for _pk, subscriber_id, newsletter_id in doomed
        )
        Subscription.objects.filter(pk__in=[pk for pk, _s, _n in doomed]).delete()
    return len(doomed)
