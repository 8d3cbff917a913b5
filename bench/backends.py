"""An email backend standing in for the ESP: it records when each message reached it."""

import os
import time
from collections.abc import Sequence

import redis
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        now = time.time()
        client = redis.Redis.from_url(os.environ["BENCH_RECORD_URL"])
        for message in email_messages:
            key = getattr(message, "metadata", {}).get("outbox_key", "?")
            client.rpush("bench:handed-off", f"{key} {now}")
        return len(email_messages)
