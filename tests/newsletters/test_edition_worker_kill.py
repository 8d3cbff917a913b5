"""A worker process killed in the middle of a batch: the others resume, and nobody gets it twice."""

import signal
from pathlib import Path
from unittest import mock

import pytest

from config.celery import app
from newsletters import editions
from newsletters.models import Edition, EditionRecipient
from newsletters.tasks import deliver_edition
from tests import workers
from tests.conftest import wait_for
from tests.newsletters.test_editions import make_readers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

READERS = 30
BATCH = 5


def start_worker(record, hang_at_batch=0):
    return workers.start(
        {
            "EMAIL_BACKEND": "tests.fakes.HangingESP",
            "RECORD_FILE": str(record),
            "HANG_AT_BATCH": str(hang_at_batch),
            "EDITION_BATCH_SIZE": str(BATCH),
            "EDITION_SEND_TASKS": "1",
        },
        pool="solo",
    )


def publish_delivery(edition):
    app.conf.task_always_eager = False
    try:
        deliver_edition.apply_async(args=[edition.pk])
    finally:
        app.conf.task_always_eager = True


def recorded(record):
    return record.read_text().split() if record.exists() else []


def test_a_killed_worker_leaves_its_batch_to_the_next_and_nobody_is_sent_it_twice(
    newsletters, tmp_path
):
    daily = newsletters["daily-briefing"]
    readers = make_readers(daily, READERS)
    edition = Edition.objects.create(newsletter=daily, subject="Monday", html_body="<p>Hi</p>")
    # Snapshot here and queue nothing: the worker processes below do all the sending.
    with mock.patch("config.celery.publish_on_commit"):
        editions.send_now(edition)
        editions.start(edition.pk)
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(app.conf.task_default_queue)
    record = tmp_path / "accepted.txt"

    # The first worker sends two batches, then hangs inside the ESP call of its third.
    first = start_worker(record, hang_at_batch=3)
    try:
        publish_delivery(edition)
        wait_for(lambda: Path(f"{record}.hung").exists(), timeout=60, interval=0.1)
        assert len(recorded(record)) == 2 * BATCH
        assert EditionRecipient.objects.filter(edition=edition, status="sent").count() == 10
    finally:
        workers.kill(first)

    # Its claim died with its connection: the third batch waits for any worker again.
    wait_for(lambda: EditionRecipient.objects.waiting(edition.pk).count() == READERS - 10)

    second = start_worker(record)
    try:
        publish_delivery(edition)
        wait_for(
            lambda: Edition.objects.get(pk=edition.pk).status == Edition.Status.SENT,
            timeout=60,
            interval=0.1,
        )
    finally:
        workers.kill(second, signal.SIGTERM)

    accepted = recorded(record)
    assert sorted(accepted) == sorted(reader.email for reader in readers)  # each exactly once
    edition.refresh_from_db()
    assert (edition.sent, edition.skipped, edition.failed) == (READERS, 0, 0)
