"""The links every email about a list carries: the preferences page and one-click unsubscribe.

links_for() is the one piece a list email needs: the URLs for its footer and the
List-Unsubscribe headers (RFC 2369, RFC 8058), to pass to outbox.queue(..., list_email=True).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from newsletters.models import Newsletter, Subscriber
from newsletters.tokens import TokenExpired, TokenInvalid, make_token, read_token

PREFERENCES_PURPOSE = "preferences"
UNSUBSCRIBE_PURPOSE = "unsubscribe"
# An expired preferences link may still ask for a fresh one, which goes to the same address.
PREFERENCES_RENEWABLE_FOR = timedelta(days=3650)
ONE_CLICK = "List-Unsubscribe=One-Click"
_STAND_IN = "TOKEN"


@functools.lru_cache(maxsize=64)
def _route(viewname: str, script_prefix: str, urlconf: object) -> str:
    return reverse(viewname, args=[_STAND_IN])


def link(viewname: str, token: str) -> str:
    """SITE_URL + reverse(viewname, args=[token]), resolved once rather than per reader.

    Tokens are URL-safe (base64 and colons), so the stand-in swapped for one gives what
    reverse() would; an edition to a million readers makes two links each.
    """
    route = _route(viewname, get_script_prefix(), get_urlconf())
    return settings.SITE_URL + route.replace(_STAND_IN, token)


def _as_dict(payload: object) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise TokenInvalid("malformed payload")
    return payload


@dataclass(frozen=True)
class PreferencesLink:
    """Opens one reader's preferences page; expires, but an expired one can ask for a fresh one."""

    subscriber_id: int

    def token(self) -> str:
        return make_token(PREFERENCES_PURPOSE, {"s": self.subscriber_id})

    def url(self) -> str:
        return link("newsletters:preferences", self.token())

    @classmethod
    def read(cls, token: str) -> "PreferencesLink":
        """Raise TokenInvalid, or TokenExpired carrying the link, or return the link."""
        max_age = timedelta(days=settings.PREFERENCES_LINK_MAX_AGE_DAYS)
        try:
            payload = read_token(
                PREFERENCES_PURPOSE, token, max_age, renewable_for=PREFERENCES_RENEWABLE_FOR
            )
        except TokenExpired as expired:
            raise TokenExpired(cls._from_payload(expired.payload)) from None
        return cls._from_payload(payload)

    @classmethod
    def _from_payload(cls, payload: object) -> "PreferencesLink":
        try:
            return cls(subscriber_id=int(_as_dict(payload)["s"]))
        except (KeyError, TypeError, ValueError):
            raise TokenInvalid("malformed payload") from None

    def subscriber(self) -> Subscriber | None:
        return Subscriber.objects.filter(pk=self.subscriber_id).first()


@dataclass(frozen=True)
class UnsubscribeLink:
    """Leaves the lists an email was about.

    It never expires: leaving must work from the oldest email in an inbox, and the link can do
    nothing but unsubscribe.
    """

    subscriber_id: int
    newsletter_ids: tuple[int, ...]

    def token(self) -> str:
        return make_token(UNSUBSCRIBE_PURPOSE, {"s": self.subscriber_id, "n": self.newsletter_ids})

    def url(self) -> str:
        return link("newsletters:unsubscribe", self.token())

    @classmethod
    def read(cls, token: str) -> "UnsubscribeLink":
        """Raise TokenInvalid or return the link."""
        payload = _as_dict(read_token(UNSUBSCRIBE_PURPOSE, token, None))
        try:
            ids = tuple(int(pk) for pk in payload["n"])
            return cls(subscriber_id=int(payload["s"]), newsletter_ids=ids)
        except (KeyError, TypeError, ValueError):
            raise TokenInvalid("malformed payload") from None

    def subscriber(self) -> Subscriber | None:
        return Subscriber.objects.filter(pk=self.subscriber_id).first()

    def newsletters(self) -> list[Newsletter]:
        return list(Newsletter.objects.filter(pk__in=self.newsletter_ids))


@dataclass(frozen=True)
class ListMailLinks:
    preferences_url: str
    unsubscribe_url: str
    unsubscribe_token: str

    @property
    def headers(self) -> dict[str, str]:
        """List-Unsubscribe with the https URL (and a mailto where configured), one-click POST."""
        targets = [f"<{self.unsubscribe_url}>"]
        if settings.UNSUBSCRIBE_MAILTO:
            subject = quote(f"unsubscribe {self.unsubscribe_token}", safe="")
            targets.append(f"<mailto:{settings.UNSUBSCRIBE_MAILTO}?subject={subject}>")
        return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": ONE_CLICK}

    @property
    def context(self) -> dict[str, str]:
        """What the list footer templates (emails/_list_footer.*) read."""
        return {"preferences_url": self.preferences_url, "unsubscribe_url": self.unsubscribe_url}


def links_for(subscriber: Subscriber, newsletters: Sequence[Newsletter]) -> ListMailLinks:
    """The footer links and headers for an email to one subscriber about some lists."""
    unsubscribe = UnsubscribeLink(subscriber.pk, tuple(n.pk for n in newsletters))
    token = unsubscribe.token()
    return ListMailLinks(
        preferences_url=PreferencesLink(subscriber.pk).url(),
        unsubscribe_url=link("newsletters:unsubscribe", token),
        unsubscribe_token=token,
    )
