"""The same address submitted at once from several threads, on PostgreSQL."""

import threading

import pytest
from django.db import connection
from django.test import Client

from newsletters.models import OutboundEmail, Subscriber, Subscription

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_signups_for_one_address_make_one_subscriber_and_one_email(
    newsletters, settings
):
    settings.SIGNUP_RATE_PER_ADDRESS = "100/h"
    threads = 8
    barrier = threading.Barrier(threads)
    statuses: list[int] = []

    def submit(n: int) -> None:
        client = Client()
        try:
            barrier.wait()
            response = client.post(
                "/newsletters/",
                {
                    "email": "Same@Example.org" if n % 2 else "same@example.org",
                    "newsletters": ["daily-briefing", "editors-picks"],
                },
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=submit, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert statuses == [302] * threads
    assert Subscriber.objects.count() == 1
    assert Subscription.objects.count() == 2
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1
