"""Email backends standing in for the ESP: one records each message, one only counts batches."""

import os
import time
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import redis
from anymail.backends.base import AnymailBaseBackend, BasePayload
from anymail.backends.test import TestPayload
from anymail.message import AnymailRecipientStatus
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


@cache
def _recorder() -> redis.Redis:
    return redis.Redis.from_url(os.environ["BENCH_RECORD_URL"])


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        now = time.time()
        client = _recorder()
        for message in email_messages:
            key = getattr(message, "metadata", {}).get("outbox_key", "?")
            client.rpush("bench:handed-off", f"{key} {now}")
        return len(email_messages)


class CountingESP(AnymailBaseBackend):
    """An anymail backend standing in for a batch-sending ESP: it builds the payload and counts.

    anymail turns each message into its payload as for a real ESP (recipients, merge data,
    per-recipient headers and metadata); nothing goes anywhere. Each call adds its recipients
    to a counter in Redis and notes when the last one arrived.
    """

    esp_name = "Counting"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = redis.Redis.from_url(os.environ["BENCH_RECORD_URL"])
        self.key = os.environ.get("BENCH_COUNT_KEY", "bench-send")

    def build_message_payload(self, message: Any, defaults: Any) -> BasePayload:
        return TestPayload(backend=self, message=message, defaults=defaults)

    def post_to_esp(self, payload: Any, message: Any) -> Any:
        count = len(payload.recipient_emails)
        pipe = self.client.pipeline()
        pipe.incrby(f"{self.key}:count", count)
        pipe.set(f"{self.key}:last", repr(time.time()))
        pipe.incr(f"{self.key}:calls")
        pipe.execute()
        return payload

    def parse_recipient_status(self, response: Any, payload: Any, message: Any) -> Any:
        status = AnymailRecipientStatus(message_id=uuid.uuid4().hex, status="queued")
        return dict.fromkeys(payload.recipient_emails, status)
