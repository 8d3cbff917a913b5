"""The one outbox every email goes through: queue in the transaction, deliver from a worker."""

import logging
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from newsletters.models import OutboundEmail, Suppression

log = logging.getLogger(__name__)


def stale_claim() -> timedelta:
    """Rows claimed longer ago than this belong to a worker that died mid-send."""
    return timedelta(seconds=settings.OUTBOX_STALE_CLAIM_SECONDS)


# Errors that another try will not fix.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (AnymailRecipientsRefused, AnymailInvalidAddress)


_held: ContextVar[list[int] | None] = ContextVar("held_emails", default=None)


@contextmanager
def send_here() -> Iterator[list[int]]:
    """Within this block, emails queued are left for the caller to send, not queued as tasks.

    A worker that has just committed a signup sends its confirmation itself, sparing a trip
    through the broker; if it dies first, the row is still in the outbox for the sweep.
    """
    held: list[int] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Render templates/emails/<template>/{subject.txt, body.txt, body.html}."""
    context = {
        "NEWSROOM_NAME": settings.NEWSROOM_NAME,
        "SITE_URL": settings.SITE_URL,
        "LANGUAGE_CODE": translation.get_language() or settings.LANGUAGE_CODE,
        **context,
    }
    subject = render_to_string(f"emails/{template}/subject.txt", context)
    text = render_to_string(f"emails/{template}/body.txt", context)
    html = render_to_string(f"emails/{template}/body.html", context)
    # A subject is one line whatever the template or its data holds.
    return " ".join(subject.split()), text, html


def queue(
    kind: str,
    to: str,
    template: str,
    context: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    language: str | None = None,
    list_email: bool = False,
) -> OutboundEmail:
    """Write an email to the outbox and send it once the surrounding transaction commits.

    A list email (one about lists the reader chose, carrying newsletters.links.links_for's
    headers) is checked against the suppression list when it is sent; transactional email
    such as a confirmation is not, since confirming is how a suppressed reader comes back.
    """
    from newsletters.tasks import send_email

    with translation.override(language or translation.get_language()):
        subject, text, html = render_email(template, context)
    email = OutboundEmail.objects.create(
        key=f"{kind}.{uuid.uuid4().hex}",
        kind=kind,
        to=to,
        from_email=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=headers or {},
        metadata=metadata or {},
        is_list_email=list_email,
    )
    held = _held.get()
    if held is not None:
        held.append(email.pk)
    else:
        from config.celery import publish_on_commit

        publish_on_commit(send_email, email.pk)
    return email


def build_message(email: OutboundEmail) -> EmailMultiAlternatives:
    domain = parseaddr(email.from_email)[1].rpartition("@")[2] or "localhost"
    headers = {
        # The same Message-ID on every try lets receiving systems drop a repeat delivery.
        "Message-ID": f"<{email.key}@{domain}>",
        **email.headers,
    }
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text_body,
        from_email=email.from_email,
        to=[email.to],
        headers=headers,
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    # Read by anymail's backends; other backends ignore them.
    message.tags = [email.kind]  # type: ignore[attr-defined]
    message.metadata = {"kind": email.kind, "outbox_key": email.key, **email.metadata}  # type: ignore[attr-defined]
    return message


class AddressSuppressed(Exception):
    """The address bounced, complained or was erased since this list email was queued."""


@dataclass(frozen=True)
class Attempt:
    sent: bool = False
    retry_in: float | None = None  # seconds until the next try, when it failed but may succeed


def _claim(pk: int) -> OutboundEmail | None:
    """Take a row for sending: one conditional UPDATE, so two workers cannot both win."""
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.claimable(now, stale_claim())
        .filter(pk=pk)
        .update(status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return OutboundEmail.objects.get(pk=pk) if claimed else None


def backoff(attempts: int) -> float:
    """Seconds to wait after the given number of failed tries: doubling, up to an hour."""
    base: float = min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 3600)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def deliver(pk: int) -> Attempt:
    """Send one outbox row if it is still owed; safe to call any number of times."""
    email = _claim(pk)
    if email is None:
        return Attempt()
    # Checked at send time: the address may have bounced since the email was queued.
    if email.is_list_email and Suppression.objects.for_email(email.to).exists():
        _finish(email, OutboundEmail.Status.CANCELLED, error=AddressSuppressed("suppressed"))
        log.info("outbox %s: %s not sent: the address is suppressed", email.pk, email.kind)
        return Attempt()
    try:
        message = build_message(email)
        get_connection().send_messages([message])
    except PERMANENT_ERRORS as exc:
        _finish(email, OutboundEmail.Status.FAILED, error=exc)
        log.warning("outbox %s: %s refused for good: %s", email.pk, email.kind, exc)
        return Attempt()
    except Exception as exc:
        if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish(email, OutboundEmail.Status.FAILED, error=exc)
            log.error("outbox %s: %s gave up after %d tries", email.pk, email.kind, email.attempts)
            return Attempt()
        delay = backoff(email.attempts)
        _finish(email, OutboundEmail.Status.PENDING, error=exc, retry_in=delay)
        log.warning("outbox %s: %s failed (%s); retry in %.0fs", email.pk, email.kind, exc, delay)
        return Attempt(retry_in=delay)
    status = getattr(message, "anymail_status", None)
    _finish(
        email, OutboundEmail.Status.SENT, message_id=str(getattr(status, "message_id", "") or "")
    )
    log.info("outbox %s: sent %s", email.pk, email.kind)
    return Attempt(sent=True)


def _finish(
    email: OutboundEmail,
    status: str,
    *,
    error: Exception | None = None,
    retry_in: float | None = None,
    message_id: str = "",
) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "claimed_at": None}
    if status == OutboundEmail.Status.SENT:
        fields.update(sent_at=now, esp_message_id=message_id[:200], last_error="")
    if error is not None:
        fields["last_error"] = f"{type(error).__name__}: {error}"[:2000]
    if retry_in is not None:
        fields["next_attempt_at"] = now + timedelta(seconds=retry_in)
    OutboundEmail.objects.filter(pk=email.pk).update(**fields)


def sweep(now: Any = None) -> int:
    """Queue every row that is due and report how many; rows already queued are harmless."""
    from config.celery import requeue
    from newsletters.tasks import send_email

    now = now or timezone.now()
    # Give the on-commit publish a moment before treating a fresh row as missed.
    due = OutboundEmail.objects.due(now - timedelta(seconds=5), stale_claim())
    return requeue(send_email, due.order_by("next_attempt_at").values_list("pk", flat=True)[:5000])
