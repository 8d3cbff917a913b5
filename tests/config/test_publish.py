import pytest

import config.celery
from config.celery import publish
from newsletters.tasks import sweep_outbox


@pytest.fixture
def dead_broker(broker_at):
    from config.celery import app

    broker_at("redis://127.0.0.1:1/0")
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_a_failed_publish_pauses_publishing_for_a_few_seconds(dead_broker, monkeypatch):
    assert publish(sweep_outbox) is False
    calls = []
    monkeypatch.setattr(sweep_outbox, "apply_async", lambda **kw: calls.append(kw))
    assert publish(sweep_outbox) is False  # paused: no second wait on a dead broker
    assert calls == []
    assert publish(sweep_outbox, probe=True) is True  # the sweep still probes, and reopens
    assert publish(sweep_outbox) is True
    assert len(calls) == 2


def test_the_pause_ends_by_itself_after_a_few_seconds(dead_broker, monkeypatch):
    import time

    assert publish(sweep_outbox) is False
    calls = []
    monkeypatch.setattr(sweep_outbox, "apply_async", lambda **kw: calls.append(kw))
    later = time.monotonic() + config.celery.BROKER_PAUSE_SECONDS + 0.1
    monkeypatch.setattr(config.celery.time, "monotonic", lambda: later)
    assert publish(sweep_outbox) is True
    assert len(calls) == 1
