"""Subscribers as CSV, streamed: one row per reader and list, with the proof of consent."""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from newsletters.models import ConsentEvent, Subscriber, Subscription

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "email",
    "newsletter",
    "status",
    "requested_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_action",
    "consent_at",
    "consent_source",
    "consent_detail",
    "consent_ip",
    "consent_wording_version",
    "subscriber_source",
    "subscriber_since",
)
BATCH = 2000
PROOF = (ConsentEvent.Action.CONFIRMED, ConsentEvent.Action.IMPORTED)


def spreadsheet_safe(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula, with a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return spreadsheet_safe(str(value))


_FIELDS = (
    "pk",
    "subscriber_id",
    "newsletter_id",
    "subscriber__email",
    "newsletter__slug",
    "status",
    "requested_at",
    "confirmed_at",
    "unsubscribed_at",
    "subscriber__source",
    "subscriber__created_at",
)


def rows(subscriptions: QuerySet[Subscription]) -> Iterator[tuple[object, ...]]:
    """Walk the subscriptions in id order, a batch at a time, each with its latest proof.

    Keyset pages keep every query short and the memory flat, however many rows there are.
    """
    last = 0
    while True:
        batch = list(subscriptions.filter(pk__gt=last).order_by("pk").values_list(*_FIELDS)[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        yield from _with_proof(batch)


def rows_for_readers(subscribers: QuerySet[Subscriber]) -> Iterator[tuple[object, ...]]:
    """The same rows for a selection of readers, walked reader by reader.

    Walking the readers (not their subscriptions filtered by a subquery on the selection)
    keeps "select all" of a million readers linear.
    """
    last = 0
    while True:
        ids = list(
            subscribers.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        last = ids[-1]
        yield from _with_proof(
            list(
                Subscription.objects.filter(subscriber_id__in=ids)
                .order_by("subscriber_id", "newsletter__position", "newsletter__name")
                .values_list(*_FIELDS)
            )
        )


def _with_proof(batch: list[tuple[object, ...]]) -> Iterator[tuple[object, ...]]:
    proof: dict[tuple[object, object], tuple[object, ...]] = {}
    events = (
        ConsentEvent.objects.filter(
            subscriber_id__in={row[1] for row in batch},
            newsletter__isnull=False,
            action__in=PROOF,
        )
        .order_by("at", "id")
        .values_list(
            "subscriber_id",
            "newsletter_id",
            "action",
            "at",
            "source",
            "source_detail",
            "ip",
            "wording_version",
        )
    )
    for event in events:
        proof[(event[0], event[1])] = event[2:]  # the latest wins
    for row in batch:
        consent = proof.get((row[1], row[2]), ("",) * 6)
        yield (*row[3:9], *consent, *row[9:])


def csv_response(lines: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    """Stream rows as a CSV download; the byte-order mark lets spreadsheets read UTF-8."""

    class _Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Echo(), lineterminator="\r\n")

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(COLUMNS)
        for line in lines:
            yield writer.writerow([_cell(value) for value in line])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
