from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from newsletters.links import UnsubscribeLink, links_for
from newsletters.models import ConsentEvent, OutboundEmail, Subscriber
from newsletters.tokens import make_token
from tests.conftest import link_in
from tests.newsletters.conftest import statuses

pytestmark = pytest.mark.django_db

BOTH_ACTIVE = {"daily-briefing": "active", "editors-picks": "active"}


def unsubscribe_path(message):
    return link_in(message.body, "/newsletters/unsubscribe/").removeprefix("http://testserver")


def test_the_welcome_email_carries_one_click_headers_and_footer_links(welcomed):
    _, message = welcomed
    url = link_in(message.body, "/newsletters/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = unescape(message.alternatives[0][0])
    assert url in html
    preferences = link_in(message.body, "/newsletters/preferences/")
    assert preferences in html
    email = OutboundEmail.objects.get(kind="welcome")
    assert email.is_list_email
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_headers_add_a_mailto_when_one_is_configured(welcomed, settings, newsletters):
    settings.UNSUBSCRIBE_MAILTO = "leave@news.example.org"
    subscriber, _ = welcomed
    links = links_for(subscriber, [newsletters["daily-briefing"]])
    https, mailto = links.headers["List-Unsubscribe"].split(", ")
    assert https == f"<{links.unsubscribe_url}>"
    assert mailto.startswith("<mailto:leave@news.example.org?subject=unsubscribe%20")
    assert links.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_one_click_post_without_cookie_or_csrf_token_unsubscribes_at_once(welcomed):
    subscriber, message = welcomed
    mail_client = Client(enforce_csrf_checks=True)  # a mail provider's server: no cookies
    response = mail_client.post(
        unsubscribe_path(message),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        HTTP_USER_AGENT="Mail provider",
    )
    assert response.status_code == 200
    assert not response.cookies
    assert "You're unsubscribed" in unescape(response.content.decode())
    assert set(statuses(subscriber).values()) == {"unsubscribed"}
    events = ConsentEvent.objects.filter(action="unsubscribed")
    assert events.count() == 2
    assert {e.source_detail for e in events} == {"one-click unsubscribe from the mail client"}
    assert {e.user_agent for e in events} == {"Mail provider"}


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_unsubscribe_link_shows_a_button_and_changes_nothing(client, welcomed, method):
    subscriber, message = welcomed
    response = getattr(client, method)(unsubscribe_path(message))
    assert response.status_code == 200
    if method == "get":
        html = unescape(response.content.decode())
        assert "The Daily Briefing" in html and "Editors' Picks" in html
        assert '<button type="submit">Unsubscribe</button>' in html
    assert statuses(subscriber) == BOTH_ACTIVE
    assert ConsentEvent.objects.count() == 0


def test_the_button_on_the_landing_page_unsubscribes(client, welcomed):
    subscriber, message = welcomed
    response = client.post(unsubscribe_path(message))
    assert response.status_code == 200
    assert set(statuses(subscriber).values()) == {"unsubscribed"}
    assert {e.source_detail for e in ConsentEvent.objects.all()} == {"unsubscribe page"}


def test_unsubscribing_twice_is_harmless(client, welcomed):
    _, message = welcomed
    client.post(unsubscribe_path(message))
    assert client.post(unsubscribe_path(message)).status_code == 200
    assert ConsentEvent.objects.filter(action="unsubscribed").count() == 2  # one per list


def test_a_link_about_one_list_leaves_only_that_list(client, welcomed, newsletters):
    subscriber, _ = welcomed
    link = UnsubscribeLink(subscriber.pk, (newsletters["editors-picks"].pk,))
    client.post(link.url().removeprefix("http://testserver"))
    assert statuses(subscriber) == {"daily-briefing": "active", "editors-picks": "unsubscribed"}


@pytest.mark.parametrize("mangle", ["truncate", "tamper", "wrong-purpose", "garbage"])
def test_a_broken_unsubscribe_link_is_refused_and_changes_nothing(client, welcomed, mangle):
    subscriber, message = welcomed
    token = unsubscribe_path(message).split("/")[3]
    bad = {
        "truncate": token[:-4],
        "tamper": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "wrong-purpose": make_token("preferences", {"s": subscriber.pk, "n": [1, 2]}),
        "garbage": "%3Cscript%3E",
    }[mangle]
    for method in (client.get, client.post):
        response = method(f"/newsletters/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "This link doesn't work" in unescape(response.content.decode())
    assert statuses(subscriber) == BOTH_ACTIVE
    assert ConsentEvent.objects.count() == 0


def test_an_unsubscribe_link_still_works_years_later(client, welcomed):
    subscriber, message = welcomed
    with time_machine.travel(timezone.now() + timedelta(days=5 * 365)):
        response = client.post(unsubscribe_path(message))
    assert response.status_code == 200
    assert set(statuses(subscriber).values()) == {"unsubscribed"}


def test_an_unsubscribe_link_for_an_erased_reader_gets_the_same_answer(client, welcomed):
    _, message = welcomed
    Subscriber.objects.all().delete()
    response = client.post(unsubscribe_path(message))
    assert response.status_code == 200
    assert "You're unsubscribed" in unescape(response.content.decode())
