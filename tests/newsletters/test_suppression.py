import pytest
from django.core import mail

from newsletters import suppression
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Subscriber, Subscription, Suppression
from newsletters.unsubscribe import unsubscribe, unsubscribe_all
from tests.conftest import link_in

pytestmark = pytest.mark.django_db(transaction=True)

ESP = Provenance(source="esp", detail="postmark")


@pytest.fixture
def active_reader(newsletters):
    subscriber = Subscriber.objects.create(email="Reader@example.org")
    for slug in ["daily-briefing", "editors-picks"]:
        Subscription.objects.create(
            subscriber=subscriber, newsletter=newsletters[slug], status="active"
        )
    return subscriber


def test_suppressing_an_address_records_why_on_each_list_once(active_reader):
    assert suppression.suppress("reader@EXAMPLE.org", Suppression.Reason.BOUNCED, ESP)
    assert not suppression.suppress("reader@example.org", Suppression.Reason.BOUNCED, ESP)
    assert suppression.is_suppressed("READER@example.org")
    events = ConsentEvent.objects.filter(action="bounced")
    assert events.count() == 2
    assert {e.source for e in events} == {"esp"}


def test_the_suppression_list_holds_no_address_in_clear(active_reader):
    suppression.suppress("reader@example.org", Suppression.Reason.COMPLAINED, ESP)
    row = Suppression.objects.get()
    assert "reader" not in row.address_hash and len(row.address_hash) == 64


def test_confirming_afresh_lifts_a_suppression(
    client, newsletters, django_capture_on_commit_callbacks
):
    suppression.suppress("reader@example.org", Suppression.Reason.BOUNCED, ESP)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"}
        )
    client.post(link_in(mail.outbox[0].body, "/newsletters/confirm/"))
    assert not suppression.is_suppressed("reader@example.org")


def test_unsubscribing_is_recorded_and_repeating_it_changes_nothing(active_reader, newsletters):
    left = unsubscribe(active_reader, [newsletters["daily-briefing"]], Provenance(source="form"))
    assert [n.slug for n in left] == ["daily-briefing"]
    assert (
        unsubscribe(active_reader, [newsletters["daily-briefing"]], Provenance(source="form")) == []
    )
    statuses = dict(active_reader.subscriptions.values_list("newsletter__slug", "status"))
    assert statuses == {"daily-briefing": "unsubscribed", "editors-picks": "active"}
    sub = active_reader.subscriptions.get(newsletter__slug="daily-briefing")
    assert sub.unsubscribed_at is not None
    assert ConsentEvent.objects.filter(action="unsubscribed").count() == 1


def test_leaving_all_lists(active_reader):
    left = unsubscribe_all(active_reader, Provenance(source="email_link"))
    assert len(left) == 2
    assert set(active_reader.subscriptions.values_list("status", flat=True)) == {"unsubscribed"}
