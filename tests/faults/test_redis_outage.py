"""Redis stopped in the middle of 1,000 signups: every signup is kept, and every confirmation
email is sent exactly once after Redis returns."""

from collections import Counter
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client
from django.utils import timezone

from config.celery import app
from newsletters import outbox, ratelimits, signup
from newsletters.models import SignupRequest, Subscriber
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SIGNUPS = 1000


def test_a_redis_outage_during_a_thousand_signups_loses_and_repeats_nothing(
    newsletters, settings, own_redis, broker_at, monkeypatch
):
    own_redis.start()
    broker_at(own_redis.url)
    # Rate limits live on the same Redis, as in production.
    settings.REDIS_URL = own_redis.url
    settings.SIGNUP_RATE_PER_IP = "100000/h"
    ratelimits._redis.cache_clear()
    app.conf.task_always_eager = False
    client = Client()
    statuses = Counter()
    try:
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
            for n in range(SIGNUPS):
                if n == 300:
                    own_redis.stop()
                if n == 700:
                    own_redis.start()  # empty: whatever was queued in it is gone
                response = client.post(
                    "/newsletters/",
                    {"email": f"reader{n}@example.org", "newsletters": ["daily-briefing"]},
                )
                statuses[response.status_code] += 1
        assert statuses == {302: SIGNUPS}

        # The worker may not survive the outage (Celery's consumer can die on a broker that
        # vanished mid-ack); in production its supervisor starts it again, as here.
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
            # Beat sweeps a little later, until nothing is left waiting.
            def settled():
                later = timezone.now() + timedelta(minutes=1)
                signup.sweep_requests(now=later)
                outbox.sweep(now=later)
                return len(mail.outbox) >= SIGNUPS and not SignupRequest.objects.unprocessed()

            wait_for(settled, timeout=240, interval=1.0)
    finally:
        app.conf.task_always_eager = True
        ratelimits._redis.cache_clear()

    assert Subscriber.objects.count() == SIGNUPS
    recipients = Counter(message.to[0] for message in mail.outbox)
    assert len(recipients) == SIGNUPS
    assert set(recipients.values()) == {1}  # each confirmation exactly once
