"""Recognising an export by its header row, and reading its rows into one shape.

Mailchimp, Substack and Ghost each export their readers with their own columns; a plain file
has an email column and perhaps a name. Only what the service keeps is read: the address, the
proof of consent the export carries (when and from where the reader opted in or confirmed),
and whether the exporting service had stopped mailing them. Names, notes, labels and payment
columns are left in the file: the service does not use them, so it does not keep them.
"""

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy as _

MAILCHIMP = "mailchimp"
SUBSTACK = "substack"
GHOST = "ghost"
PLAIN = "plain"
LABELS: dict[str, Promise] = {
    MAILCHIMP: _("Mailchimp export"),
    SUBSTACK: _("Substack export"),
    GHOST: _("Ghost export"),
    PLAIN: _("Plain list of addresses"),
}

# Why the exporting service no longer mailed a reader: reason codes for the report.
UNSUBSCRIBED_THERE = "unsubscribed_in_source"
CLEANED_THERE = "cleaned_in_source"
DISABLED_THERE = "email_disabled_in_source"
NOT_SUBSCRIBED_THERE = "not_subscribed_in_source"

_PLAIN_EMAIL_HEADERS = ("email", "e-mail", "email_address", "email address", "mail")
_TRUE = {"true", "t", "yes", "y", "1"}
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
)


class UnknownFormat(ValueError):
    """The first row names no email column and holds no address."""


class SourceRow(NamedTuple):
    """One row as the export describes the reader (a tuple: a million are made per file)."""

    email: str
    opted_in_at: datetime | None = None
    opted_in_ip: str | None = None
    confirmed_at: datetime | None = None
    confirmed_ip: str | None = None
    opted_out: str = ""

    @property
    def has_proof(self) -> bool:
        return self.opted_in_at is not None or self.confirmed_at is not None

    @property
    def ip(self) -> str | None:
        """The address the reader consented from: the confirmation's, else the opt-in's."""
        return self.confirmed_ip or self.opted_in_ip


@dataclass(frozen=True)
class OptOut:
    column: int
    means_out: Callable[[str], bool]
    reason: str


@dataclass(frozen=True)
class Layout:
    """Where one export keeps each fact, found from its header row."""

    format: str
    has_header: bool
    email: int
    opted_in_at: int | None = None
    opted_in_ip: int | None = None
    confirmed_at: int | None = None
    confirmed_ip: int | None = None
    opt_outs: tuple[OptOut, ...] = ()

    @property
    def label(self) -> Promise:
        return LABELS[self.format]

    @property
    def has_consent_columns(self) -> bool:
        return self.opted_in_at is not None or self.confirmed_at is not None

    def read(self, cells: Sequence[str]) -> SourceRow:
        """Map one data row; missing cells read as empty, unreadable times and IPs as absent."""
        if len(cells) <= self._widest:
            cells = [*cells, *([""] * (self._widest + 1 - len(cells)))]
        opted_out = ""
        for rule in self.opt_outs:
            if rule.means_out(cells[rule.column]):
                opted_out = rule.reason
                break
        optin, optin_ip, confirm, confirm_ip = (
            self.opted_in_at,
            self.opted_in_ip,
            (self.confirmed_at),
            self.confirmed_ip,
        )
        return SourceRow(
            cells[self.email],
            None if optin is None else parse_time(cells[optin]),
            None if optin_ip is None else parse_ip(cells[optin_ip]),
            None if confirm is None else parse_time(cells[confirm]),
            None if confirm_ip is None else parse_ip(cells[confirm_ip]),
            opted_out,
        )

    @cached_property
    def _widest(self) -> int:
        columns = [self.email, self.opted_in_at, self.opted_in_ip, self.confirmed_at]
        columns += [self.confirmed_ip, *(rule.column for rule in self.opt_outs)]
        return max(c for c in columns if c is not None)


def detect(first_row: Sequence[str]) -> Layout:
    """Recognise the export from its first row; raise UnknownFormat if it has no email column."""
    names = [cell.replace("\ufeff", "").strip().lower() for cell in first_row]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        columns.setdefault(name, index)
    get = columns.get

    if "email address" in columns:
        return Layout(
            format=MAILCHIMP,
            has_header=True,
            email=columns["email address"],
            opted_in_at=get("optin_time"),
            opted_in_ip=get("optin_ip"),
            confirmed_at=get("confirm_time"),
            confirmed_ip=get("confirm_ip"),
            opt_outs=_present(
                (get("unsub_time"), _filled, UNSUBSCRIBED_THERE),
                (get("clean_time"), _filled, CLEANED_THERE),
            ),
        )
    if "email" in columns:
        email = columns["email"]
        if "subscribed_to_emails" in columns or {"complimentary_plan", "stripe_customer_id"} <= set(
            columns
        ):
            return Layout(
                format=GHOST,
                has_header=True,
                email=email,
                opted_in_at=get("created_at"),
                opt_outs=_present((get("subscribed_to_emails"), _false, NOT_SUBSCRIBED_THERE)),
            )
        if "email_disabled" in columns or "active_subscription" in columns:
            return Layout(
                format=SUBSTACK,
                has_header=True,
                email=email,
                opted_in_at=get("created_at"),
                opt_outs=_present((get("email_disabled"), _true, DISABLED_THERE)),
            )
    for header in _PLAIN_EMAIL_HEADERS:
        if header in columns:
            return Layout(format=PLAIN, has_header=True, email=columns[header])
    if names and "@" in names[0]:
        return Layout(format=PLAIN, has_header=False, email=0)
    raise UnknownFormat(
        _(
            "The first row must name the columns and include an email column (for example "
            "“email” or “Email Address”), or be an address itself."
        )
    )


def parse_time(text: str) -> datetime | None:
    """Read the ISO-like times exports use; a time without a zone is taken as UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_ip(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if _IPV4.fullmatch(text):
        return text
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _present(*rules: tuple[int | None, Callable[[str], bool], str]) -> tuple[OptOut, ...]:
    return tuple(
        OptOut(column, test, reason) for column, test, reason in rules if column is not None
    )


def _filled(value: str) -> bool:
    return bool(value.strip())


def _true(value: str) -> bool:
    return value.strip().lower() in _TRUE


def _false(value: str) -> bool:
    return value.strip().lower() not in _TRUE
