"""Redis unreachable at signup time: nothing is lost, and each email goes out once it is back."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from config.celery import app
from newsletters import outbox, signup
from newsletters.models import OutboundEmail, SignupRequest, Subscription
from tests.conftest import link_in, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_signups_while_redis_is_down_are_kept_and_sent_once_when_it_is_back(
    client, newsletters, settings, own_redis, broker_at
):
    # Both the broker and the cache (rate limits) live on a Redis that is not running.
    broker_at(own_redis.url)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    app.conf.task_always_eager = False
    try:
        for n in range(3):
            started = time.monotonic()
            response = client.post(
                "/newsletters/", {"email": f"r{n}@example.org", "newsletters": "daily-briefing"}
            )
            assert response.status_code == 302
            assert time.monotonic() - started < 3
        # Each signup is committed as submitted; the worker that would process it is unreachable.
        assert SignupRequest.objects.unprocessed().count() == 3
        assert mail.outbox == []
        later = timezone.now() + timedelta(seconds=30)
        assert signup.sweep_requests(now=later) == 0  # still down: nothing queued, nothing lost

        own_redis.start()
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
            # Beat's next sweep, a little later.
            assert signup.sweep_requests(now=later) == 3
            wait_for(lambda: len(mail.outbox) == 3, timeout=15)
            assert Subscription.objects.filter(status="pending").count() == 3
            assert signup.sweep_requests(now=later) == 0
            assert outbox.sweep(now=later) == 0
            time.sleep(0.5)
        assert sorted(m.to[0] for m in mail.outbox) == [f"r{n}@example.org" for n in range(3)]
        assert OutboundEmail.objects.filter(status="sent").count() == 3
    finally:
        app.conf.task_always_eager = True


def test_readers_own_changes_are_kept_while_redis_is_down(
    client, welcomed, settings, own_redis, broker_at
):
    subscriber, message = welcomed
    broker_at(own_redis.url)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    app.conf.task_always_eager = False
    try:
        preferences = link_in(message.body, "/newsletters/preferences/")
        started = time.monotonic()
        saved = client.post(preferences, {"newsletters": ["daily-briefing", "weekly-explainer"]})
        asked = client.post("/newsletters/preferences/", {"email": "reader@example.org"})
        left = client.post(link_in(message.body, "/newsletters/unsubscribe/"))
        assert (saved.status_code, asked.status_code, left.status_code) == (200, 302, 200)
        assert time.monotonic() - started < 6
        statuses = dict(subscriber.subscriptions.values_list("newsletter__slug", "status"))
        assert statuses == {
            "daily-briefing": "unsubscribed",
            "editors-picks": "unsubscribed",
            "weekly-explainer": "pending",
        }
        waiting = OutboundEmail.objects.filter(status="pending")
        assert sorted(waiting.values_list("kind", flat=True)) == [
            "confirmation",
            "preferences_link",
        ]  # for the sweep to send once Redis is back
    finally:
        app.conf.task_always_eager = True
