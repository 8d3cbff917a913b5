"""The same address submitted at once from several threads, on PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction
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


def test_leaving_a_list_locks_only_the_readers_own_rows(newsletters):
    """Readers leaving lists at once must not queue on (or deadlock over) the list's own row.

    Locking the newsletter row with the subscription let two readers, each leaving one list
    and joining another, deadlock at commit on the foreign-key checks of their new rows.
    """
    import psycopg
    from django.conf import settings as django_settings

    from newsletters.consent import Provenance
    from newsletters.models import ConsentEvent
    from newsletters.unsubscribe import unsubscribe

    daily = newsletters["daily-briefing"]
    subscriber = Subscriber.objects.create(email="reader@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=daily, status="active")
    db = django_settings.DATABASES["default"]
    with transaction.atomic():
        left = unsubscribe(subscriber, [daily], Provenance(source=ConsentEvent.Source.EMAIL_LINK))
        assert left == [daily]
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
        ) as other:
            # Another reader's transaction may still lock the list row, without waiting.
            other.execute(
                "SELECT id FROM newsletters_newsletter WHERE id = %s FOR UPDATE NOWAIT", [daily.pk]
            )
    assert Subscription.objects.get().status == "unsubscribed"
