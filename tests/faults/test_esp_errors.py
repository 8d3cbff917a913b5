"""The ESP answering 5xx and 429 for a while: retries with backoff, no duplicates, no lost mail."""

from collections import Counter

import pytest
from django.core import mail

from newsletters import outbox
from newsletters.models import OutboundEmail
from tests.conftest import wait_for
from tests.fakes import FlakyESP

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_struggling_esp_gets_every_email_once_in_the_end(redis_worker, settings):
    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    settings.OUTBOX_RETRY_BASE_SECONDS = 0.05
    FlakyESP.reset(failures=25, statuses=(503, 429, 502))
    for n in range(20):  # each queued for the worker as it commits
        outbox.queue("welcome", f"r{n}@example.org", "welcome", {"newsletters": []})
    wait_for(lambda: OutboundEmail.objects.filter(status="sent").count() == 20, timeout=60)
    assert FlakyESP.calls == 20 + 25  # every failure was retried, nothing more
    recipients = Counter(message.to[0] for message in mail.outbox)
    assert len(recipients) == 20 and set(recipients.values()) == {1}
    retried = OutboundEmail.objects.filter(attempts__gt=1)
    assert retried.exists()
    assert all(row.last_error == "" for row in OutboundEmail.objects.all())
