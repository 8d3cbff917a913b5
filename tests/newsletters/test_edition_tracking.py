"""Per-edition counts from the ESP's tracking webhooks (signed Mailgun posts through anymail)."""

from datetime import UTC, datetime

import pytest

from newsletters.models import Edition, EditionRecipient, Suppression
from tests.newsletters import esp_payloads as esp
from tests.newsletters.test_editions import make_readers, send

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def webhook_auth(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": esp.WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": esp.MAILGUN_SIGNING_KEY,
    }


@pytest.fixture
def sent(newsletters, django_capture_on_commit_callbacks):
    daily = newsletters["daily-briefing"]
    make_readers(daily, 3)
    edition = Edition.objects.create(newsletter=daily, subject="Monday", html_body="<p>Hi</p>")
    return send(edition, django_capture_on_commit_callbacks)


def post(client, sent, event, email, **fields):
    row = EditionRecipient.objects.get(edition=sent, email=email)
    variables = {"kind": "edition", "edition": str(sent.pk), "recipient": str(row.pk)}
    payload = esp.mailgun_event(event, email, AT, **{"user-variables": variables, **fields})
    response = esp.mailgun(client, esp.mailgun_signed(payload))
    assert response.status_code == 200
    return row


def counts(edition):
    edition.refresh_from_db()
    return {
        name: getattr(edition, name)
        for name in ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")
    }


def test_each_reader_is_counted_once_per_kind_of_event(client, sent):
    post(client, sent, "delivered", "reader0@example.org")
    post(client, sent, "delivered", "reader1@example.org")
    post(client, sent, "opened", "reader0@example.org")
    post(client, sent, "opened", "reader0@example.org")  # opened again: still one reader
    row = post(client, sent, "clicked", "reader1@example.org", url="https://news.example.org/")
    assert counts(sent) == {
        "delivered": 2,
        "opened": 2,  # a click counts as an open too
        "clicked": 1,
        "bounced": 0,
        "complained": 0,
        "unsubscribed": 0,
    }
    row.refresh_from_db()
    assert row.clicked_at == AT and row.opened_at == AT


def test_bounces_and_complaints_count_against_the_edition_and_suppress_the_address(client, sent):
    post(client, sent, "failed", "reader0@example.org", severity="permanent", reason="bounce")
    post(client, sent, "complained", "reader1@example.org")
    post(client, sent, "unsubscribed", "reader2@example.org")
    assert counts(sent) == {
        "delivered": 0,
        "opened": 0,
        "clicked": 0,
        "bounced": 1,
        "complained": 1,
        "unsubscribed": 1,
    }
    assert Suppression.objects.count() == 2


def test_events_without_edition_metadata_or_with_forged_ids_change_no_edition(client, sent):
    payload = esp.mailgun_event("opened", "reader0@example.org", AT)  # a welcome email's event
    assert esp.mailgun(client, esp.mailgun_signed(payload)).status_code == 200
    bad = {"kind": "edition", "edition": str(sent.pk), "recipient": "not-a-number"}
    payload = esp.mailgun_event("opened", "reader0@example.org", AT, **{"user-variables": bad})
    assert esp.mailgun(client, esp.mailgun_signed(payload)).status_code == 200
    assert set(counts(sent).values()) == {0}
