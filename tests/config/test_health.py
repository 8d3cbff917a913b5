import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_healthz_answers_without_touching_the_database(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert len(queries) == 0


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_fails_when_the_broker_is_down(client, broker_at):
    broker_at("redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}


def test_every_response_carries_a_request_id(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"]) == 32
