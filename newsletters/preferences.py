"""Readers changing their own lists from a signed link: add (through double opt-in), drop, leave."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from newsletters import audience, emails, signup, suppression
from newsletters.consent import SIGNUP_WORDING, Provenance
from newsletters.links import PreferencesLink
from newsletters.models import Newsletter, OutboundEmail, Subscriber
from newsletters.models.newsletter import NewsletterQuerySet
from newsletters.unsubscribe import unsubscribe, unsubscribe_all

log = logging.getLogger(__name__)


def choices_for(subscriber: Subscriber) -> NewsletterQuerySet:
    """The lists a reader may tick: those offered to them, and any they are on already."""
    theirs = Q(pk__in=subscriber.subscriptions.current().values("newsletter_id"))
    audiences = [Newsletter.Audience.EVERYONE]
    if audience.is_member(subscriber.email):
        audiences.append(Newsletter.Audience.MEMBERS)
    offered = Q(is_public=True, audience__in=audiences)
    return Newsletter.objects.filter(offered | theirs)


def statuses(subscriber: Subscriber) -> dict[int, str]:
    """Newsletter id -> "active" or "pending" (yet to confirm), for the reader's current lists."""
    return {
        sub.newsletter_id: "pending" if sub.awaiting_confirmation else sub.status
        for sub in subscriber.subscriptions.current()
    }


@dataclass(frozen=True)
class Changes:
    left: list[Newsletter] = field(default_factory=list)
    to_confirm: list[Newsletter] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.left or self.to_confirm)


def update(subscriber: Subscriber, chosen: Iterable[Newsletter], provenance: Provenance) -> Changes:
    """Make the reader's lists the chosen ones: unticked ones are left at once, newly ticked
    ones wait for the reader to confirm by email, as at signup."""
    chosen = list(chosen)
    with transaction.atomic():
        current = statuses(subscriber)
        dropped = Newsletter.objects.filter(pk__in=set(current) - {n.pk for n in chosen})
        left = unsubscribe(subscriber, dropped, provenance) if dropped else []
        added = [n for n in chosen if n.pk not in current]
        if added:
            signup.subscribe(subscriber.email, added, provenance.with_wording(SIGNUP_WORDING))
    return Changes(left=left, to_confirm=added)


def leave_all(subscriber: Subscriber, provenance: Provenance) -> Changes:
    return Changes(left=unsubscribe_all(subscriber, provenance))


def resume(subscriber: Subscriber, provenance: Provenance) -> Changes:
    """Ask a suppressed reader to confirm their lists afresh, which lifts the suppression."""
    lists = list(
        Newsletter.objects.filter(pk__in=subscriber.subscriptions.current().values("newsletter_id"))
    )
    if lists and suppression.is_suppressed(subscriber.email):
        signup.subscribe(subscriber.email, lists, provenance.with_wording(SIGNUP_WORDING))
        return Changes(to_confirm=lists)
    return Changes()


def send_link(email: str) -> None:
    """Email a known address its preferences link; say nothing either way.

    Like a signup, the caller must not learn whether the address is known, so nothing is
    returned. A few links a day at most, whatever the rate limits in front of this allow.
    """
    subscriber = Subscriber.objects.for_email(email).first()
    if subscriber is None:
        return
    since = timezone.now() - timedelta(days=1)
    sent = OutboundEmail.objects.sent_to_since(subscriber.email, "preferences_link", since)
    if sent.count() >= settings.PREFERENCES_LINK_EMAILS_PER_DAY:
        log.info("subscriber %s: daily preferences link limit reached", subscriber.pk)
        return
    with transaction.atomic():
        emails.preferences_link(subscriber, PreferencesLink(subscriber.pk).url())
