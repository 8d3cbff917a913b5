"""Running an import: chunk after chunk, each committed with its progress and its report lines.

On PostgreSQL two chunks are in flight at once, each on a connection of its own, and commit
in file order (newsletters.importing.lanes). A worker holds a lease on the run while it
works; another worker given the same task (a redelivery, or the sweep) sees the lease and
leaves. A run whose worker died is resumed by the sweep from the last committed chunk: the
input is read on from that chunk's byte offset, the report is cut back to its length at that
commit, and the addresses met so far are read again from the file so that duplicates are
still recognised.
"""

import logging
import uuid
from datetime import timedelta
from pathlib import Path
from string import ascii_lowercase, ascii_uppercase
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from newsletters.importing import lanes, reader, report
from newsletters.importing.formats import Layout
from newsletters.importing.plan import Plan, Planner
from newsletters.importing.stores import ChunkConflict, Store, store_for_connection
from newsletters.models import SubscriberImport

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
ATTEMPTS_PER_CHUNK = 3


class LeaseLost(Exception):
    """Another worker took over this run (this one stalled past its lease)."""


def run(import_id: int, store: Store | None = None) -> bool:
    """Import a file to the end, or resume it; False if another worker holds the run."""
    token = uuid.uuid4().hex
    if not SubscriberImport.objects.claim(import_id, token, timezone.now(), LEASE):
        return False
    imported = SubscriberImport.objects.get(pk=import_id)
    try:
        Runner(imported, token, store).run()
    except LeaseLost:
        log.warning("import %s: lease lost to another worker", import_id)
        return False
    except Exception as exc:
        log.exception("import %s failed", import_id)
        SubscriberImport.objects.filter(pk=import_id, lease_token=token).update(
            status=SubscriberImport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            lease_until=None,
        )
    return True


def report_name(imported: SubscriberImport) -> str:
    return f"imports/reports/import-{imported.pk}-report.csv"


