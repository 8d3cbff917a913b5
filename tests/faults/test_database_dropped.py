"""PostgreSQL connections dropped mid-request: a clean error page and no partial rows."""

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client

from newsletters import consent
from newsletters.models import ConsentEvent, OutboundEmail, Subscription
from tests.conftest import link_in

pytestmark = pytest.mark.django_db(transaction=True)


def drop_this_connection():
    """Kill the server side of Django's connection, as a failover or a restart would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_dropped_while_confirming_leaves_nothing_half_done(newsletters, monkeypatch):
    client = Client(raise_request_exception=False)
    client.post("/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"})
    confirm_url = link_in(mail.outbox[0].body, "/newsletters/confirm/")
    real_record = consent.record

    def record_after_the_connection_drops(*args, **kwargs):
        drop_this_connection()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(consent, "record", record_after_the_connection_drops)
    response = client.post(confirm_url)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # The subscription's update in the same transaction was rolled back with it.
    assert Subscription.objects.get().status == "pending"
    assert not ConsentEvent.objects.filter(action="confirmed").exists()
    assert not OutboundEmail.objects.filter(kind="welcome").exists()

    monkeypatch.setattr(consent, "record", real_record)
    assert client.post(confirm_url).status_code == 200  # a fresh connection, a clean retry
    assert Subscription.objects.get().status == "active"


def test_a_signup_on_a_connection_that_died_goes_through_on_a_fresh_one(newsletters, monkeypatch):
    """The signup skips Django's SELECT 1 health check: its INSERT finds the dead connection."""
    from newsletters import signup

    client = Client(raise_request_exception=False)
    real_record = signup.SignupRequest.objects.record
    dropped = []

    def record_after_the_connection_drops(**values):
        drop_this_connection()
        dropped.append(connection.connection)
        return real_record(**values)

    monkeypatch.setattr(signup.SignupRequest.objects, "record", record_after_the_connection_drops)
    response = client.post(
        "/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"}
    )
    assert response.status_code == 302
    assert connection.connection is not dropped[0]  # a new connection wrote it
    assert signup.SignupRequest.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1


def test_a_signup_whose_database_is_gone_fails_cleanly_and_writes_nothing(newsletters, monkeypatch):
    from django.db import OperationalError

    from newsletters import signup

    client = Client(raise_request_exception=False)
    real_record = signup.SignupRequest.objects.record

    def no_server(params):
        raise OperationalError("the server is gone")

    def record_with_no_database(**values):
        drop_this_connection()
        monkeypatch.setattr(connection, "get_new_connection", no_server)
        return real_record(**values)

    monkeypatch.setattr(signup.SignupRequest.objects, "record", record_with_no_database)
    response = client.post(
        "/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"}
    )
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    monkeypatch.undo()
    connection.close()
    assert signup.SignupRequest.objects.count() == 0
