"""The per-row report of an import: what happened to each row, and why."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from newsletters.exports import spreadsheet_safe
from newsletters.importing import formats, reader

ADDED = "added"
UPDATED = "updated"
SKIPPED = "skipped"
HEADER = ("row", "email", "outcome", "detail")

NO_PROOF = "no_proof"
SUPPRESSED = "suppressed"
UNSUBSCRIBED_HERE = "unsubscribed_here"
ALREADY = "already"
ALREADY_PENDING = "already_pending"

MESSAGES: dict[str, Promise] = {
    reader.NO_EMAIL: _("No email address in this row."),
    reader.INVALID_EMAIL: _("Not a valid email address."),
    reader.UNREADABLE: _("This row could not be read as CSV (check its quotes)."),
    reader.DUPLICATE: _("The same address appears earlier in the file."),
    formats.UNSUBSCRIBED_THERE: _("Unsubscribed in the exported list."),
    formats.CLEANED_THERE: _("Removed from the exported list after bounces."),
    formats.DISABLED_THERE: _("Email was turned off for this reader in the export."),
    formats.NOT_SUBSCRIBED_THERE: _("Not subscribed to emails in the export."),
    NO_PROOF: _(
        "No opt-in or confirmation time in the file, so nothing shows this reader's consent. "
        "Import it with “needs confirmation” to ask them."
    ),
    SUPPRESSED: _("Suppressed (%(reason)s): imports never mail this address."),
    UNSUBSCRIBED_HERE: _("Unsubscribed from %(lists)s: imports never subscribe anyone again."),
    ALREADY: _("Already subscribed."),
    ALREADY_PENDING: _("Already waiting for confirmation."),
    "subscribed": _("Subscribed to %(lists)s."),
    "asked": _("Asked to confirm %(lists)s."),
    "also_unsubscribed": _("Not subscribed again to %(lists)s (unsubscribed)."),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    number: int
    email: str
    result: str
    detail: str


class Wording:
    """Render report messages once per distinct text: a million rows share a handful."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], str] = {}

    def say(self, code: str, **params: str) -> str:
        key = (code, *params.items())
        text = self._cache.get(key)
        if text is None:
            text = str(MESSAGES[code]) % params if params else str(MESSAGES[code])
            self._cache[key] = text
        return text


def render(outcomes: Iterable[Outcome]) -> bytes:
    """The CSV lines for some outcomes, safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(
        (o.number, spreadsheet_safe(o.email), o.result, spreadsheet_safe(o.detail))
        for o in outcomes
    )
    return buffer.getvalue().encode("utf-8")


def header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(HEADER)
    return buffer.getvalue().encode("utf-8")
