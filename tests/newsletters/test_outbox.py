from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from newsletters import emails, outbox, suppression
from newsletters.consent import Provenance
from newsletters.models import OutboundEmail
from newsletters.tasks import send_email, sweep_outbox
from tests.fakes import FlakyESP

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    FlakyESP.reset()
    return FlakyESP


def queue_one(kind="confirmation"):
    return outbox.queue(
        kind,
        "reader@example.org",
        "confirmation",
        {"newsletters": [], "confirm_url": "http://testserver/x", "max_age_days": 7},
    )


def test_queued_email_is_sent_once_after_commit_with_its_kind_as_tag_and_metadata(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_one()
        assert mail.outbox == []  # nothing leaves before the transaction commits
    (message,) = mail.outbox
    assert message.anymail_test_params["tags"] == ["confirmation"]
    assert message.anymail_test_params["metadata"]["kind"] == "confirmation"
    assert message.anymail_test_params["metadata"]["outbox_key"] == email.key
    assert message.extra_headers["Message-ID"] == f"<{email.key}@localhost>"
    assert message.from_email == "The Ledger <newsletters@localhost>"
    email.refresh_from_db()
    assert email.status == "sent"
    assert email.attempts == 1
    assert email.sent_at is not None


def test_an_email_in_a_rolled_back_transaction_is_never_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                queue_one()
                raise RuntimeError("the signup failed")
        except RuntimeError:
            pass
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


def test_delivering_the_same_row_again_sends_nothing_more():
    email = queue_one()
    assert outbox.deliver(email.pk).sent
    assert not outbox.deliver(email.pk).sent
    send_email.delay(email.pk)
    assert len(mail.outbox) == 1


def test_a_transient_esp_error_is_retried_with_backoff_and_sent_once(flaky):
    flaky.reset(failures=2, status=503)
    email = queue_one()
    attempts = [outbox.deliver(email.pk) for _ in range(4)]
    assert [a.retry_in is not None for a in attempts] == [True, True, False, False]
    assert [a.sent for a in attempts] == [False, False, True, False]
    email.refresh_from_db()
    assert email.status == "sent"
    assert email.attempts == 3
    assert flaky.calls == 3
    assert len(mail.outbox) == 1


def test_a_429_is_retried_too_and_the_row_waits_for_its_next_try(flaky):
    flaky.reset(failures=1, status=429)
    email = queue_one()
    before = timezone.now()
    attempt = outbox.deliver(email.pk)
    assert attempt.retry_in is not None and 24 <= attempt.retry_in <= 36
    email.refresh_from_db()
    assert email.status == "pending"
    assert email.next_attempt_at > before + timedelta(seconds=20)
    assert "429" in email.last_error
    assert outbox.sweep() == 0  # not due yet
    assert outbox.sweep(now=timezone.now() + timedelta(minutes=1)) == 1
    assert len(mail.outbox) == 1


def test_backoff_doubles_up_to_an_hour():
    assert 24 <= outbox.backoff(1) <= 36
    assert 48 <= outbox.backoff(2) <= 72
    assert 2880 <= outbox.backoff(20) <= 4320


def test_a_refused_recipient_fails_at_once_without_retries(flaky):
    flaky.reset(refuse=True)
    email = queue_one()
    assert outbox.deliver(email.pk).retry_in is None
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.attempts == 1
    assert "rejected" in email.last_error


def test_an_email_is_given_up_after_the_configured_tries(flaky, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    flaky.reset(failures=10)
    email = queue_one()
    attempts = [outbox.deliver(email.pk) for _ in range(4)]
    assert [a.retry_in is not None for a in attempts] == [True, True, False, False]
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.attempts == 3
    assert mail.outbox == []


def test_the_sweep_sends_rows_whose_queueing_was_missed():
    email = queue_one()  # not committed in this test: its on-commit publish never ran
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert sweep_outbox.delay().get() == 0  # fresh rows get a few seconds' grace
    assert outbox.sweep(now=timezone.now() + timedelta(seconds=10)) == 1
    assert len(mail.outbox) == 1
    assert outbox.sweep(now=timezone.now() + timedelta(seconds=10)) == 0
    assert len(mail.outbox) == 1


def test_a_row_claimed_by_a_worker_that_died_is_sent_by_the_sweep():
    email = queue_one()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=11), attempts=1
    )
    assert outbox.sweep() == 1
    email.refresh_from_db()
    assert email.status == "sent"
    assert email.attempts == 2


def test_a_row_being_sent_right_now_is_left_alone():
    email = queue_one()
    OutboundEmail.objects.filter(pk=email.pk).update(status="sending", claimed_at=timezone.now())
    assert outbox.sweep() == 0
    assert not outbox.deliver(email.pk).sent
    assert mail.outbox == []


def test_a_subject_is_one_line_whatever_its_data():
    subject, _, _ = outbox.render_email("welcome", {"newsletters": []})
    assert "\n" not in subject


def test_a_list_email_to_a_suppressed_address_is_cancelled_when_it_would_be_sent(welcomed):
    subscriber, _ = welcomed
    email = emails.welcome(subscriber, [s.newsletter for s in subscriber.subscriptions.all()])
    # The address bounces after the email was queued and before a worker sends it.
    suppression.suppress("reader@example.org", "bounced", Provenance(source="esp"))
    assert not outbox.deliver(email.pk).sent
    email.refresh_from_db()
    assert email.status == "cancelled"
    assert "suppressed" in email.last_error
    assert mail.outbox == []


def test_transactional_email_still_goes_to_a_suppressed_address():
    suppression.suppress("reader@example.org", "complained", Provenance(source="esp"))
    email = queue_one()  # a confirmation: how a suppressed reader comes back
    assert outbox.deliver(email.pk).sent
    assert len(mail.outbox) == 1
