"""Handing an edition's recipients to the email provider, batch by batch, from any worker.

Editions skip the OutboundEmail outbox (a million rendered copies would be waste): the
EditionRecipient rows are their outbox. A worker takes a batch with SELECT ... FOR UPDATE
SKIP LOCKED and keeps the lock while it sends; the transaction that marks the rows sent
commits right after the ESP answers. Killed mid-batch, the worker's connection drops, the
database releases the rows, and another worker sends them. One window stays: the ESP
accepted the batch but the worker died before its commit. Those readers get the edition
again with the same Message-ID (and the same recipient id in its metadata), which lets
receiving systems drop the repeat; nothing else is ever sent twice.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any, NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from newsletters.edition_esps import BatchSupport, batch_support
from newsletters.edition_html import clean_for_email, html_to_text
from newsletters.links import ONE_CLICK, links_for
from newsletters.models import (
    Edition,
    EditionRecipient,
    Subscriber,
    Subscription,
    Suppression,
    address_hash,
)
from newsletters.outbox import PERMANENT_ERRORS, render_email

log = logging.getLogger(__name__)

MERGE_FIELDS = ("preferences_url", "unsubscribe_url")
# ESP answers that mean this one address will never take the message.
_REFUSED = {"rejected", "invalid"}


class Row(NamedTuple):
    id: int
    subscriber_id: int
    email: str


@dataclass(frozen=True)
class Rendered:
    """An edition rendered once per send, with a placeholder where each reader's links go."""

    subject: str
    text: str
    html: str
    placeholders: dict[str, str]  # merge field name -> the text standing for it in the bodies

    def personal(self, values: dict[str, str]) -> tuple[str, str]:
        text, html = self.text, self.html
        for name, placeholder in self.placeholders.items():
            text = text.replace(placeholder, values[name])
            html = html.replace(placeholder, values[name])
        return text, html


def edition_context(edition: Edition) -> dict[str, Any]:
    archive_url = ""
    if edition.in_public_archive:
        archive_url = settings.SITE_URL + reverse(
            "newsletters:archive_edition", args=[edition.newsletter.slug, edition.pk]
        )
    return {
        "edition": edition,
        "newsletter": edition.newsletter,
        "preheader": edition.preheader,
        # Trusted staff content, still sanitised: no script or event handlers reach a reader.
        "body_html": mark_safe(clean_for_email(edition.html_body)),  # noqa: S308
        "body_text": edition.text_body.strip() or html_to_text(edition.html_body),
        "archive_url": archive_url,
    }


def render(edition: Edition, placeholder: Callable[[str], str], test: bool = False) -> Rendered:
    placeholders = {name: placeholder(name) for name in MERGE_FIELDS}
    context = {**edition_context(edition), **placeholders, "test": test}
    subject, text, html = render_email("edition", context)
    return Rendered(subject, text, html, placeholders)


def sentinel(name: str) -> str:
    return f"__NEWSROOM_{name.upper()}__"


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def message_id(edition_id: int, recipient_id: int, domain: str | None = None) -> str:
    """The same on every try, so a receiving system can drop a repeat."""
    return f"<edition-{edition_id}.{recipient_id}@{domain or _domain()}>"


def list_id(edition: Edition) -> str:
    name = "".join(c for c in edition.newsletter.name if c not in '<>"\\\r\n')
    return f'"{name}" <{edition.newsletter.slug}.{_domain()}>'


