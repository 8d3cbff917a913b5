"""Bounces, complaints and unsubscribes posted by Postmark and Mailgun through anymail's views."""

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from django.core import mail

from newsletters import emails, suppression
from newsletters.models import ConsentEvent, OutboundEmail, Subscriber, Suppression
from tests.conftest import link_in
from tests.newsletters import esp_payloads as esp
from tests.newsletters.conftest import statuses

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ADDRESS = "reader@example.org"  # the reader signed up as Reader@example.org


@pytest.fixture(autouse=True)
def webhook_auth(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": esp.WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": esp.MAILGUN_SIGNING_KEY,
    }


@pytest.fixture
def reader(welcomed):
    return welcomed[0]


def nothing_happened(reader):
    return (
        not Suppression.objects.exists()
        and not ConsentEvent.objects.exists()
        and set(statuses(reader).values()) == {"active"}
        and Subscriber.objects.get().soft_bounces == 0
    )


HARD_BOUNCES = {
    "postmark": lambda c: esp.postmark(c, esp.postmark_bounce(ADDRESS, AT)),
    "mailgun": lambda c: esp.mailgun(c, esp.mailgun_signed(esp.mailgun_failure(ADDRESS, AT))),
}
COMPLAINTS = {
    "postmark": lambda c: esp.postmark(c, esp.postmark_complaint(ADDRESS, AT)),
    "mailgun": lambda c: esp.mailgun(
        c, esp.mailgun_signed(esp.mailgun_event("complained", ADDRESS, AT))
    ),
}
UNSUBSCRIBES = {
    "postmark": lambda c: esp.postmark(c, esp.postmark_unsubscribe(ADDRESS, AT)),
    "mailgun": lambda c: esp.mailgun(
        c, esp.mailgun_signed(esp.mailgun_event("unsubscribed", ADDRESS, AT))
    ),
}


@pytest.mark.parametrize("provider", HARD_BOUNCES)
def test_a_hard_bounce_suppresses_the_address_on_every_list_and_the_ledger_says_why(
    client, reader, provider
):
    response = HARD_BOUNCES[provider](client)
    assert response.status_code == 200
    assert suppression.is_suppressed(ADDRESS)
    assert Suppression.objects.get().reason == "bounced"
    events = ConsentEvent.objects.filter(action="bounced")
    assert sorted(e.newsletter.slug for e in events) == ["daily-briefing", "editors-picks"]
    assert {e.source for e in events} == {"esp"}
    (detail,) = {e.source_detail for e in events}
    assert detail.startswith(f"{provider.capitalize()} bounced")
    assert "does not exist" in detail or "unable to deliver" in detail


@pytest.mark.parametrize("provider", COMPLAINTS)
def test_a_complaint_suppresses_the_address_on_every_list(client, reader, provider):
    assert COMPLAINTS[provider](client).status_code == 200
    assert Suppression.objects.get().reason == "complained"
    assert ConsentEvent.objects.filter(action="complained").count() == 2


def test_after_a_bounce_list_email_stops_but_a_fresh_confirmation_still_goes_and_lifts_it(
    client, reader, newsletters, django_capture_on_commit_callbacks
):
    HARD_BOUNCES["postmark"](client)
    with django_capture_on_commit_callbacks(execute=True):
        welcome = emails.welcome(reader, [newsletters["daily-briefing"]])
    assert OutboundEmail.objects.get(pk=welcome.pk).status == "cancelled"
    assert mail.outbox == []
    # Signing up again for a list they are still on asks them to confirm afresh.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletters/", {"email": ADDRESS, "newsletters": "daily-briefing"})
    (confirmation,) = mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(confirmation.body, "/newsletters/confirm/"))
    assert not suppression.is_suppressed(ADDRESS)
    assert [m.subject for m in mail.outbox] == [
        "Confirm your subscription",
        "Welcome to The Ledger",
    ]


def test_a_run_of_soft_bounces_suppresses_and_a_delivery_in_between_breaks_it(
    client, reader, settings
):
    settings.SOFT_BOUNCE_LIMIT = 3
    for minutes in (1, 2):
        esp.postmark(
            client, esp.postmark_bounce(ADDRESS, AT + timedelta(minutes=minutes), "SoftBounce")
        )
    assert Subscriber.objects.get().soft_bounces == 2
    esp.postmark(client, esp.postmark_delivery(ADDRESS, AT + timedelta(minutes=3)))
    assert Subscriber.objects.get().soft_bounces == 0
    for minutes in (4, 5):
        esp.postmark(
            client, esp.postmark_bounce(ADDRESS, AT + timedelta(minutes=minutes), "SoftBounce")
        )
    assert not suppression.is_suppressed(ADDRESS)
    esp.mailgun(
        client,
        esp.mailgun_signed(esp.mailgun_failure(ADDRESS, AT + timedelta(minutes=6), reason="old")),
    )
    row = Suppression.objects.get()
    assert row.reason == "soft_bounces"
    assert row.detail.startswith("3 soft bounces in a row")
    assert ConsentEvent.objects.filter(action="bounced").count() == 2
    assert Subscriber.objects.get().soft_bounces == 0  # a reader who comes back starts afresh


