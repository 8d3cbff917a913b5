import pytest

from newsletters.models import Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/newsletters/embed/"


def test_the_embed_may_be_framed_by_the_configured_origins_only(client, newsletters, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = client.get(URL)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors 'self' https://news.example.org" in response["Content-Security-Policy"]


def test_the_embed_never_ticks_a_list_for_the_reader(client, newsletters):
    html = client.get(URL).content.decode()
    assert "checked" not in html


def test_an_embed_for_one_list_names_it_instead_of_a_checkbox(client, newsletters):
    html = client.get(URL + "?newsletters=weekly-explainer").content.decode()
    assert 'type="checkbox"' not in html
    assert "The Weekly Explainer" in html
    assert 'type="hidden" name="newsletters" value="weekly-explainer"' in html


def test_a_signup_in_the_embed_answers_inside_the_frame(client, newsletters):
    response = client.post(
        URL + "?newsletters=weekly-explainer",
        {"email": "reader@example.org", "newsletters": "weekly-explainer"},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 200
    assert "Almost there" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.subscriptions.get().newsletter.slug == "weekly-explainer"
    # The reader saw one list named, not boxes to tick, and the ledger keeps that wording.
    assert subscriber.consent_events.get().wording_version == "signup-one-2026-11"


def test_the_embed_refuses_lists_outside_its_narrowed_set(client, newsletters):
    response = client.post(
        URL + "?newsletters=weekly-explainer",
        {"email": "reader@example.org", "newsletters": "daily-briefing"},
    )
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0


def test_a_post_forged_from_another_site_is_refused(client, newsletters):
    response = client.post(
        URL,
        {"email": "reader@example.org", "newsletters": "daily-briefing"},
        HTTP_ORIGIN="https://evil.example.com",
    )
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0
