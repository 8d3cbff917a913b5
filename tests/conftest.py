import contextlib
import re

import pytest
from django.core import mail
from django.core.cache import cache

from newsletters.demo import seed_newsletters

ANYMAIL_TEST_BACKEND = "anymail.backends.test.EmailBackend"


def pytest_sessionfinish(session, exitstatus):
    """In CI every test runs: a skipped test fails the build."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every test must run in CI.")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _email_through_anymail(settings):
    """Django's test set-up swaps in locmem; put anymail's test backend (also an outbox) back."""
    settings.EMAIL_BACKEND = ANYMAIL_TEST_BACKEND
    mail.outbox = []


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in Redis and lists in memory; each test starts with neither."""
    import config.celery
    from newsletters import catalogue, ratelimits

    cache.clear()
    catalogue.forget()
    ratelimits.forget()
    config.celery._broker_paused_until = 0.0
    yield
    cache.clear()
    catalogue.forget()
    ratelimits.forget()
    config.celery._broker_paused_until = 0.0


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files (imports and their reports) go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def newsletters(db):
    return {n.slug: n for n in seed_newsletters()}


def link_in(text: str, path_prefix: str) -> str:
    """The first absolute link in an email body whose path starts with path_prefix."""
    match = re.search(r"https?://[^\s\"'<>]*" + re.escape(path_prefix) + r"[^\s\"'<>]*", text)
    assert match, f"no {path_prefix} link in:\n{text}"
    return match.group(0)


@pytest.fixture
def redis_worker(transactional_db):
    """A real Celery worker, in a thread, consuming from the Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    try:
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
            yield app
    finally:
        app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """At the end, close what workers (threads and processes) left open on the test database,
    whose connections live on between tasks as in production, so that it can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def wait_for(predicate, timeout=10.0, interval=0.02):
    """Poll until predicate() is true; fail the test after timeout seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"gave up waiting after {timeout}s")


class RedisServer:
    """A Redis of the test's own, on a free port, that the test may stop and start."""

    def __init__(self, tmp_path):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import shutil
        import subprocess

        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        subprocess.run(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.dir),
                "--pidfile",
                str(self.dir / "redis.pid"),
            ],
            check=True,
        )
        wait_for(self.answers, timeout=10)

    def answers(self):
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        import redis

        if self.answers():
            with contextlib.suppress(redis.ConnectionError):
                redis.Redis(port=self.port).shutdown(nosave=True)
        wait_for(lambda: not self.answers(), timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def broker_at():
    """Point the Celery app's producers at another broker URL for one test."""
    from config.celery import app

    original = app.conf.broker_url

    def switch(url):
        app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
        app._pool = None
        app.amqp._producer_pool = None

    yield switch
    switch(original)
