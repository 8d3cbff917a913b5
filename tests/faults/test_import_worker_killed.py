"""A worker killed by the kernel in the middle of an import with two lanes: the run resumes
after its last committed chunk, and every row is imported and reported exactly once."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from newsletters.importing import run as running
from newsletters.models import ConsentEvent, Subscriber, SubscriberImport, Subscription
from tests import workers
from tests.conftest import wait_for
from tests.newsletters.conftest import confirmed_elsewhere_import, report_rows

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 4_000
CHUNK = 100


def test_an_import_whose_worker_is_killed_resumes_with_every_row_once(media, newsletters, settings):
    from config.celery import app, publish
    from newsletters.tasks import run_import

    settings.IMPORT_CHUNK_ROWS = CHUNK
    settings.IMPORT_LANES = 2
    imported = confirmed_elsewhere_import(
        [f"reader{i}@example.org" for i in range(ROWS)], newsletters["daily-briefing"]
    )

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    worker = workers.start(
        {"MEDIA_ROOT": str(media), "IMPORT_CHUNK_ROWS": str(CHUNK), "IMPORT_LANES": "2"}
    )
    try:
        publish(run_import, imported.pk)
        wait_for(
            lambda: SubscriberImport.objects.get(pk=imported.pk).added >= ROWS // 4, timeout=60
        )
        workers.kill(worker)
    finally:
        workers.kill(worker)
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(app.conf.task_default_queue)
        app.conf.task_always_eager = True

    imported.refresh_from_db()
    assert imported.status == "running" and 0 < imported.added < ROWS
    # Only whole chunks, in file order, outlived the kill.
    assert imported.added % CHUNK == 0 and imported.last_row == imported.added + 1
    assert Subscriber.objects.count() == imported.added
    # The report as committed: lines of a chunk killed before its commit may follow, and a
    # resumed run cuts them off first.
    with open(imported.report.path, "rb") as handle:
        text = handle.read(imported.report_bytes).decode("utf-8")
    committed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [int(r["row"]) for r in committed] == list(range(2, imported.added + 2))

    # The sweep's resume, once the dead worker's lease has run out.
    SubscriberImport.objects.filter(pk=imported.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert running.run(imported.pk) is True
    imported.refresh_from_db()
    assert (imported.status, imported.added, imported.skipped) == ("done", ROWS, 0)
    assert [int(r["row"]) for r in report_rows(imported)] == list(range(2, ROWS + 2))
    assert Subscriber.objects.count() == Subscription.objects.count() == ROWS
    assert ConsentEvent.objects.filter(action="imported").count() == ROWS
