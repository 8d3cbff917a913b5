"""The confirmation email through a real Celery worker on Redis, to anymail's test backend."""

import time
from html import unescape

import pytest
from django.core import mail

from newsletters.models import OutboundEmail
from tests.conftest import link_in, wait_for
from tests.fakes import FlakyESP

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_sends_the_confirmation_with_both_parts_headers_and_link(
    client, newsletters, redis_worker
):
    response = client.post(
        "/newsletters/",
        {"email": "reader@example.org", "newsletters": ["daily-briefing", "weekly-explainer"]},
    )
    assert response.status_code == 302
    wait_for(lambda: len(mail.outbox) == 1)
    message = mail.outbox[0]
    assert message.to == ["reader@example.org"]
    assert message.subject == "Confirm your subscription"
    assert message.from_email == "The Ledger <newsletters@localhost>"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    text_link = link_in(message.body, "/newsletters/confirm/")
    assert text_link in unescape(html)
    assert "The Daily Briefing" in message.body and "The Weekly Explainer" in unescape(html)
    params = message.anymail_test_params
    assert params["tags"] == ["confirmation"]
    assert params["metadata"]["kind"] == "confirmation"
    email = OutboundEmail.objects.get()
    assert message.extra_headers["Message-ID"] == f"<{email.key}@localhost>"
    wait_for(lambda: OutboundEmail.objects.get().status == "sent")
    # The link works: confirming through it sends the welcome, through the worker too.
    client.post(text_link.removeprefix("http://testserver"))
    wait_for(lambda: len(mail.outbox) == 2)
    assert mail.outbox[1].subject == "Welcome to The Ledger"


def test_a_worker_retries_a_failing_esp_with_backoff_and_sends_once(
    client, newsletters, redis_worker, settings
):
    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    settings.OUTBOX_RETRY_BASE_SECONDS = 0.2
    FlakyESP.reset(failures=2, status=503)
    started = time.monotonic()
    client.post("/newsletters/", {"email": "reader@example.org", "newsletters": "daily-briefing"})
    wait_for(lambda: len(mail.outbox) == 1)
    assert time.monotonic() - started >= 0.4  # two waits of about 0.2 s and 0.4 s
    email = OutboundEmail.objects.get()
    assert email.attempts == 3
    assert FlakyESP.calls == 3
    time.sleep(0.5)
    assert len(mail.outbox) == 1
