"""Imports with two chunks in flight, each lane on its own connection, committing in order."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.importing import lanes
from newsletters.importing import run as running
from newsletters.importing.reader import Chunk
from newsletters.importing.stores import PostgresStore
from newsletters.models import ConsentEvent, Subscriber, SubscriberImport, Subscription
from tests.newsletters.conftest import confirmed_elsewhere_import, report_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def upload(media, newsletters, settings):
    settings.IMPORT_CHUNK_ROWS = 10
    settings.IMPORT_LANES = 2

    return lambda addresses: confirmed_elsewhere_import(addresses, newsletters["daily-briefing"])


def test_chunks_in_lanes_import_every_row_and_report_them_in_file_order(upload):
    addresses = [f"reader{i:03d}@example.org" for i in range(95)]
    addresses[42] = "lucja@Żółw.example.pl"  # outside ASCII: its chunk writes in its turn
    addresses[70] = addresses[3].upper()  # a repeat, three chunks later
    imported = upload(addresses)
    used = set()
    write = PostgresStore.write

    def noting_the_lane(self, plan, planner, now):
        used.add(threading.current_thread().name)
        return write(self, plan, planner, now)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgresStore, "write", noting_the_lane)
        assert running.run(imported.pk) is True
    imported.refresh_from_db()
    assert imported.status == "done", imported.error
    assert used == {"import-lane-0", "import-lane-1"}
    assert (imported.added, imported.updated, imported.skipped) == (94, 0, 1)
    rows = report_rows(imported)
    assert [int(r["row"]) for r in rows] == list(range(2, 97))
    assert rows[70]["outcome"] == "skipped"
    assert Subscriber.objects.count() == Subscription.objects.count() == 94
    assert ConsentEvent.objects.filter(action="imported").count() == 94
    assert Subscriber.objects.filter(email="lucja@żółw.example.pl").exists()


def test_a_lane_that_dies_leaves_only_whole_chunks_committed_in_order_and_the_run_resumes(
    upload, monkeypatch
):
    imported = upload([f"reader{i:03d}@example.org" for i in range(60)])

    class WorkerDied(BaseException):
        pass

    commit_chunk = running.Runner._commit_chunk
    write = PostgresStore.write
    fourth_written = threading.Event()

    def noting_the_fourth(self, plan, planner, now):
        write(self, plan, planner, now)
        if any(row.number >= 32 for row in plan.new_subscribers):  # rows 32 to 41
            fourth_written.set()

    def die_in_the_third_chunk(self, chunk, out):
        if chunk.index == 2:
            # The fourth chunk writes its rows meanwhile: they must not outlive this failure.
            assert fourth_written.wait(timeout=10)
            raise WorkerDied
        return commit_chunk(self, chunk, out)

    monkeypatch.setattr(PostgresStore, "write", noting_the_fourth)
    monkeypatch.setattr(running.Runner, "_commit_chunk", die_in_the_third_chunk)
    with pytest.raises(WorkerDied):
        running.run(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.added, imported.last_row) == ("running", 20, 21)
    assert Subscriber.objects.count() == 20
    assert [int(r["row"]) for r in report_rows(imported)] == list(range(2, 22))

    monkeypatch.setattr(running.Runner, "_commit_chunk", commit_chunk)
    SubscriberImport.objects.filter(pk=imported.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert running.run(imported.pk) is True
    imported.refresh_from_db()
    assert (imported.status, imported.added) == ("done", 60)
    assert [int(r["row"]) for r in report_rows(imported)] == list(range(2, 62))
    assert Subscriber.objects.count() == 60


def test_a_chunk_writes_early_only_when_it_and_the_chunks_before_it_are_plain_ascii():
    turns = lanes.Turns()
    for index, plain in enumerate([True, True, False, True, True]):
        turns.add(Chunk(index=index), plain=plain)

    def may_write_now(index: int) -> bool:
        finished = threading.Event()

        def attempt() -> None:
            turns.may_write(index)
            finished.set()

        threading.Thread(target=attempt, daemon=True).start()
        return finished.wait(timeout=0.2)

    assert may_write_now(1)  # chunk 0 is open, and both are plain
    assert not may_write_now(2)  # not plain: in its turn only
    turns.done(0)
    turns.done(1)
    assert may_write_now(2)  # its turn now
    assert not may_write_now(3)  # plain, but a chunk still open before it is not
    turns.done(2)
    assert may_write_now(4)


def test_a_failure_wakes_every_lane_waiting_for_its_turn():
    turns = lanes.Turns()
    turns.add(Chunk(index=0), plain=True)
    outcome: list[str] = []

    def wait() -> None:
        try:
            turns.wait_for(1)
            outcome.append("went on")
        except lanes.Aborted:
            outcome.append("aborted")

    waiting = threading.Thread(target=wait)
    waiting.start()
    turns.fail()
    waiting.join(timeout=5)
    assert outcome == ["aborted"]
