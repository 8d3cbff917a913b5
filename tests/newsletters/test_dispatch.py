"""On PostgreSQL a poller in the worker finds committed signups and queues their tasks."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection

from newsletters import dispatch
from newsletters.models import SignupRequest, Subscription
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def polling(settings):
    settings.SIGNUP_DISPATCH = "poll"


@pytest.fixture
def poller(polling, monkeypatch):
    """The poller in a thread, with what it queues recorded instead of sent to the broker."""
    import config.celery

    queued: list[int] = []
    monkeypatch.setattr(config.celery, "publish", lambda task, pk, **kw: queued.append(pk) or True)
    stop = threading.Event()
    threads = []

    def start():
        thread = threading.Thread(target=dispatch.poll, args=(stop,), kwargs={"interval": 0.05})
        thread.start()
        threads.append(thread)

    yield start, queued
    stop.set()
    for thread in threads:
        thread.join(timeout=5)


def polling_now():
    """Whether some poller holds the lock (from then on no signup goes unqueued)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
            [dispatch.POLLER_LOCK],
        )
        return cursor.fetchone()[0] > 0


def sign_up(client, email):
    return client.post("/newsletters/", {"email": email, "newsletters": "daily-briefing"})


def test_the_poller_finds_a_committed_signup_and_queues_its_task(client, newsletters, poller):
    start, queued = poller
    start()
    wait_for(polling_now, timeout=5)
    assert sign_up(client, "reader@example.org").status_code == 302
    request = SignupRequest.objects.get()
    wait_for(lambda: queued == [request.pk], timeout=5)


def test_signups_committed_while_nobody_polled_are_queued_when_it_starts(
    client, newsletters, poller
):
    start, queued = poller
    sign_up(client, "early@example.org")
    early = SignupRequest.objects.get()
    start()
    wait_for(lambda: early.pk in queued, timeout=5)


def test_only_one_worker_polls_at_a_time(client, newsletters, poller):
    start, queued = poller
    start()
    wait_for(polling_now, timeout=5)
    start()  # a second worker: it stands by while the first holds the lock
    sign_up(client, "reader@example.org")
    request = SignupRequest.objects.get()
    wait_for(lambda: request.pk in queued, timeout=5)
    time.sleep(0.5)
    assert queued.count(request.pk) == 1


def test_with_a_real_worker_the_confirmation_arrives_without_the_web_touching_the_broker(
    client, newsletters, polling, redis_worker, monkeypatch
):
    from config import celery

    published_by_web = []
    real_publish = celery.publish

    def web_publish(task, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            published_by_web.append(task.name)
        return real_publish(task, *args, **kwargs)

    monkeypatch.setattr(celery, "publish", web_publish)
    assert sign_up(client, "reader@example.org").status_code == 302
    wait_for(lambda: len(mail.outbox) == 1, timeout=15)
    assert mail.outbox[0].subject == "Confirm your subscription"
    assert Subscription.objects.get().status == "pending"
    assert published_by_web == []


def test_the_poller_stops_with_its_worker(polling, transactional_db):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    def pollers():
        return [t for t in threading.enumerate() if t.name == "signup-poller"]

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False):
            wait_for(lambda: len(pollers()) == 1, timeout=5)
    finally:
        app.conf.task_always_eager = True
    wait_for(lambda: not pollers(), timeout=5)