class Runner:
    def __init__(self, imported: SubscriberImport, token: str, store: Store | None = None):
        self.imported = imported
        self.token = token
        self.store = store or store_for_connection()
        self.newsletters = list(imported.newsletters.order_by("position", "name"))
        self.newsletter_ids = [n.pk for n in self.newsletters]
        self.turns = lanes.Turns()

    def run(self) -> None:
        imported = self.imported
        # Read the file itself, not through Django's File, whose line iterator starts over.
        with open(default_storage.path(imported.file.name), "rb") as handle:
            layout, header, data_start = reader.read_layout(handle)
            self.lanes = self._lanes()
            self._start(layout, header)
            self.planner = Planner(imported, self.newsletters)
            report_path = Path(default_storage.path(imported.report.name))
            report_path.parent.mkdir(parents=True, exist_ok=True)
            with open(report_path, "ab+") as out:
                out.truncate(imported.report_bytes)
                if imported.report_bytes == 0:
                    self._append(out, report.header())
                    imported.report_bytes = out.tell()
                offset = max(imported.bytes_done, data_start)
                seen = reader.addresses_before(handle, layout, data_start, offset)
                first_row = (
                    imported.last_row + 1 if imported.last_row else (2 if layout.has_header else 1)
                )
                chunks = reader.chunks(
                    handle,
                    layout,
                    offset=offset,
                    first_row=first_row,
                    size=settings.IMPORT_CHUNK_ROWS,
                    seen=seen,
                )
                lanes.run(
                    reader.read_ahead(chunks, depth=1),
                    lambda chunk: self._commit_chunk(chunk, out),
                    lanes=self.lanes,
                    turns=self.turns,
                )
        self._finish()

    @staticmethod
    def _lanes() -> int:
        """One lane where the run sits inside a transaction (a caller's or a test's) that
        other connections could not see, off PostgreSQL, and where the database lower-cases
        even ASCII its own way (a Turkish collation): lanes rely on it doing so as Python does."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT lower(%s) = %s", [ascii_uppercase, ascii_lowercase])
            (alike,) = cursor.fetchone()
        return settings.IMPORT_LANES if alike else 1

    def _start(self, layout: Layout, header: list[str]) -> None:
        imported = self.imported
        if imported.status == SubscriberImport.Status.RUNNING:
            return
        imported.status = SubscriberImport.Status.RUNNING
        imported.started_at = timezone.now()
        imported.format = layout.format
        imported.header = header[:200] if layout.has_header else []
        imported.report.name = report_name(imported)
        self._save("status", "started_at", "format", "header", "report")

    def _commit_chunk(self, chunk: reader.Chunk, out: BinaryIO) -> None:
        for attempt in range(1, ATTEMPTS_PER_CHUNK + 1):
            saved: tuple[int, int, int] | None = None
            try:
                with transaction.atomic():
                    self.store.prepare(check_as_written=self.lanes > 1)
                    outcomes, plan = self._decide(chunk)
                    self.turns.may_write(chunk.index)
                    if plan is not None:
                        self.store.write(plan, self.planner, timezone.now())
                        outcomes.extend(plan.outcomes)
                    lines = report.render(sorted(outcomes, key=lambda o: o.number))
                    self.turns.wait_for(chunk.index)
                    run = self.imported
                    saved = (run.report_bytes, run.bytes_done, run.last_row)
                    out.seek(0, 2)
                    self._append(out, lines)
                    self._progress(chunk, outcomes, out.tell())
                self.turns.done(chunk.index)
                return
            except (IntegrityError, ChunkConflict) as exc:
                if saved is not None:
                    # Back to where the chunk before this one left the report and progress.
                    run = self.imported
                    run.report_bytes, run.bytes_done, run.last_row = saved
                    out.truncate(run.report_bytes)
                if attempt == ATTEMPTS_PER_CHUNK:
                    raise
                log.info("import %s: chunk retried after %s", self.imported.pk, exc)

    def _decide(self, chunk: reader.Chunk) -> tuple[list[report.Outcome], Plan | None]:
        """The chunk's outcomes known so far, and the plan for its rows that need the database."""
        wording = self.planner.wording
        outcomes = [
            report.Outcome(r.number, r.email, report.SKIPPED, wording.say(r.reason))
            for r in chunk.rejected
        ]
        rows = []
        for row in chunk.rows:
            ruled_out = self.planner.needs_lookup(row)
            if ruled_out is None:
                row.subscriber_id = None
                rows.append(row)
            else:
                outcomes.append(ruled_out)
        if not rows:
            return outcomes, None
        return outcomes, self.planner.decide(rows, self.store.find(rows, self.newsletter_ids))

    def _progress(self, chunk: reader.Chunk, outcomes: list[report.Outcome], size: int) -> None:
        counts = {report.ADDED: 0, report.UPDATED: 0, report.SKIPPED: 0}
        for outcome in outcomes:
            counts[outcome.result] += 1
        now = timezone.now()
        kept = SubscriberImport.objects.filter(pk=self.imported.pk, lease_token=self.token).update(
            bytes_done=chunk.end_offset,
            last_row=chunk.last_row,
            report_bytes=size,
            added=F("added") + counts[report.ADDED],
            updated=F("updated") + counts[report.UPDATED],
            skipped=F("skipped") + counts[report.SKIPPED],
            lease_until=now + LEASE,
        )
        if not kept:
            raise LeaseLost
        self.imported.report_bytes = size
        self.imported.bytes_done = chunk.end_offset
        self.imported.last_row = chunk.last_row

    def _finish(self) -> None:
        from config.celery import publish_on_commit
        from newsletters import tasks

        with transaction.atomic():
            self.imported.status = SubscriberImport.Status.DONE
            self.imported.finished_at = timezone.now()
            self.imported.bytes_done = self.imported.file_size
            self.imported.lease_until = None
            self._save("status", "finished_at", "bytes_done", "lease_until")
            publish_on_commit(tasks.refresh_audience_stats)
            if self.imported.consent_basis == SubscriberImport.Basis.NEEDS_CONFIRMATION:
                publish_on_commit(tasks.send_import_confirmations)
        log.info("import %s done", self.imported.pk)

    def _save(self, *fields: str) -> None:
        kept = SubscriberImport.objects.filter(pk=self.imported.pk, lease_token=self.token)
        if not kept.update(**{name: getattr(self.imported, name) for name in fields}):
            raise LeaseLost

    @staticmethod
    def _append(out: BinaryIO, data: bytes) -> None:
        out.write(data)
        out.flush()
