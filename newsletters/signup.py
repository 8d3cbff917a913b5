"""Double opt-in: a signup asks, an emailed link confirms."""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from config.celery import publish_on_commit, requeue
from newsletters import audience, catalogue, consent, emails, suppression
from newsletters.consent import Provenance, Wording
from newsletters.models import (
    ConsentEvent,
    Newsletter,
    OutboundEmail,
    SignupRequest,
    Subscriber,
    Subscription,
)
from newsletters.tokens import TokenExpired, TokenInvalid, make_token, read_token

log = logging.getLogger(__name__)

CONFIRM_PURPOSE = "confirm-subscription"
# An expired confirmation link can still ask for a fresh one for this long.
RENEWABLE_FOR = timedelta(days=90)


@dataclass(frozen=True)
class ConfirmationLink:
    subscriber_id: int
    newsletter_ids: tuple[int, ...]
    issued_at: datetime

    def token(self) -> str:
        return make_token(
            CONFIRM_PURPOSE,
            {
                "s": self.subscriber_id,
                "n": list(self.newsletter_ids),
                # Milliseconds, rounded up: a reader may leave a list and ask for it again
                # within a second, and this link must count as sent after they left.
                "t": math.ceil(self.issued_at.timestamp() * 1000) / 1000,
            },
        )

    def url(self) -> str:
        return settings.SITE_URL + reverse("newsletters:confirm", args=[self.token()])

    @classmethod
    def read(cls, token: str) -> "ConfirmationLink":
        """Raise TokenInvalid, or TokenExpired carrying the link, or return the link."""
        max_age = timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS)
        try:
            payload = read_token(CONFIRM_PURPOSE, token, max_age, renewable_for=RENEWABLE_FOR)
        except TokenExpired as expired:
            raise TokenExpired(cls._from_payload(expired.payload)) from None
        return cls._from_payload(payload)

    @classmethod
    def _from_payload(cls, payload: object) -> "ConfirmationLink":
        if not isinstance(payload, dict):
            raise TokenInvalid("malformed payload")
        try:
            ids = tuple(int(pk) for pk in payload["n"])
            return cls(
                subscriber_id=int(payload["s"]),
                newsletter_ids=ids,
                issued_at=datetime.fromtimestamp(float(payload["t"]), tz=UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise TokenInvalid("malformed payload") from None


def request_subscription(
    email: str, newsletters: Sequence[Newsletter], provenance: Provenance
) -> int:
    """Commit a reader's signup as submitted and have a worker process it; the request's id.

    This is all a signup request does: one INSERT. The rest (subscriber, subscriptions, ledger,
    confirmation email) happens in process_request, off the reader's request. On PostgreSQL
    (SIGNUP_DISPATCH "poll") a poller in the worker finds the row (newsletters.dispatch);
    otherwise the task is queued here once the row commits.
    """
    pk = SignupRequest.objects.record(
        email=email,
        newsletter_ids=[n.pk for n in newsletters],
        language=translation.get_language() or "",
        **provenance.columns(),
    )
    if settings.SIGNUP_DISPATCH == "publish":
        from newsletters.tasks import process_signup

        publish_on_commit(process_signup, pk)
    return pk


def process_request(pk: int) -> bool:
    """Turn a committed signup request into subscriptions; safe to run any number of times."""
    with transaction.atomic():
        request = (
            SignupRequest.objects.select_for_update(skip_locked=True)
            .unprocessed()
            .filter(pk=pk)
            .first()
        )
        if request is None:
            return False
        # A list hidden since the form was shown takes no new signups; who may join which list
        # was checked where the reader submitted.
        newsletters = catalogue.public(request.newsletter_ids)
        provenance = Provenance(
            source=request.source,
            detail=request.source_detail,
            ip=request.ip,
            user_agent=request.user_agent,
            wording=Wording(version=request.wording_version, text=request.wording),
            at=request.created_at,
        )
        with translation.override(request.language or None):
            subscribe(request.email, newsletters, provenance)
        request.processed_at = timezone.now()
        request.save(update_fields=["processed_at"])
    return True


def subscribe(email: str, newsletters: Sequence[Newsletter], provenance: Provenance) -> None:
    """Ask to subscribe a normalised address to some lists; email a confirmation if due.

    The outcome is deliberately not returned: the answer a reader sees must not depend on
    whether the address was known.
    """
    now = timezone.now()
    newsletters = [n for n in newsletters if audience.may_have(email, n)]
    if not newsletters:
        return
    # Joins the caller's transaction when there is one (a worker processing a request).
    with transaction.atomic(savepoint=False):
        subscriber, new = Subscriber.objects.claim_for_email(email, source=provenance.source)
        # A suppressed address gets no list email until it confirms afresh, active lists too.
        suppressed = suppression.is_suppressed(email)
        existing = (
            {}
            if new
            else {
                sub.newsletter_id: sub
                for sub in subscriber.subscriptions.filter(newsletter__in=newsletters)
            }
        )
        asked: list[Subscription] = []
        created: list[Subscription] = []
        for newsletter in newsletters:
            sub = existing.get(newsletter.pk)
            if sub is None:
                sub = Subscription(
                    subscriber=subscriber, newsletter=newsletter, created_at=now, requested_at=now
                )
                created.append(sub)
            elif sub.is_active and not suppressed:
                continue  # already subscribed: stays so, nothing to ask
            else:
                # Pending stays pending; unsubscribed stays unsubscribed until confirmed.
                sub.requested_at = now
                sub.save(update_fields=["requested_at"])
            sub.newsletter = newsletter
            asked.append(sub)
        if not asked:
            return
        # An address new to us has had no confirmation yet, today or ever.
        due = new or _confirmation_due(subscriber, asked, now)
        for sub in created:
            sub.confirmation_sent_at = now if due else None
        Subscription.objects.bulk_create(created)
        consent.record(
            subscriber, ConsentEvent.Action.REQUESTED, [s.newsletter for s in asked], provenance
        )
        if due:
            _send_confirmation(subscriber, asked, now, marked=created)


def resend_confirmation(
    subscriber: Subscriber, newsletters: Sequence[Newsletter] | None = None
) -> bool:
    """Email a fresh confirmation for a reader's pending lists, within the usual limits.

    Staff resending and imports asking readers to confirm both come here, so neither can
    mail an address more often than a signup form could. True if an email was queued.
    """
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        pending = subscriber.subscriptions.filter(status=Subscription.Status.PENDING)
        if newsletters is not None:
            pending = pending.filter(newsletter__in=list(newsletters))
        asked = list(pending.select_related("newsletter").order_by("newsletter"))
        if not asked or suppression.is_suppressed(subscriber.email):
            return False
        if not _confirmation_due(subscriber, asked, now):
            return False
        _send_confirmation(subscriber, asked, now)
    return True


def _confirmation_due(subscriber: Subscriber, asked: Sequence[Subscription], now: datetime) -> bool:
    """Send again only for lists not covered by a recent email, and a few times a day at most."""
    fresh_after = now - timedelta(minutes=settings.CONFIRMATION_RESEND_AFTER_MINUTES)
    if all(s.confirmation_sent_at and s.confirmation_sent_at > fresh_after for s in asked):
        return False
    sent_today = OutboundEmail.objects.sent_to_since(
        subscriber.email, "confirmation", now - timedelta(days=1)
    ).count()
    if sent_today >= settings.CONFIRMATION_EMAILS_PER_DAY:
        log.info("subscriber %s: daily confirmation limit reached", subscriber.pk)
        return False
    return True


def _send_confirmation(
    subscriber: Subscriber,
    asked: Sequence[Subscription],
    now: datetime,
    marked: Sequence[Subscription] = (),
) -> None:
    """Email one confirmation for the asked lists; marked ones already carry its time."""
    link = ConfirmationLink(
        subscriber_id=subscriber.pk,
        newsletter_ids=tuple(s.newsletter_id for s in asked),
        issued_at=now,
    )
    emails.confirmation(subscriber, [s.newsletter for s in asked], link.url())
    unmarked = [s.pk for s in asked if s not in marked]
    if unmarked:
        Subscription.objects.filter(pk__in=unmarked).update(confirmation_sent_at=now)


@dataclass(frozen=True)
class Confirmed:
    newly: list[Newsletter]
    already: list[Newsletter]

    @property
    def newsletters(self) -> list[Newsletter]:
        return [*self.newly, *self.already]


def confirm(link: ConfirmationLink, provenance: Provenance) -> Confirmed:
    """Make the link's pending lists active; harmless to repeat. Raise TokenInvalid if gone."""
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=link.subscriber_id).first()
        if subscriber is None:
            raise TokenInvalid("subscriber no longer exists")
        subs = subscriber.subscriptions.filter(
            newsletter_id__in=link.newsletter_ids
        ).select_related("newsletter")
        newly: list[Newsletter] = []
        already: list[Newsletter] = []
        # For a suppressed address, confirming an active list is the fresh consent that lifts it.
        suppressed = suppression.is_suppressed(subscriber.email)
        for sub in subs:
            if sub.is_active and not suppressed:
                already.append(sub.newsletter)
            elif sub.unsubscribed_at and sub.unsubscribed_at > link.issued_at:
                continue  # they left after this link was sent; the old link cannot undo that
            elif not audience.may_have(subscriber.email, sub.newsletter):
                continue  # a members-only list, and the membership has ended since
            else:
                sub.status = Subscription.Status.ACTIVE
                sub.confirmed_at = now
                sub.save(update_fields=["status", "confirmed_at"])
                newly.append(sub.newsletter)
        if newly:
            consent.record(subscriber, ConsentEvent.Action.CONFIRMED, newly, provenance)
            # Confirming afresh is the one way back from a bounce, complaint or erasure.
            suppression.lift(subscriber.email)
            emails.welcome(subscriber, newly)
    return Confirmed(newly=newly, already=already)


def newsletters_for(link: ConfirmationLink) -> list[Newsletter]:
    return list(Newsletter.objects.filter(pk__in=link.newsletter_ids))


# How long a fresh signup is left to its own queueing before a sweep takes it as missed.
SWEEP_GRACE = timedelta(seconds=5)


def sweep_requests(now: datetime | None = None) -> int:
    """Queue signup requests whose queueing never reached a worker."""
    from newsletters.tasks import process_signup

    due = SignupRequest.objects.due(now or timezone.now(), SWEEP_GRACE)
    return requeue(process_signup, due.order_by("created_at").values_list("pk", flat=True)[:5000])