class Batch:
    """Some claimed rows on their way to the ESP, and what came of each."""

    def __init__(
        self, edition: Edition, rows: Sequence[Row], renders: dict[str, Rendered] | None = None
    ) -> None:
        self.edition = edition
        self.rows = rows
        self.outcome: dict[int, tuple[str, str, str]] = {}  # row id -> (status, message id, why)
        self.renders = {} if renders is None else renders  # shared by a worker's batches

    def rendered(self, merge_field: str | None) -> Rendered:
        """The edition rendered with ESP merge fields, or with sentinels to replace per reader."""
        key = merge_field or ""
        if key not in self.renders:
            self.renders[key] = render(
                self.edition,
                (lambda name: merge_field.replace("NAME", name)) if merge_field else sentinel,
            )
        return self.renders[key]

    def recheck(self) -> list[Row]:
        """Drop rows whose reader was suppressed or left the list since the snapshot."""
        hashes = {row.id: address_hash(row.email) for row in self.rows}
        suppressed = set(
            Suppression.objects.filter(address_hash__in=hashes.values()).values_list(
                "address_hash", flat=True
            )
        )
        still_on = set(
            Subscription.objects.filter(
                newsletter_id=self.edition.newsletter_id,
                subscriber_id__in=[row.subscriber_id for row in self.rows],
                status=Subscription.Status.ACTIVE,
            ).values_list("subscriber_id", flat=True)
        )
        keep = []
        for row in self.rows:
            if hashes[row.id] in suppressed:
                self.outcome[row.id] = (EditionRecipient.Status.SKIPPED, "", "suppressed")
            elif row.subscriber_id not in still_on:
                self.outcome[row.id] = (EditionRecipient.Status.SKIPPED, "", "left the list")
            else:
                keep.append(row)
        return keep

    def links(self, row: Row) -> dict[str, str]:
        links = links_for(Subscriber(pk=row.subscriber_id), [self.edition.newsletter])
        return {
            "preferences_url": links.preferences_url,
            "unsubscribe_url": links.unsubscribe_url,
            "List-Unsubscribe": links.headers["List-Unsubscribe"],
        }

    def _base_message(self, subject: str, text: str, html: str, to: list[str]) -> Any:
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            headers={"List-Unsubscribe-Post": ONE_CLICK, "List-Id": list_id(self.edition)},
        )
        message.attach_alternative(html, "text/html")
        message.tags = ["edition"]  # type: ignore[attr-defined]
        message.metadata = {"kind": "edition", "edition": str(self.edition.pk)}  # type: ignore[attr-defined]
        return message

    def send_as_batch(self, conn: Any, rows: list[Row], support: BatchSupport) -> None:
        rendered = self.rendered(support.merge_field)
        message = self._base_message(
            rendered.subject, rendered.text, rendered.html, [row.email for row in rows]
        )
        merge_data, merge_headers, merge_metadata = {}, {}, {}
        domain = _domain()
        for row in rows:
            links = self.links(row)
            merge_data[row.email] = {name: links[name] for name in MERGE_FIELDS}
            headers = {"List-Unsubscribe": links["List-Unsubscribe"]}
            if support.message_id_header:
                headers["Message-ID"] = message_id(self.edition.pk, row.id, domain)
            merge_headers[row.email] = headers
            merge_metadata[row.email] = {"recipient": str(row.id)}
        message.merge_data = merge_data
        message.merge_headers = merge_headers
        message.merge_metadata = merge_metadata
        if support.esp_extra:
            message.esp_extra = support.esp_extra
        try:
            conn.send_messages([message])
        except PERMANENT_ERRORS:
            # One bad address refuses the whole call at some ESPs: find it one by one.
            self.send_one_by_one(conn, rows)
            return
        self._read_status(rows, message)

    def send_one_by_one(self, conn: Any, rows: list[Row]) -> None:
        rendered = self.rendered(None)
        for row in rows:
            links = self.links(row)
            text, html = rendered.personal(links)
            message = self._base_message(rendered.subject, text, html, [row.email])
            message.extra_headers.update(
                {
                    "List-Unsubscribe": links["List-Unsubscribe"],
                    "Message-ID": message_id(self.edition.pk, row.id),
                }
            )
            message.metadata["recipient"] = str(row.id)
            try:
                conn.send_messages([message])
            except PERMANENT_ERRORS as exc:
                self.outcome[row.id] = (EditionRecipient.Status.FAILED, "", str(exc)[:300])
                continue
            self._read_status([row], message)

    def _read_status(self, rows: list[Row], message: Any) -> None:
        status = getattr(message, "anymail_status", None)
        recipients = getattr(status, "recipients", None) or {}
        for row in rows:
            answer = recipients.get(row.email)
            esp_id = str(getattr(answer, "message_id", "") or "")[:200]
            if answer is not None and answer.status in _REFUSED:
                why = f"{answer.status} by the email provider"
                self.outcome[row.id] = (EditionRecipient.Status.FAILED, esp_id, why)
            else:
                self.outcome[row.id] = (EditionRecipient.Status.SENT, esp_id, "")

    def save(self) -> None:
        """Mark every row with its outcome and add them to the edition's counts."""
        now = timezone.now()
        ids = list(self.outcome)
        if not ids:
            return
        statuses = [self.outcome[pk][0] for pk in ids]
        table = EditionRecipient._meta.db_table
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS r SET status = v.status, message_id = v.mid,"  # noqa: S608
                    " detail = v.why, sent_at = CASE WHEN v.status = 'sent' THEN %s END"
                    " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])"
                    " AS v(id, status, mid, why) WHERE r.id = v.id",
                    [
                        now,
                        ids,
                        statuses,
                        [self.outcome[pk][1] for pk in ids],
                        [self.outcome[pk][2] for pk in ids],
                    ],
                )
        else:
            for pk in ids:
                status, esp_id, why = self.outcome[pk]
                sent_at = now if status == EditionRecipient.Status.SENT else None
                EditionRecipient.objects.filter(pk=pk).update(
                    status=status, message_id=esp_id, detail=why, sent_at=sent_at
                )
        Edition.objects.filter(pk=self.edition.pk).update(
            sent=F("sent") + statuses.count(EditionRecipient.Status.SENT),
            skipped=F("skipped") + statuses.count(EditionRecipient.Status.SKIPPED),
            failed=F("failed") + statuses.count(EditionRecipient.Status.FAILED),
            heartbeat_at=now,
        )
        self.outcome = {}


