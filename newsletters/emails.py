"""Each email the newsletters app sends: one function, one template set under templates/emails/."""

from collections.abc import Sequence

from django.conf import settings

from newsletters import outbox
from newsletters.models import Newsletter, OutboundEmail, Subscriber


def confirmation(
    subscriber: Subscriber, newsletters: Sequence[Newsletter], confirm_url: str
) -> OutboundEmail:
    # Only the lists' own names and our link: nothing the submitter typed is echoed back.
    return outbox.queue(
        "confirmation",
        subscriber.email,
        "confirmation",
        {
            "newsletters": newsletters,
            "confirm_url": confirm_url,
            "max_age_days": settings.CONFIRMATION_MAX_AGE_DAYS,
        },
        metadata={"subscriber": str(subscriber.pk)},
    )


def welcome(subscriber: Subscriber, newsletters: Sequence[Newsletter]) -> OutboundEmail:
    return outbox.queue(
        "welcome",
        subscriber.email,
        "welcome",
        {"newsletters": newsletters},
        metadata={"subscriber": str(subscriber.pk)},
    )