def test_a_webhook_the_esp_repeats_is_counted_once(client, reader):
    payload = esp.postmark_bounce(ADDRESS, AT, "SoftBounce")
    for _ in range(3):
        assert esp.postmark(client, payload).status_code == 200
    assert Subscriber.objects.get().soft_bounces == 1
    assert not suppression.is_suppressed(ADDRESS)


def test_a_delivery_reported_late_does_not_break_a_newer_run(client, reader):
    esp.postmark(client, esp.postmark_bounce(ADDRESS, AT, "SoftBounce"))
    esp.postmark(client, esp.postmark_delivery(ADDRESS, AT - timedelta(hours=1)))
    assert Subscriber.objects.get().soft_bounces == 1


def test_deliveries_the_esp_is_still_retrying_are_not_bounces(client, reader):
    for minutes in range(5):
        at = AT + timedelta(minutes=minutes)
        payload = esp.mailgun_failure(ADDRESS, at, severity="temporary", reason="generic")
        assert esp.mailgun(client, esp.mailgun_signed(payload)).status_code == 200
    assert nothing_happened(reader)


@pytest.mark.parametrize("provider", UNSUBSCRIBES)
def test_the_esps_unsubscribed_event_unsubscribes_from_every_list(client, reader, provider):
    assert UNSUBSCRIBES[provider](client).status_code == 200
    assert set(statuses(reader).values()) == {"unsubscribed"}
    events = ConsentEvent.objects.filter(action="unsubscribed")
    assert events.count() == 2
    assert {e.source for e in events} == {"esp"}
    assert not suppression.is_suppressed(ADDRESS)  # they may come back by double opt-in


@pytest.mark.parametrize(
    "send",
    [
        lambda c: esp.postmark(c, esp.postmark_open(ADDRESS, AT)),
        lambda c: esp.postmark(c, {"RecordType": "SomethingNew", "Recipient": ADDRESS}),
        lambda c: esp.mailgun(c, esp.mailgun_signed(esp.mailgun_event("opened", ADDRESS, AT))),
        lambda c: esp.mailgun(c, esp.mailgun_signed(esp.mailgun_event("clicked", ADDRESS, AT))),
        lambda c: esp.mailgun(c, esp.mailgun_signed(esp.mailgun_event("new-kind", ADDRESS, AT))),
    ],
    ids=["postmark-open", "postmark-unknown", "mailgun-open", "mailgun-click", "mailgun-unknown"],
)
def test_other_and_unknown_events_are_acknowledged_and_change_nothing(client, reader, send):
    assert send(client).status_code == 200
    assert nothing_happened(reader)


FORGED = {
    "postmark without credentials": lambda c: esp.postmark(
        c, esp.postmark_bounce(ADDRESS, AT), auth={}
    ),
    "postmark with wrong credentials": lambda c: esp.postmark(
        c, esp.postmark_bounce(ADDRESS, AT), auth=esp.basic_auth("esp-webhooks:guess")
    ),
    "mailgun signed with another key": lambda c: esp.mailgun(
        c, esp.mailgun_signed(esp.mailgun_failure(ADDRESS, AT), key="key-not-ours")
    ),
    "mailgun without a signature": lambda c: esp.mailgun(
        c, {"event-data": esp.mailgun_failure(ADDRESS, AT)}
    ),
    "mailgun signed but without credentials": lambda c: esp.mailgun(
        c, esp.mailgun_signed(esp.mailgun_failure(ADDRESS, AT)), auth={}
    ),
}


@pytest.mark.parametrize("forge", FORGED)
def test_forged_webhooks_are_refused_and_change_nothing(client, reader, forge):
    response = FORGED[forge](client)
    assert response.status_code == 400
    assert nothing_happened(reader)


def test_a_bounce_for_an_address_we_hold_nothing_on_still_suppresses_it(client, db):
    esp.postmark(client, esp.postmark_bounce("stranger@example.org", AT))
    assert suppression.is_suppressed("stranger@example.org")
    assert not Subscriber.objects.exists()


def test_mail_to_the_list_unsubscribe_mailto_unsubscribes(
    client, newsletters, settings, django_capture_on_commit_callbacks
):
    settings.UNSUBSCRIBE_MAILTO = "leave@news.example.org"
    reader = Subscriber.objects.create(email="Reader@example.org")
    reader.subscriptions.create(newsletter=newsletters["daily-briefing"], status="active")
    reader.subscriptions.create(newsletter=newsletters["editors-picks"], status="active")
    with django_capture_on_commit_callbacks(execute=True):
        emails.welcome(reader, [newsletters["editors-picks"]])
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    subject = unquote(header.split("subject=")[1].rstrip(">"))
    inbound = "/anymail/postmark/inbound/"
    garbage = esp.postmark_inbound("leave@news.example.org", "unsubscribe not-a-token")
    assert esp.post_json(client, inbound, garbage, esp.basic_auth()).status_code == 200
    assert statuses(reader)["editors-picks"] == "active"
    message = esp.postmark_inbound("leave@news.example.org", subject)
    assert esp.post_json(client, inbound, message, {}).status_code == 400  # forged
    assert esp.post_json(client, inbound, message, esp.basic_auth()).status_code == 200
    assert statuses(reader) == {"daily-briefing": "active", "editors-picks": "unsubscribed"}
    (event,) = ConsentEvent.objects.filter(action="unsubscribed")
    assert event.source_detail == "Postmark: unsubscribe by email to leave@news.example.org"