def _claim(edition_id: int, after: int, size: int) -> list[Row]:
    rows = (
        EditionRecipient.objects.waiting(edition_id)
        .filter(id__gt=after)
        .order_by("id")
        .select_for_update(skip_locked=True)
        .values_list("id", "subscriber_id", "email")[:size]
    )
    return [Row(*row) for row in rows]


def _pace(edition_id: int, size: int) -> None:
    """Wait for this batch's slot under EDITION_SEND_RATE, shared by every worker on the send.

    Each batch books the next size/rate seconds on the edition's clock (next_slot_at), so the
    rate holds however many workers on however many machines send the edition.
    """
    rate = settings.EDITION_SEND_RATE
    if not rate:
        return
    cost = timedelta(seconds=size / rate)
    with transaction.atomic():
        slot = Edition.objects.select_for_update().values_list("next_slot_at", flat=True)
        now = timezone.now()
        start = max(slot.get(pk=edition_id) or now, now)
        Edition.objects.filter(pk=edition_id).update(next_slot_at=start + cost)
    wait = (start - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)


def batch_size(support: BatchSupport | None) -> int:
    size = settings.EDITION_BATCH_SIZE
    if support is not None:
        size = min(size, support.max_recipients)
    if settings.EDITION_SEND_RATE:
        size = min(size, max(1, int(settings.EDITION_SEND_RATE)))  # no burst past a second's worth
    return size


def deliver(edition_id: int, seconds: float | None = None) -> bool:
    """Send waiting recipients of an edition for up to `seconds`; True if some still wait.

    Safe to run in any number of workers at once, and to run again after any failure.
    """
    deadline = time.monotonic() + (seconds or settings.EDITION_TASK_SECONDS)
    edition = Edition.objects.select_related("newsletter").filter(pk=edition_id).first()
    if edition is None or edition.status != Edition.Status.SENDING:
        return False
    conn = get_connection()
    support = batch_support(conn)
    size = batch_size(support)
    after = 0
    renders: dict[str, Rendered] = {}
    conn.open()
    try:
        while time.monotonic() < deadline:
            _pace(edition_id, size)
            failure: Exception | None = None
            with transaction.atomic():
                rows = _claim(edition_id, after, size)
                if not rows:
                    if after == 0:
                        break
                    after = 0  # rows a dead worker let go of may sit behind us
                    continue
                after = rows[-1].id
                batch = Batch(edition, rows, renders)
                keep = batch.recheck()
                try:
                    if keep and support is not None:
                        batch.send_as_batch(conn, keep, support)
                    elif keep:
                        batch.send_one_by_one(conn, keep)
                except Exception as exc:
                    failure = exc
                # Commit what went out; rows the ESP did not take go back to waiting.
                batch.save()
            if failure is not None:
                raise failure
        else:
            return True
    finally:
        conn.close()
    finish(edition_id)
    return False


def finish(edition_id: int) -> bool:
    """Mark the edition sent once every recipient is handled (rows another worker holds are not).

    The counts move in the same transactions as the rows, so they say it without a scan.
    """
    done = Edition.objects.filter(
        pk=edition_id,
        status=Edition.Status.SENDING,
        recipients__lte=F("sent") + F("skipped") + F("failed"),
    ).update(status=Edition.Status.SENT, finished_at=timezone.now())
    if done:
        log.info("edition %s: every recipient handled", edition_id)
    return bool(done)
