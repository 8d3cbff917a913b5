"""The poller that turns committed signups into tasks, in the worker, not the web process.

With SIGNUP_DISPATCH "poll" (the default on PostgreSQL) a signup request is one INSERT and
nothing else: no broker, no NOTIFY (whose commit-time lock would serialise the busiest
writes). One poller per cluster, whichever worker holds an advisory lock (the others stand
by), reads the signups committed in the last few seconds every POLL_SECONDS and queues a task
for each it has not queued yet. Older ones, should any be missed, are the sweep's.
"""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from celery import bootsteps

log = logging.getLogger(__name__)

# Any fixed number, the same on every worker: the advisory lock that elects the poller.
POLLER_LOCK = 7_102_026
POLL_SECONDS = 0.05
# Signups are looked for this far back; anything older is left to the sweep.
WINDOW = timedelta(seconds=30)


def poll(
    stop: threading.Event, interval: float = POLL_SECONDS, done: threading.Event | None = None
) -> None:
    """Hold the poller's lock and queue a task per new signup, until stop (or done) is set."""
    import psycopg
    from django.db import connection
    from django.utils import timezone

    from config.celery import publish
    from newsletters.models import SignupRequest
    from newsletters.tasks import process_signup

    def halted() -> bool:
        return stop.is_set() or (done is not None and done.is_set())

    table = SignupRequest._meta.db_table
    queued: dict[int, float] = {}
    while not halted():
        try:
            params = connection.get_connection_params()
            with psycopg.connect(**params, autocommit=True) as conn:
                held = conn.execute("SELECT pg_try_advisory_lock(%s)", [POLLER_LOCK]).fetchone()
                if not held or not held[0]:
                    stop.wait(100 * interval)  # another worker polls; stand by
                    continue
                log.info("signup poller: polling")
                while not halted():
                    since = timezone.now() - WINDOW
                    rows = conn.execute(
                        f"SELECT id FROM {table} WHERE processed_at IS NULL"  # noqa: S608
                        " AND created_at > %s ORDER BY id LIMIT 1000",
                        [since],
                    ).fetchall()
                    now = time.monotonic()
                    for (pk,) in rows:
                        if pk not in queued and publish(process_signup, pk):
                            queued[pk] = now
                    # Forget what has left the window: it is processed, or the sweep's.
                    for pk in [pk for pk, at in queued.items() if now - at > 2 * WINDOW.seconds]:
                        del queued[pk]
                    stop.wait(interval)
        except Exception:
            log.warning("signup poller: connection lost; trying again", exc_info=True)
            stop.wait(40 * interval)


class SignupPoller(bootsteps.StartStopStep):
    """Runs poll() in a thread of each worker started with SIGNUP_DISPATCH "poll"."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        if settings.SIGNUP_DISPATCH != "poll":
            return
        # A worker that stops before its blueprint counts as started (one embedded in another
        # process, as in tests) skips its steps' stop(); its shutdown event is set either way,
        # and the poller must not outlive its worker.
        self.thread = threading.Thread(
            target=poll,
            args=(self.stop_event,),
            kwargs={"done": worker.blueprint.shutdown_complete},
            name="signup-poller",
            daemon=True,
        )
        self.thread.start()

    def stop(self, worker: Any) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
