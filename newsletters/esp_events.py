"""What the email provider reports through anymail's webhooks, acted on.

anymail's own views (mounted at /anymail/) check the ESP's authentication and turn each ESP's
payload into a normalised event; these receivers, connected in NewslettersConfig.ready(), keep
the lists clean: a hard bounce or a complaint suppresses the address on every list, a run of
soft bounces does too, and the ESP's "unsubscribed" unsubscribes. Anything else is ignored.
A receiver that raises makes the view answer 500, so the ESP retries; all of this is safe to
repeat.
"""

import enum
import logging
from typing import Any

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.utils import timezone

from newsletters import edition_events, suppression
from newsletters.consent import Provenance
from newsletters.links import UnsubscribeLink
from newsletters.models import ConsentEvent, Subscriber, Suppression
from newsletters.tokens import TokenInvalid
from newsletters.unsubscribe import unsubscribe, unsubscribe_all

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    HARD_BOUNCE = "hard bounce"
    SOFT_BOUNCE = "soft bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    DELIVERED = "delivered"
    IGNORED = "ignored"


# Reasons that say the address itself is bad, whatever the ESP calls the event.
_HARD_REASONS = {RejectReason.BOUNCED, RejectReason.INVALID}


def _soft_by_esp(event: AnymailTrackingEvent, esp_name: str) -> bool:
    """A final non-delivery for a temporary cause, which anymail reports as a bounce.

    Mailgun's temporary failures reach us as "deferred" (it retries them itself); Postmark
    reports a soft bounce as a bounce whose raw Type says so.
    """
    raw = event.esp_event
    return esp_name == "Postmark" and isinstance(raw, dict) and raw.get("Type") == "SoftBounce"


def classify(event: AnymailTrackingEvent, esp_name: str) -> Outcome:
    kind, reason = event.event_type, event.reject_reason
    if kind == EventType.DELIVERED:
        return Outcome.DELIVERED
    if kind == EventType.COMPLAINED or (kind == EventType.REJECTED and reason == RejectReason.SPAM):
        return Outcome.COMPLAINT
    if kind == EventType.UNSUBSCRIBED or (
        kind == EventType.REJECTED and reason == RejectReason.UNSUBSCRIBED
    ):
        return Outcome.UNSUBSCRIBE
    if kind == EventType.BOUNCED:
        if _soft_by_esp(event, esp_name) or reason not in _HARD_REASONS:
            return Outcome.SOFT_BOUNCE  # e.g. Mailgun giving up after retries
        return Outcome.HARD_BOUNCE
    if kind == EventType.REJECTED and reason in _HARD_REASONS:
        return Outcome.HARD_BOUNCE  # the ESP's own suppression list: it bounced before
    # Deferred (the ESP retries), opens, clicks, policy blocks, unknown types: nothing to do.
    return Outcome.IGNORED


def _detail(event: AnymailTrackingEvent, esp_name: str) -> str:
    why = event.description or event.mta_response or event.reject_reason or ""
    return f"{esp_name} {event.event_type}: {why}".strip().rstrip(":")[:500]


def handle_tracking(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> Outcome:
    recipient = (event.recipient or "").strip()
    edition_events.record(event)  # opens, clicks and the rest, counted per edition
    outcome = classify(event, esp_name)
    if not recipient or outcome is Outcome.IGNORED:
        return Outcome.IGNORED
    at = event.timestamp or timezone.now()
    detail = _detail(event, esp_name)
    provenance = Provenance(source=ConsentEvent.Source.ESP, detail=detail)
    if outcome is Outcome.DELIVERED:
        Subscriber.objects.delivered(recipient, at)
    elif outcome is Outcome.HARD_BOUNCE:
        suppression.suppress(recipient, Suppression.Reason.BOUNCED, provenance, detail=detail)
    elif outcome is Outcome.COMPLAINT:
        suppression.suppress(recipient, Suppression.Reason.COMPLAINED, provenance, detail=detail)
    elif outcome is Outcome.SOFT_BOUNCE:
        suppression.soft_bounce(recipient, at, provenance, detail=detail)
    elif outcome is Outcome.UNSUBSCRIBE:
        # The ESP stops mailing the address on its side whichever email it came from, so the
        # honest mirror is leaving every list; the reader can come back by double opt-in.
        subscriber = Subscriber.objects.for_email(recipient).first()
        if subscriber is not None:
            unsubscribe_all(subscriber, provenance)
    log.info("%s event %s for message %s: %s", esp_name, event.event_id, event.message_id, outcome)
    return outcome


def handle_inbound(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> bool:
    """Honour the List-Unsubscribe mailto: a message to UNSUBSCRIBE_MAILTO naming its token.

    Mail clients send it with the subject the header gave ("unsubscribe <token>"); anything
    else arriving there is left for people to read in the ESP's inbound log.
    """
    mailbox = settings.UNSUBSCRIBE_MAILTO.lower()
    message = event.message
    if not mailbox or message is None:
        return False
    recipients = {a.addr_spec.lower() for a in message.to} | {
        (message.envelope_recipient or "").lower()
    }
    words = (message.subject or "").split()
    if mailbox not in recipients or len(words) != 2 or words[0].lower() != "unsubscribe":
        return False
    try:
        link = UnsubscribeLink.read(words[1])
    except TokenInvalid:
        log.info("%s inbound %s: unsubscribe request with a broken token", esp_name, event.event_id)
        return False
    subscriber = link.subscriber()
    if subscriber is not None:
        detail = f"{esp_name}: unsubscribe by email to {mailbox}"
        unsubscribe(
            subscriber,
            link.newsletters(),
            Provenance(source=ConsentEvent.Source.EMAIL_LINK, detail=detail),
        )
    return True
