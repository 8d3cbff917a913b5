from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from newsletters import signup
from newsletters.consent import SIGNUP_WORDING, Provenance
from newsletters.models import ConsentEvent, OutboundEmail, SignupRequest, Subscriber

pytestmark = pytest.mark.django_db


def _stored(pk):
    """The request as its INSERT wrote it."""
    return SignupRequest.objects.get(pk=pk)


FORM = Provenance(
    source="form", detail="https://news.example/a", ip="203.0.113.9", wording=SIGNUP_WORDING
)


def test_a_signup_is_committed_as_submitted_and_processed_once(
    newsletters, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        request = _stored(
            signup.request_subscription("reader@example.org", [newsletters["daily-briefing"]], FORM)
        )
    assert len(queued) == 1  # one task, queued after commit
    assert Subscriber.objects.count() == 0
    assert request.newsletter_ids == [newsletters["daily-briefing"].pk]
    assert (request.email, request.ip, request.source) == (
        "reader@example.org",
        "203.0.113.9",
        "form",
    )
    assert request.wording == str(SIGNUP_WORDING.text) and request.processed_at is None

    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        assert signup.process_request(request.pk)
    assert not signup.process_request(request.pk)
    subscriber = Subscriber.objects.get()
    assert subscriber.subscriptions.get().status == "pending"
    event = ConsentEvent.objects.get()
    assert event.at == request.created_at  # when the reader acted, not when it was processed
    assert (event.ip, event.source_detail) == ("203.0.113.9", "https://news.example/a")
    assert event.wording == str(SIGNUP_WORDING.text)
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 1


def test_a_list_hidden_before_processing_takes_no_signup(newsletters):
    request = _stored(
        signup.request_subscription("reader@example.org", [newsletters["editors-picks"]], FORM)
    )
    newsletters["editors-picks"].is_public = False
    newsletters["editors-picks"].save()
    assert signup.process_request(request.pk)
    assert not Subscriber.objects.filter(subscriptions__isnull=False).exists()
    assert OutboundEmail.objects.count() == 0


def test_the_confirmation_is_written_in_the_readers_language(newsletters):
    with translation.override("uk"):
        request = _stored(
            signup.request_subscription("reader@example.org", [newsletters["daily-briefing"]], FORM)
        )
    assert request.language == "uk"
    signup.process_request(request.pk)
    assert '<html lang="uk">' in OutboundEmail.objects.get().html_body


def test_the_sweep_queues_requests_that_missed_their_worker(newsletters):
    request = _stored(
        signup.request_subscription("reader@example.org", [newsletters["daily-briefing"]], FORM)
    )
    assert signup.sweep_requests() == 0  # a few seconds' grace for the on-commit queueing
    assert signup.sweep_requests(now=timezone.now() + timedelta(seconds=10)) == 1
    request.refresh_from_db()
    assert request.processed_at is not None
    assert signup.sweep_requests(now=timezone.now() + timedelta(seconds=10)) == 0


def test_the_worker_that_processes_a_signup_sends_its_confirmation_itself(newsletters, monkeypatch):
    from django.core import mail

    from newsletters.tasks import process_signup, send_email

    request = _stored(
        signup.request_subscription("reader@example.org", [newsletters["daily-briefing"]], FORM)
    )
    queued = []
    monkeypatch.setattr(send_email, "apply_async", lambda *a, **kw: queued.append(kw))
    assert process_signup.apply(args=[request.pk]).get() is True
    assert queued == []  # no second trip through the broker
    (message,) = mail.outbox
    assert message.subject == "Confirm your subscription"
    assert OutboundEmail.objects.get().status == "sent"


def test_a_confirmation_the_esp_refuses_for_now_is_queued_to_retry(
    newsletters, monkeypatch, settings
):
    from newsletters.tasks import process_signup, send_email
    from tests.fakes import FlakyESP

    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    FlakyESP.reset(failures=1, status=503)
    request = _stored(
        signup.request_subscription("reader@example.org", [newsletters["daily-briefing"]], FORM)
    )
    queued = []
    monkeypatch.setattr(send_email, "apply_async", lambda *a, **kw: queued.append(kw))
    process_signup.apply(args=[request.pk])
    email = OutboundEmail.objects.get()
    assert email.status == "pending" and email.attempts == 1
    (retry,) = queued
    assert retry["args"] == (email.pk,) and 20 < retry["countdown"] < 40


def test_a_request_with_a_misnamed_column_is_refused_not_written(newsletters):
    with pytest.raises(TypeError, match="emial"):
        SignupRequest.objects.record(emial="reader@example.org", newsletter_ids=[1])
    assert not SignupRequest.objects.exists()
