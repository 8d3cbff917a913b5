from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from newsletters.models import ConsentEvent, OutboundEmail, Subscriber, Subscription
from newsletters.tokens import make_token
from tests.conftest import link_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def confirm_url(client, newsletters, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/newsletters/",
            {"email": "reader@example.org", "newsletters": ["daily-briefing", "editors-picks"]},
        )
    (message,) = mail.outbox
    mail.outbox.clear()
    return link_in(message.body, "/newsletters/confirm/").removeprefix("http://testserver")


def statuses():
    return sorted(Subscription.objects.values_list("status", flat=True))


def test_the_email_has_both_parts_and_the_same_link(client, newsletters, confirm_url):
    email = OutboundEmail.objects.get(kind="confirmation")
    assert email.subject == "Confirm your subscription"
    assert confirm_url in email.text_body
    assert confirm_url in unescape(email.html_body)
    assert "Editors' Picks" in unescape(email.html_body)


def test_opening_the_link_shows_a_button_and_changes_nothing(client, confirm_url):
    response = client.get(confirm_url)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "The Daily Briefing" in html and "Editors' Picks" in html
    assert '<button type="submit">' in html
    assert statuses() == ["pending", "pending"]
    assert OutboundEmail.objects.filter(kind="welcome").count() == 0


def test_confirming_activates_the_lists_and_sends_a_welcome(
    client, confirm_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url, HTTP_USER_AGENT="Phone")
    assert response.status_code == 200
    assert "You're subscribed" in unescape(response.content.decode())
    assert statuses() == ["active", "active"]
    confirmed = ConsentEvent.objects.filter(action="confirmed")
    assert confirmed.count() == 2
    assert confirmed.first().user_agent == "Phone"
    assert confirmed.first().wording_version.startswith("confirm-")
    (welcome,) = mail.outbox
    assert welcome.subject == "Welcome to The Ledger"
    assert "The Daily Briefing" in welcome.body
    assert welcome.alternatives[0][1] == "text/html"


def test_confirming_twice_is_harmless(client, confirm_url):
    client.post(confirm_url)
    response = client.post(confirm_url)
    assert response.status_code == 200
    assert "You're subscribed" in unescape(response.content.decode())
    assert statuses() == ["active", "active"]
    assert OutboundEmail.objects.filter(kind="welcome").count() == 1
    assert ConsentEvent.objects.filter(action="confirmed").count() == 2


def test_an_old_link_cannot_undo_a_later_unsubscribe(client, confirm_url):
    client.post(confirm_url)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        Subscription.objects.update(status="unsubscribed", unsubscribed_at=timezone.now())
        response = client.post(confirm_url)
    assert "Nothing to confirm" in response.content.decode()
    assert statuses() == ["unsubscribed", "unsubscribed"]


def test_an_expired_link_offers_a_fresh_email(
    client, confirm_url, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.get(confirm_url)
        assert response.status_code == 410
        html = unescape(response.content.decode())
        assert "This link has expired" in html
        assert "The Daily Briefing" in html
        assert client.post(confirm_url).status_code == 410
        assert statuses() == ["pending", "pending"]
        with django_capture_on_commit_callbacks(execute=True):
            renew = client.post(confirm_url + "renew/")
        assert renew.status_code == 302
        (fresh,) = mail.outbox
        fresh_url = link_in(fresh.body, "/newsletters/confirm/").removeprefix("http://testserver")
        assert fresh_url != confirm_url
        client.post(fresh_url)
    assert statuses() == ["active", "active"]


@pytest.mark.parametrize("mangle", ["truncate", "tamper", "wrong-purpose", "garbage"])
def test_a_broken_link_shows_a_clear_page_and_changes_nothing(client, confirm_url, mangle):
    token = confirm_url.split("/")[3]
    bad = {
        "truncate": token[:-4],
        "tamper": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "wrong-purpose": make_token("preferences", {"s": 1, "n": [1], "t": 0}),
        "garbage": "%3Cscript%3E",
    }[mangle]
    for method in (client.get, client.post):
        response = method(f"/newsletters/confirm/{bad}/")
        assert response.status_code == 400
        assert "This link doesn't work" in unescape(response.content.decode())
    assert statuses() == ["pending", "pending"]


def test_a_link_for_an_erased_subscriber_is_invalid(client, confirm_url):
    Subscriber.objects.all().delete()
    response = client.post(confirm_url)
    assert response.status_code == 400
