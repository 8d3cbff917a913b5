"""The one stand-in for the email provider: anymail's own test backend, made to fail on cue."""

import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError


class FlakyESP(AnymailTestBackend):
    """Answers like an ESP having a bad day: the next `failures` sends fail with `status`."""

    failures = 0
    status = 503
    refuse = False
    calls = 0
    statuses: tuple[int, ...] = ()

    def send_messages(self, email_messages):
        FlakyESP.calls += 1
        if FlakyESP.refuse:
            raise AnymailRecipientsRefused("all recipients were rejected")
        if FlakyESP.failures > 0:
            FlakyESP.failures -= 1
            if FlakyESP.statuses:
                FlakyESP.status = FlakyESP.statuses[FlakyESP.failures % len(FlakyESP.statuses)]
            response = requests.Response()
            response.status_code = FlakyESP.status
            response.reason = (
                "Service Unavailable" if FlakyESP.status >= 500 else "Too Many Requests"
            )
            response._content = b'{"message": "try again later"}'
            raise AnymailRequestsAPIError("ESP API response", response=response, backend=self)
        return super().send_messages(email_messages)

    @classmethod
    def reset(cls, failures=0, status=503, refuse=False, statuses=()):
        cls.failures, cls.status, cls.refuse, cls.calls = failures, status, refuse, 0
        cls.statuses = tuple(statuses)


class HangingESP(AnymailTestBackend):
    """An ESP that notes every address it accepts in a file, for tests across processes.

    With HANG_AT_BATCH=n set, it hangs on its n-th call before accepting anything, so a test
    can kill the worker in the middle of a batch.
    """

    calls = 0

    def send_messages(self, email_messages):
        import os
        import time

        HangingESP.calls += 1
        if HangingESP.calls == int(os.environ.get("HANG_AT_BATCH", "0")):
            with open(os.environ["RECORD_FILE"] + ".hung", "w") as marker:
                marker.write("hung")
            time.sleep(3600)
        sent = super().send_messages(email_messages)
        with open(os.environ["RECORD_FILE"], "a") as record:
            for message in email_messages:
                record.writelines(f"{address}\n" for address in message.to)
        return sent


class RecordingESP(AnymailTestBackend):
    """For workers in other processes: notes each accepted message's outbox key in Redis.

    FAKE_ESP_DELAY (seconds) makes every send take that long, as a slow provider would.
    """

    def send_messages(self, email_messages):
        import os
        import time

        import redis

        delay = float(os.environ.get("FAKE_ESP_DELAY", "0"))
        client = redis.Redis.from_url(os.environ["FAKE_ESP_RECORD_URL"])
        for message in email_messages:
            time.sleep(delay)
            client.rpush("fake-esp:accepted", message.metadata["outbox_key"])
        return super().send_messages(email_messages)
