"""Each email the newsletters app sends: one function, one template set under templates/emails/."""

from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse

from newsletters import outbox
from newsletters.links import links_for
from newsletters.models import Edition, Newsletter, OutboundEmail, Subscriber


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
    # A list email: its footer and headers let the reader leave the lists it welcomes them to.
    links = links_for(subscriber, newsletters)
    return outbox.queue(
        "welcome",
        subscriber.email,
        "welcome",
        {"newsletters": newsletters, **links.context},
        headers=links.headers,
        metadata={"subscriber": str(subscriber.pk)},
        list_email=True,
    )


def preferences_link(subscriber: Subscriber, preferences_url: str) -> OutboundEmail:
    # Transactional: the reader asked for it, so it goes even to a suppressed address.
    return outbox.queue(
        "preferences_link",
        subscriber.email,
        "preferences_link",
        {
            "preferences_url": preferences_url,
            "max_age_days": settings.PREFERENCES_LINK_MAX_AGE_DAYS,
        },
        metadata={"subscriber": str(subscriber.pk)},
    )


def edition_test(edition: Edition, to: str) -> OutboundEmail:
    """The edition as readers will get it, marked as a test, to a member of staff."""
    from newsletters.edition_delivery import edition_context

    # Staff are not on the list: the footer links go to the page that sends a reader their own.
    placeholder = settings.SITE_URL + reverse("newsletters:request_link")
    return outbox.queue(
        "edition_test",
        to,
        "edition",
        {
            **edition_context(edition),
            "preferences_url": placeholder,
            "unsubscribe_url": placeholder,
            "test": True,
        },
        metadata={"edition": str(edition.pk)},
    )
