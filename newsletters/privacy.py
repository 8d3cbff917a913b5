"""Everything held on one subscriber: exported on request (GDPR Art. 15, 20), or erased (Art. 17).

Erasure keeps one thing, a Suppression row keyed by a hash of the address with the reason
"erased", so the address is not mailed again by accident (an import, a typo'd signup by someone
else). The person can still come back: a fresh signup goes through double opt-in, and
confirming lifts the suppression.

Other apps hold the address too, and this app imports none of them: the setting
NEWSLETTERS_EXTRA_ERASERS names callables that take the address and who asked, erase what their
app holds in the same transaction, and return counts for the report.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from newsletters.edition_events import COUNTS
from newsletters.models import (
    EditionRecipient,
    OutboundEmail,
    Subscriber,
    Suppression,
    address_hash,
)

log = logging.getLogger(__name__)

EXPORT_FORMAT = "newsroom-subscriber-export/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _emails_to(subscriber: Subscriber) -> Any:
    # Other parts of the service may have written the address with another case.
    return OutboundEmail.objects.filter(to__iexact=subscriber.email)


def export_subscriber(subscriber: Subscriber) -> dict[str, Any]:
    """A JSON-ready dict of everything held on one subscriber, the consent ledger included."""
    suppression = Suppression.objects.for_email(subscriber.email).first()
    subscriptions = subscriber.subscriptions.select_related("newsletter").order_by("created_at")
    ledger = subscriber.consent_events.select_related("newsletter")
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "subscriber": {
            "email": subscriber.email,
            "created_at": _iso(subscriber.created_at),
            "updated_at": _iso(subscriber.updated_at),
            "soft_bounces_in_a_row": subscriber.soft_bounces,
            "last_soft_bounce_at": _iso(subscriber.soft_bounced_at),
        },
        "suppression": {
            "reason": suppression.reason,
            "detail": suppression.detail,
            "since": _iso(suppression.created_at),
        }
        if suppression
        else None,
        "subscriptions": [
            {
                "newsletter": sub.newsletter.slug,
                "newsletter_name": sub.newsletter.name,
                "status": sub.status,
                "created_at": _iso(sub.created_at),
                "requested_at": _iso(sub.requested_at),
                "confirmation_sent_at": _iso(sub.confirmation_sent_at),
                "confirmed_at": _iso(sub.confirmed_at),
                "unsubscribed_at": _iso(sub.unsubscribed_at),
            }
            for sub in subscriptions
        ],
        "consent_ledger": [
            {
                "at": _iso(event.at),
                "action": event.action,
                "newsletter": event.newsletter.slug if event.newsletter else None,
                "source": event.source,
                "source_detail": event.source_detail,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "wording": event.wording,
                "wording_version": event.wording_version,
            }
            for event in ledger
        ],
        # What was sent and when; bodies are left out (they hold live links, not facts).
        "emails": [
            {
                "kind": email.kind,
                "subject": email.subject,
                "status": email.status,
                "created_at": _iso(email.created_at),
                "sent_at": _iso(email.sent_at),
            }
            for email in _emails_to(subscriber).order_by("created_at")
        ],
        # Editions of a list sent to the address, and what the ESP reported of each.
        "editions": [
            {
                "newsletter": row.edition.newsletter.slug,
                "subject": row.edition.subject,
                "status": row.status,
                "sent_at": _iso(row.sent_at),
                **{f"{what}_at": _iso(getattr(row, f"{what}_at")) for what in COUNTS},
            }
            for row in EditionRecipient.objects.filter(subscriber=subscriber)
            .select_related("edition__newsletter")
            .order_by("pk")
        ],
    }


Eraser = Callable[[str, str], dict[str, int]]


@cache
def _erasers(paths: tuple[str, ...]) -> list[Eraser]:
    return [import_string(path) for path in paths]


def extra_erasers() -> list[Eraser]:
    return _erasers(tuple(getattr(settings, "NEWSLETTERS_EXTRA_ERASERS", ())))


def erase_subscriber(subscriber: Subscriber, erased_by: str = "") -> dict[str, int]:
    """Delete everything held on a subscriber but a hashed suppression entry; report counts."""
    pk = subscriber.pk
    with transaction.atomic():
        counts = {
            "subscriptions": subscriber.subscriptions.count(),
            "ledger_lines": subscriber.consent_events.count(),
            "edition_deliveries": EditionRecipient.objects.filter(subscriber=subscriber).count(),
            **_erase_address(subscriber.email, erased_by),
        }
        subscriber.delete()  # its subscriptions, ledger lines and edition deliveries go with it
    log.info("erased subscriber %s at the request of %s: %s", pk, erased_by or "-", counts)
    return counts


def erase_address(email: str, erased_by: str = "") -> dict[str, int]:
    """Erase an address whether or not it subscribes (a member, a gift's buyer); report counts."""
    subscriber = Subscriber.objects.for_email(email).first()
    if subscriber is not None:
        return erase_subscriber(subscriber, erased_by)
    with transaction.atomic():
        counts = _erase_address(email, erased_by)
    log.info("erased an address at the request of %s: %s", erased_by or "-", counts)
    return counts


def _erase_address(email: str, erased_by: str) -> dict[str, int]:
    Suppression.objects.update_or_create(
        address_hash=address_hash(email),
        # The detail of an earlier bounce may quote the address; it goes too.
        defaults={"reason": Suppression.Reason.ERASED, "detail": ""},
    )
    # Other parts of the service may have written the address with another case.
    counts = {"emails": OutboundEmail.objects.filter(to__iexact=email).delete()[0]}
    for eraser in extra_erasers():
        counts.update(eraser(email, erased_by))
    return counts
