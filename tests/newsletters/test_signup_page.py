from html import unescape

import pytest
from django.core import mail
from django.urls import reverse

from newsletters.models import ConsentEvent, OutboundEmail, Subscriber, Subscription

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/newsletters/"


def post(client, **data):
    return client.post(
        URL, data, HTTP_USER_AGENT="Test browser", HTTP_REFERER="https://news.example/a"
    )


def nothing_changed():
    return (
        Subscriber.objects.count() == 0
        and Subscription.objects.count() == 0
        and ConsentEvent.objects.count() == 0
        and OutboundEmail.objects.count() == 0
    )


def test_the_site_root_leads_to_the_newsletters(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == URL


def test_the_page_lists_public_newsletters_for_everyone_only(client, newsletters):
    newsletters["editors-picks"].is_public = False
    newsletters["editors-picks"].save()
    newsletters["weekly-explainer"].audience = "members"
    newsletters["weekly-explainer"].save()
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The Daily Briefing" in html
    assert "Editors' Picks" not in unescape(html)
    assert "The Weekly Explainer" not in html
    assert 'name="website"' in html  # the honeypot


def test_signing_up_for_two_lists_makes_them_pending_and_queues_one_confirmation(
    client, newsletters, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, email=" Reader@Example.ORG ", newsletters=["daily-briefing", "editors-picks"]
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("newsletters:almost_there")
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Reader@example.org"
    assert sorted(subscriber.subscriptions.values_list("newsletter__slug", "status")) == [
        ("daily-briefing", "pending"),
        ("editors-picks", "pending"),
    ]
    events = list(subscriber.consent_events.all())
    assert [e.action for e in events] == ["requested", "requested"]
    assert events[0].source == "form"
    assert events[0].source_detail == "https://news.example/a"
    assert events[0].ip == "127.0.0.1"
    assert events[0].user_agent == "Test browser"
    assert events[0].wording.startswith("Send me the newsletters I ticked")
    assert events[0].wording_version
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Reader@example.org"]
    assert "The Daily Briefing" in message.body and "Editors' Picks" in message.body
    assert OutboundEmail.objects.get().status == "sent"


def test_the_almost_there_page_says_so(client):
    response = client.get(reverse("newsletters:almost_there"))
    assert "Almost there: we've sent you a confirmation email" in unescape(
        response.content.decode()
    )


@pytest.mark.parametrize("state", ["new", "pending", "active", "unsubscribed"])
def test_the_answer_is_the_same_whatever_the_address_state(client, newsletters, state):
    if state != "new":
        subscriber = Subscriber.objects.create(email="known@example.org")
        Subscription.objects.create(
            subscriber=subscriber, newsletter=newsletters["daily-briefing"], status=state
        )
    response = post(client, email="known@example.org", newsletters=["daily-briefing"])
    assert response.status_code == 302
    assert response["Location"] == reverse("newsletters:almost_there")


def test_an_active_list_stays_active_and_gets_no_confirmation(client, newsletters):
    subscriber = Subscriber.objects.create(email="known@example.org")
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletters["daily-briefing"], status="active"
    )
    post(client, email="KNOWN@example.org", newsletters=["daily-briefing"])
    assert Subscriber.objects.count() == 1
    assert Subscription.objects.get().status == "active"
    assert OutboundEmail.objects.count() == 0


def test_an_unsubscribed_list_stays_unsubscribed_until_confirmed(client, newsletters):
    subscriber = Subscriber.objects.create(email="left@example.org")
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletters["daily-briefing"], status="unsubscribed"
    )
    post(client, email="left@example.org", newsletters=["daily-briefing"])
    assert Subscription.objects.get().status == "unsubscribed"
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1


def test_repeat_signups_send_a_few_confirmations_a_day_at_most(client, newsletters, settings):
    settings.CONFIRMATION_RESEND_AFTER_MINUTES = 0
    settings.SIGNUP_RATE_PER_ADDRESS = "100/h"
    for _ in range(10):
        post(client, email="victim@example.org", newsletters=["daily-briefing"])
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 3


def test_a_repeat_signup_soon_after_sends_no_second_email_for_the_same_lists(client, newsletters):
    post(client, email="twice@example.org", newsletters=["daily-briefing"])
    post(client, email="twice@example.org", newsletters=["daily-briefing"])
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1
    post(client, email="twice@example.org", newsletters=["daily-briefing", "editors-picks"])
    emails = OutboundEmail.objects.filter(kind="confirmation").order_by("pk")
    assert emails.count() == 2
    assert "Editors' Picks" in emails[1].text_body


def test_the_confirmation_never_echoes_what_the_submitter_typed(client, newsletters):
    post(client, email="reader@example.org", newsletters=["daily-briefing"], name="Buy pills")
    email = OutboundEmail.objects.get()
    assert "Buy pills" not in email.text_body + email.html_body + email.subject


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-address", "newsletters": ["daily-briefing"]}, "valid email address"),
        (
            {"email": "a" * 300 + "@example.org", "newsletters": ["daily-briefing"]},
            "254 characters",
        ),
        ({"email": "", "newsletters": ["daily-briefing"]}, "enter your email address"),
        ({"email": "reader@example.org"}, "Choose at least one newsletter"),
        ({"email": "reader@example.org", "newsletters": ["no-such-list"]}, "no newsletter called"),
        (
            {
                "email": "reader@example.org",
                "newsletters": ["daily-briefing"],
                "website": "http://x",
            },
            "looks automated",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, newsletters, data, message):
    response = post(client, **data)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert nothing_changed()


def test_a_hidden_or_members_only_list_cannot_be_joined_from_the_form(client, newsletters):
    newsletters["editors-picks"].is_public = False
    newsletters["editors-picks"].save()
    newsletters["weekly-explainer"].audience = "members"
    newsletters["weekly-explainer"].save()
    for slug in ["editors-picks", "weekly-explainer"]:
        response = post(client, email="reader@example.org", newsletters=[slug])
        assert response.status_code == 400
    assert nothing_changed()


def test_too_many_tries_for_one_address_are_refused(client, newsletters, settings):
    settings.SIGNUP_RATE_PER_ADDRESS = "3/h"
    for _ in range(3):
        assert (
            post(client, email="one@example.org", newsletters=["daily-briefing"]).status_code == 302
        )
    response = post(client, email="ONE@example.org", newsletters=["editors-picks"])
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not Subscription.objects.filter(newsletter__slug="editors-picks").exists()


def test_too_many_tries_from_one_ip_are_refused(client, newsletters, settings):
    settings.SIGNUP_RATE_PER_IP = "3/h"
    for n in range(3):
        post(client, email=f"r{n}@example.org", newsletters=["daily-briefing"])
    response = post(client, email="r9@example.org", newsletters=["daily-briefing"])
    assert response.status_code == 429
    assert not Subscriber.objects.filter(email="r9@example.org").exists()


def test_a_form_without_its_csrf_token_is_refused_kindly(newsletters):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        URL, {"email": "reader@example.org", "newsletters": ["daily-briefing"]}
    )
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()
    assert nothing_changed()
