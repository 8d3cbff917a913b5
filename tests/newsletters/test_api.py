import json

import pytest

from newsletters.models import OutboundEmail, Subscriber, Subscription

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/subscriptions"


def post_json(client, payload, **headers):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(URL, body, content_type="application/json", **headers)


def test_a_json_signup_is_accepted_with_a_message(client, newsletters):
    response = post_json(client, {"email": "reader@example.org", "newsletters": ["daily-briefing"]})
    assert response.status_code == 202
    assert response.json()["message"].startswith("Almost there")
    assert Subscription.objects.get().status == "pending"
    event = Subscriber.objects.get().consent_events.get()
    assert event.source == "api"


def test_a_form_encoded_signup_is_accepted(client, newsletters):
    response = client.post(
        URL,
        {"email": "reader@example.org", "newsletters": ["daily-briefing", "editors-picks"]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 202
    assert Subscription.objects.count() == 2


def test_a_single_slug_may_be_given_as_a_string(client, newsletters):
    response = post_json(client, {"email": "reader@example.org", "newsletters": "editors-picks"})
    assert response.status_code == 202


def test_a_plain_html_form_from_the_newsroom_site_lands_on_the_almost_there_page(
    client, newsletters, settings
):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = client.post(
        URL,
        {"email": "reader@example.org", "newsletters": "daily-briefing"},
        HTTP_ACCEPT="text/html,application/xhtml+xml",
        HTTP_ORIGIN="https://news.example.org",
    )
    assert response.status_code == 303
    assert response["Location"] == "http://testserver/newsletters/almost-there/"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"email": "nope", "newsletters": ["daily-briefing"]}, "email", "valid email address"),
        ({"email": "x" * 5000, "newsletters": ["daily-briefing"]}, "email", "254 characters"),
        ({"email": 42, "newsletters": ["daily-briefing"]}, "email", "valid email address"),
        ({"email": "reader@example.org"}, "newsletters", "at least one"),
        ({"email": "reader@example.org", "newsletters": []}, "newsletters", "at least one"),
        ({"email": "reader@example.org", "newsletters": ["zzz"]}, "newsletters", "zzz"),
        ({"email": "reader@example.org", "newsletters": [1, 2]}, "newsletters", "list of their"),
        (
            {"email": "reader@example.org", "newsletters": [f"x{n}" for n in range(31)]},
            "newsletters",
            "fewer",
        ),
        (
            {"email": "reader@example.org", "newsletters": ["daily-briefing"], "website": "spam"},
            "website",
            "automated",
        ),
    ],
)
def test_bad_fields_get_400_with_field_errors_and_change_nothing(
    client, newsletters, payload, field, message
):
    response = post_json(client, payload)
    assert response.status_code == 400
    body = response.json()
    assert message in " ".join(body["errors"][field])
    assert Subscriber.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("{not json", "application/json", "not valid JSON"),
        ("[1, 2]", "application/json", "JSON object"),
        ("email=x", "text/plain", "JSON or a form"),
        (
            json.dumps({"email": "a@example.org", "pad": "x" * 20_000}),
            "application/json",
            "too large",
        ),
    ],
)
def test_malformed_bodies_get_400_and_change_nothing(
    client, newsletters, body, content_type, message
):
    response = client.post(URL, body, content_type=content_type)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert Subscriber.objects.count() == 0


def test_only_post_is_allowed(client):
    assert client.get(URL).status_code == 405


def test_posts_from_a_configured_origin_are_accepted_with_cors_headers(
    client, newsletters, settings
):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    settings.CORS_ALLOWED_ORIGINS = settings.EMBED_ALLOWED_ORIGINS
    response = post_json(
        client,
        {"email": "reader@example.org", "newsletters": ["daily-briefing"]},
        HTTP_ORIGIN="https://news.example.org",
    )
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == "https://news.example.org"


def test_the_cors_preflight_is_answered_for_a_configured_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = client.options(
        URL,
        HTTP_ORIGIN="https://news.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://news.example.org"


def test_posts_from_any_other_origin_are_refused_and_change_nothing(client, newsletters, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = post_json(
        client,
        {"email": "reader@example.org", "newsletters": ["daily-briefing"]},
        HTTP_ORIGIN="https://evil.example.com",
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert Subscriber.objects.count() == 0


def test_rate_limits_answer_429_per_ip(client, newsletters, settings):
    settings.SIGNUP_RATE_PER_IP = "2/m"
    for n in range(2):
        post_json(client, {"email": f"r{n}@example.org", "newsletters": ["daily-briefing"]})
    response = post_json(client, {"email": "r3@example.org", "newsletters": ["daily-briefing"]})
    assert response.status_code == 429
    assert "Too many attempts" in response.json()["message"]
    assert not Subscriber.objects.filter(email="r3@example.org").exists()


def test_rate_limits_answer_429_per_address_across_the_form_and_the_api(
    client, newsletters, settings
):
    settings.SIGNUP_RATE_PER_ADDRESS = "2/h"
    client.post("/newsletters/", {"email": "one@example.org", "newsletters": "daily-briefing"})
    post_json(client, {"email": "one@example.org", "newsletters": ["daily-briefing"]})
    response = post_json(client, {"email": "One@Example.org", "newsletters": ["editors-picks"]})
    assert response.status_code == 429
    assert OutboundEmail.objects.count() == 1


def test_a_limit_that_cannot_be_checked_lets_the_signup_through(client, newsletters, monkeypatch):
    from newsletters import ratelimits

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(ratelimits, "_hit", unreachable)
    response = post_json(client, {"email": "reader@example.org", "newsletters": ["daily-briefing"]})
    assert response.status_code == 202
    assert Subscriber.objects.count() == 1
