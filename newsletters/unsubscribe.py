"""Leaving lists: honoured at once, recorded in the ledger."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from newsletters import consent, edition_events
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Newsletter, Subscriber, Subscription


def unsubscribe(
    subscriber: Subscriber, newsletters: Iterable[Newsletter], provenance: Provenance
) -> list[Newsletter]:
    """Leave the given lists (active, pending, or asked for again); return the ones left.

    Leaving a list asked for again withdraws that request: the unsubscribe time moves past
    the confirmation link's, which can then no longer confirm it.
    """
    now = timezone.now()
    with transaction.atomic():
        # Lock the reader's own rows only (of=self), never the lists': readers leaving one
        # list and joining another at once would deadlock on them at commit.
        subs = list(
            subscriber.subscriptions.select_for_update(of=("self",))
            .current()
            .filter(newsletter__in=list(newsletters))
            .select_related("newsletter")
        )
        if not subs:
            return []
        Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(
            status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=now
        )
        left = [s.newsletter for s in subs]
        consent.record(subscriber, ConsentEvent.Action.UNSUBSCRIBED, left, provenance)
        edition_events.count_unsubscribes(subscriber, left)
    return left


def unsubscribe_all(subscriber: Subscriber, provenance: Provenance) -> list[Newsletter]:
    return unsubscribe(subscriber, Newsletter.objects.all(), provenance)
