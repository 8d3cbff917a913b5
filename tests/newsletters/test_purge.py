import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from newsletters import purge
from newsletters.models import ConsentEvent, Subscriber, Subscription
from newsletters.tasks import purge_unconfirmed
from tests.conftest import link_in

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def sign_up(client, email, *slugs):
    client.post("/newsletters/", {"email": email, "newsletters": list(slugs)})


def test_beat_runs_the_purge_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-unconfirmed"]
    assert entry["task"] == purge_unconfirmed.name


def test_a_signup_never_confirmed_is_purged_after_thirty_days_and_the_ledger_says_so(
    client, newsletters
):
    with time_machine.travel(START, tick=False):
        sign_up(client, "reader@example.org", "daily-briefing", "editors-picks")
    with time_machine.travel(START + timedelta(days=30) - timedelta(seconds=1), tick=False):
        assert purge_unconfirmed.delay().get() == 0
    assert Subscription.objects.count() == 2
    with time_machine.travel(START + timedelta(days=30, seconds=1), tick=False):
        assert purge_unconfirmed.delay().get() == 2
    assert not Subscription.objects.exists()
    subscriber = Subscriber.objects.get()  # kept, holding only the proof
    purged = subscriber.consent_events.filter(action="purged")
    assert sorted(e.newsletter.slug for e in purged) == ["daily-briefing", "editors-picks"]
    assert {(e.source, e.source_detail) for e in purged} == {
        ("system", "not confirmed within 30 days")
    }
    assert [e.action for e in subscriber.consent_events.all()] == [
        "requested",
        "requested",
        "purged",
        "purged",
    ]


def test_the_purge_age_is_configurable(client, newsletters, settings):
    settings.PENDING_PURGE_DAYS = 10
    with time_machine.travel(START, tick=False):
        sign_up(client, "reader@example.org", "daily-briefing")
    with time_machine.travel(START + timedelta(days=11), tick=False):
        assert purge.purge_unconfirmed() == 1


def test_only_never_confirmed_signups_go(client, newsletters, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(client, "reader@example.org", "daily-briefing", "editors-picks")
        client.post(link_in(mail.outbox[0].body, "/newsletters/confirm/"))
        sign_up(client, "other@example.org", "daily-briefing")
        sign_up(client, "leaver@example.org", "weekly-explainer")
        Subscription.objects.filter(subscriber__email="leaver@example.org").update(
            status="unsubscribed", unsubscribed_at=timezone.now()
        )
        sign_up(client, "reader@example.org", "weekly-explainer")  # pending beside active ones
    with time_machine.travel(START + timedelta(days=20), tick=False):
        sign_up(client, "other@example.org", "daily-briefing")  # asked again: a fresh 30 days
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert purge.purge_unconfirmed() == 1
    remaining = set(Subscription.objects.values_list("subscriber__email", "newsletter__slug"))
    assert remaining == {
        ("reader@example.org", "daily-briefing"),
        ("reader@example.org", "editors-picks"),
        ("other@example.org", "daily-briefing"),
        ("leaver@example.org", "weekly-explainer"),
    }


def test_the_purge_works_through_many_signups_in_batches(client, newsletters, monkeypatch):
    monkeypatch.setattr(purge, "BATCH", 2)
    with time_machine.travel(START, tick=False):
        for i in range(5):
            sign_up(client, f"reader{i}@example.org", "daily-briefing", "editors-picks")
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert purge.purge_unconfirmed() == 10
        assert purge.purge_unconfirmed() == 0  # running again changes nothing
    assert not Subscription.objects.exists()
    assert ConsentEvent.objects.filter(action="purged").count() == 10


def test_a_purged_reader_can_sign_up_again_through_double_opt_in(
    client, newsletters, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        sign_up(client, "reader@example.org", "daily-briefing")
    with time_machine.travel(START + timedelta(days=31), tick=False):
        purge.purge_unconfirmed()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            sign_up(client, "reader@example.org", "daily-briefing")
        client.post(link_in(mail.outbox[0].body, "/newsletters/confirm/"))
    assert Subscription.objects.get().status == "active"


@pytest.mark.django_db(transaction=True)
def test_a_reader_busy_signing_up_right_now_is_left_for_the_next_run(client, newsletters):
    with time_machine.travel(START, tick=False):
        sign_up(client, "reader@example.org", "daily-briefing")
    results = []

    def purge_elsewhere():
        try:
            results.append(purge.purge_unconfirmed(now=START + timedelta(days=31)))
        finally:
            connection.close()

    with transaction.atomic():
        Subscriber.objects.claim_for_email("reader@example.org")  # as a signup does
        thread = threading.Thread(target=purge_elsewhere)
        thread.start()
        thread.join(timeout=20)
    assert results == [0]
    assert purge.purge_unconfirmed(now=START + timedelta(days=31)) == 1
