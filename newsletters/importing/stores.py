"""Reading and writing a chunk of an import: set-based on PostgreSQL, plain ORM elsewhere.

On PostgreSQL a chunk costs two lookups (one join of the chunk's addresses against the
subscriber index and the suppression list, one for their subscriptions) and one COPY per
table it writes to. New subscribers get their ids from the sequence up front, so their
subscriptions and ledger lines can be copied in the same pass. A concurrent signup for an
address in the chunk makes a COPY fail on the unique index; the runner then retries the
chunk, whose lookup now finds that subscriber.

The ORM store does the same with bulk_create, for SQLite in development.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from django.db import connection
from django.db.models.functions import Lower

from newsletters.importing.plan import Found, ListState, Plan, Planner
from newsletters.importing.reader import Row
from newsletters.models import (
    ConsentEvent,
    ImportInvitation,
    Source,
    Subscriber,
    Subscription,
    Suppression,
    address_hash,
)
from newsletters.models.suppression import HASH_PREFIX


class ChunkConflict(Exception):
    """Someone changed a row of this chunk since it was read; the chunk is tried again."""


class Store(Protocol):
    def prepare(self, *, check_as_written: bool = False) -> None: ...

    def find(self, rows: Sequence[Row], newsletter_ids: Sequence[int]) -> list[Found]: ...

    def write(self, plan: Plan, planner: Planner, now: datetime) -> None: ...


def store_for_connection() -> Store:
    return PostgresStore() if connection.vendor == "postgresql" else OrmStore()


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _event_values(
    row: Row, newsletter_id: int, planner: Planner, at: datetime | str
) -> tuple[object, ...]:
    run = planner.run
    return (
        row.subscriber_id,
        newsletter_id,
        planner.action,
        at,
        "import",
        planner.event_detail(row),
        row.source.ip,
        "",
        run.consent_note,
        planner.wording_version,
    )


def _pk(row: Row) -> int:
    assert row.subscriber_id is not None, "subscribers are created before their lists"  # noqa: S101
    return row.subscriber_id


_EVENT_COLUMNS = (
    "subscriber_id",
    "newsletter_id",
    "action",
    "at",
    "source",
    "source_detail",
    "ip",
    "user_agent",
    "wording",
    "wording_version",
)


class PostgresStore:
    def prepare(self, *, check_as_written: bool = False) -> None:
        """Tune the chunk's transaction for bulk work, and give it a table for its addresses.

        Not waiting for the WAL flush at commit is safe here: the run's progress is saved in
        the same transaction, so a crash loses both together and the chunk is done again.
        With `check_as_written`, foreign keys are checked as rows are written rather than at
        commit: with lanes the commits come in turn (newsletters.importing.lanes) and the
        writes side by side, and the checks, four per new reader, cost as much as the writing.
        (Not inside a caller's transaction, where the setting would outlive the chunk.)
        """
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL jit = off")
            if check_as_written:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS newsletters_import_chunk"
                " (n integer, email text, key text) ON COMMIT DELETE ROWS"
            )

    def find(self, rows: Sequence[Row], newsletter_ids: Sequence[int]) -> list[Found]:
        found: list[Found] = []
        with connection.cursor() as cursor:
            # Empty already after a commit; not when the run is inside a larger transaction.
            cursor.execute("TRUNCATE newsletters_import_chunk")
            with cursor.copy("COPY newsletters_import_chunk (n, email, key) FROM STDIN") as copy:
                for n, row in enumerate(rows):
                    copy.write_row((n, row.email, row.key))
            # Scalar subqueries, never joins: each address costs one probe of a unique index,
            # however large the tables grow and whatever their (often stale, mid-import)
            # statistics say. OFFSET 0 keeps the planner from flattening them into a join.
            cursor.execute(
                f"""
                SELECT q.id, q.key, q.reason,
                    CASE WHEN q.id IS NOT NULL THEN (
                        SELECT array_agg(ARRAY[s.newsletter_id, s.id]::text[] || s.status::text)
                        FROM {_table(Subscription)} s
                        WHERE s.subscriber_id = q.id AND s.newsletter_id = ANY(%s)
                    ) END
                FROM (
                    SELECT c.n, lower(c.email) AS key,
                        (SELECT s.id FROM {_table(Subscriber)} s
                         WHERE lower(s.email::text) = lower(c.email)) AS id,
                        (SELECT sp.reason FROM {_table(Suppression)} sp WHERE sp.address_hash =
                            encode(sha256(convert_to(%s || c.key, 'UTF8')), 'hex')) AS reason
                    FROM newsletters_import_chunk c
                    OFFSET 0
                ) q
                ORDER BY q.n
                """,  # noqa: S608 - table names come from the models
                [list(newsletter_ids), HASH_PREFIX],
            )
            for pk, key, reason, subscriptions in cursor.fetchall():
                there = Found(pk, key, reason)
                for newsletter_id, subscription_id, status in subscriptions or ():
                    there.lists[int(newsletter_id)] = ListState(int(subscription_id), status)
                found.append(there)
        return found

    def write(self, plan: Plan, planner: Planner, now: datetime) -> None:
        # Timestamps go over as text: formatting a datetime per row costs more than its insert.
        stamp = now.isoformat()
        with connection.cursor() as cursor:
            if plan.new_subscribers:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [Subscriber._meta.db_table, len(plan.new_subscribers)],
                )
                for row, (pk,) in zip(plan.new_subscribers, cursor.fetchall(), strict=True):
                    row.subscriber_id = pk
                with cursor.copy(
                    f"COPY {_table(Subscriber)} (id, email, source, created_at, updated_at)"
                    " FROM STDIN"
                ) as copy:
                    source = str(Source.IMPORT)
                    for row in plan.new_subscribers:
                        copy.write_row((row.subscriber_id, row.email, source, stamp, stamp))
            if plan.new_subscriptions:
                status = str(plan.new_status)
                confirmed_at = stamp if plan.confirmed else None
                with cursor.copy(
                    f"COPY {_table(Subscription)} (subscriber_id, newsletter_id, status,"
                    " created_at, requested_at, confirmed_at) FROM STDIN"
                ) as copy:
                    for row, newsletter_id in plan.new_subscriptions:
                        copy.write_row(
                            (row.subscriber_id, newsletter_id, status, stamp, stamp, confirmed_at)
                        )
            if plan.activate:
                cursor.execute(
                    f"UPDATE {_table(Subscription)} SET status = %s, confirmed_at = %s"  # noqa: S608
                    " WHERE id = ANY(%s) AND status = %s",
                    [Subscription.Status.ACTIVE, now, plan.activate, Subscription.Status.PENDING],
                )
                if cursor.rowcount != len(plan.activate):
                    raise ChunkConflict("a pending subscription changed during the import")
            if plan.events:
                with cursor.copy(
                    f"COPY {_table(ConsentEvent)} ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for row, newsletter_id in plan.events:
                        copy.write_row(_event_values(row, newsletter_id, planner, stamp))
            if plan.invitations:
                with cursor.copy(
                    f"COPY {_table(ImportInvitation)} (run_id, subscriber_id) FROM STDIN"
                ) as copy:
                    for row in plan.invitations:
                        copy.write_row((planner.run.pk, row.subscriber_id))


class OrmStore:
    """The same reads and writes through the ORM, in batches SQLite accepts."""

    batch = 500

    def prepare(self, *, check_as_written: bool = False) -> None:
        return None

    def find(self, rows: Sequence[Row], newsletter_ids: Sequence[int]) -> list[Found]:
        ids: dict[str, int] = {}
        reasons: dict[str, str] = {}
        for start in range(0, len(rows), self.batch):
            part = rows[start : start + self.batch]
            ids.update(
                Subscriber.objects.annotate(key=Lower("email"))
                .filter(key__in=[r.key for r in part])
                .values_list("key", "pk")
            )
            reasons.update(
                Suppression.objects.filter(
                    address_hash__in=[address_hash(r.key) for r in part]
                ).values_list("address_hash", "reason")
            )
        found = [Found(ids.get(r.key), r.key, reasons.get(address_hash(r.key))) for r in rows]
        by_subscriber = {f.subscriber_id: f for f in found if f.subscriber_id is not None}
        pks = list(by_subscriber)
        for start in range(0, len(pks), self.batch):
            for subscriber_id, newsletter_id, pk, status in Subscription.objects.filter(
                subscriber_id__in=pks[start : start + self.batch],
                newsletter_id__in=newsletter_ids,
            ).values_list("subscriber_id", "newsletter_id", "pk", "status"):
                by_subscriber[subscriber_id].lists[newsletter_id] = ListState(pk, status)
        return found

    def write(self, plan: Plan, planner: Planner, now: datetime) -> None:
        created = Subscriber.objects.bulk_create(
            [
                Subscriber(email=row.email, source=Source.IMPORT, created_at=now)
                for row in plan.new_subscribers
            ],
            batch_size=self.batch,
        )
        for row, subscriber in zip(plan.new_subscribers, created, strict=True):
            row.subscriber_id = subscriber.pk
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber_id=_pk(row),
                    newsletter_id=newsletter_id,
                    status=plan.new_status,
                    created_at=now,
                    requested_at=now,
                    confirmed_at=now if plan.confirmed else None,
                )
                for row, newsletter_id in plan.new_subscriptions
            ],
            batch_size=self.batch,
        )
        if plan.activate:
            changed = Subscription.objects.filter(
                pk__in=plan.activate, status=Subscription.Status.PENDING
            ).update(status=Subscription.Status.ACTIVE, confirmed_at=now)
            if changed != len(plan.activate):
                raise ChunkConflict("a pending subscription changed during the import")
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    **dict(zip(_EVENT_COLUMNS, _event_values(row, pk, planner, now), strict=True))
                )
                for row, pk in plan.events
            ],
            batch_size=self.batch,
        )
        ImportInvitation.objects.bulk_create(
            [ImportInvitation(run=planner.run, subscriber_id=_pk(row)) for row in plan.invitations],
            batch_size=self.batch,
        )
