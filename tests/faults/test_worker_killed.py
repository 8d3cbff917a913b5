"""A worker killed in the middle of sending: every email still goes, and not twice where the
outbox can tell (only a message the provider accepted just before the kill can repeat)."""

import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from newsletters import outbox
from newsletters.models import OutboundEmail
from tests import workers
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EMAILS = 30
STALE_SECONDS = 3  # ten minutes in production; short here so the test need not wait them out


def start_worker(record_url):
    return workers.start(
        {
            "EMAIL_BACKEND": "tests.fakes.RecordingESP",
            "FAKE_ESP_RECORD_URL": record_url,
            "FAKE_ESP_DELAY": "0.1",
            "OUTBOX_STALE_CLAIM_SECONDS": str(STALE_SECONDS),
        }
    )


def test_a_killed_worker_loses_no_email_and_repeats_none_it_had_finished(newsletters, settings):
    settings.OUTBOX_STALE_CLAIM_SECONDS = STALE_SECONDS
    from config.celery import app, publish
    from newsletters.tasks import send_email

    record_url = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/13"
    accepted = redis.Redis.from_url(record_url, decode_responses=True)
    accepted.delete("fake-esp:accepted")
    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    emails = [
        outbox.queue("welcome", f"r{n}@example.org", "welcome", {"newsletters": []})
        for n in range(EMAILS)
    ]
    for email in emails:
        publish(send_email, email.pk)

    worker = start_worker(record_url)
    try:
        wait_for(lambda: accepted.llen("fake-esp:accepted") >= 8, timeout=60)
        workers.kill(worker)
        in_flight = set(
            OutboundEmail.objects.filter(status="sending").values_list("key", flat=True)
        )
        sent_before = OutboundEmail.objects.filter(status="sent").count()
        assert 0 < sent_before < EMAILS  # killed part way through

        worker = start_worker(record_url)
        # Beat's sweep, once the dead worker's claim has gone stale.
        time.sleep(STALE_SECONDS + 1)
        outbox.sweep(now=timezone.now() + timedelta(seconds=10))
        wait_for(lambda: OutboundEmail.objects.filter(status="sent").count() == EMAILS, timeout=90)
    finally:
        workers.kill(worker)
        app.conf.task_always_eager = True

    keys = accepted.lrange("fake-esp:accepted", 0, -1)
    assert set(keys) == {email.key for email in emails}  # nothing lost
    repeated = {key for key in keys if keys.count(key) > 1}
    assert repeated <= in_flight  # only what was mid-send at the kill can repeat
    assert len(keys) <= EMAILS + len(in_flight)
