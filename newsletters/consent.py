"""Where a change came from and what the reader agreed to: the facts the ledger keeps."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from newsletters.models import ConsentEvent, Newsletter, Subscriber
from newsletters.ratelimits import client_ip


@dataclass(frozen=True)
class Wording:
    """A consent text as shown to readers; the version changes whenever the text does."""

    version: str
    text: str | Promise


SIGNUP_WORDING = Wording(
    version="signup-2026-11",
    text=_(
        "Send me the newsletters I ticked. I can unsubscribe at any time with one click, "
        "and my address is never shared or sold."
    ),
)
SIGNUP_ONE_WORDING = Wording(
    version="signup-one-2026-11",
    text=_(
        "Send me this newsletter. I can unsubscribe at any time with one click, "
        "and my address is never shared or sold."
    ),
)
CONFIRM_WORDING = Wording(
    version="confirm-2026-11",
    text=_("Yes, subscribe me to these newsletters."),
)


@dataclass(frozen=True)
class Provenance:
    source: str
    detail: str = ""
    ip: str | None = None
    user_agent: str = ""
    wording: Wording | None = None
    at: datetime | None = None  # when the reader acted, if not now

    @classmethod
    def from_request(
        cls, request: HttpRequest, source: str, wording: Wording | None = None, detail: str = ""
    ) -> "Provenance":
        return cls(
            source=source,
            detail=(detail or request.headers.get("Referer", ""))[:500],
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
            wording=wording,
        )

    def with_wording(self, wording: Wording) -> "Provenance":
        return replace(self, wording=wording)

    def columns(self) -> dict[str, str | None]:
        """The provenance columns, named as the ledger (and a stored signup) names them."""
        wording = self.wording
        return {
            "source": self.source,
            "source_detail": self.detail,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "wording": str(wording.text) if wording else "",
            "wording_version": wording.version if wording else "",
        }


def record(
    subscriber: Subscriber,
    action: str,
    newsletters: Iterable[Newsletter | None],
    provenance: Provenance,
) -> None:
    """Append one ledger line per list (or one for the whole subscriber with None)."""
    at = provenance.at or timezone.now()
    columns = provenance.columns()
    ConsentEvent.objects.bulk_create(
        ConsentEvent(subscriber=subscriber, at=at, newsletter=newsletter, action=action, **columns)
        for newsletter in newsletters
    )
