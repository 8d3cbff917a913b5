"""The counters behind every rate limit, on the real Redis."""

import time
import uuid

import pytest
from django.conf import settings

from newsletters import ratelimits


@pytest.fixture
def group():
    return f"test-{uuid.uuid4().hex[:8]}"


def _redis():
    client = ratelimits._redis()
    assert client is not None, "the tests run with REDIS_URL set"
    return client


def _key(group):
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    [key] = _redis().keys(f"{prefix}:rl:{group}:*")
    return key


def test_a_limit_lets_its_count_through_and_refuses_the_next(group):
    checks = ((group, "198.51.100.7", "3/m"),)
    assert [ratelimits.exceeded(*checks) for _ in range(4)] == [False, False, False, True]


def test_each_counter_is_judged_by_its_own_limit(group):
    loose, tight = (f"{group}-ip", "-", "100/m"), (f"{group}-address", "a@example.org", "1/m")
    assert ratelimits.exceeded(loose, tight) is False
    assert ratelimits.exceeded(loose, tight) is True
    assert ratelimits.exceeded(loose) is False


def test_a_window_expires_one_second_after_its_period(group):
    ratelimits.exceeded((group, "x", "5/10m"))
    ratelimits.exceeded((group, "x", "5/10m"))
    ttl = _redis().ttl(_key(group))
    # Set once, by the window's first hit, and not pushed back by later ones.
    assert 599 <= ttl <= 601


def test_counting_goes_on_after_redis_forgets_its_scripts(group):
    """A restarted Redis has no scripts: the script is sent again, no hit is lost."""
    checks = ((group, "x", "2/m"),)
    assert ratelimits.exceeded(*checks) is False
    _redis().script_flush()
    assert ratelimits.exceeded(*checks) is False
    assert ratelimits.exceeded(*checks) is True


def _stored(group):
    return int(_redis().get(_key(group)))


def _batch(every):
    batch = ratelimits.Batch()
    batch.every = every
    return batch


def test_a_busy_process_counts_its_own_hits_exactly_between_sends(group):
    batch = _batch(every=3600)
    checks = ((group, "198.51.100.7", "3/m"),)
    results = [ratelimits.exceeded(*checks, batch=batch) for _ in range(4)]
    assert results == [False, False, False, True]
    assert _stored(group) == 1  # only the first hit has gone to Redis so far


def test_a_batch_goes_to_redis_with_the_first_hit_after_its_interval(group):
    batch = _batch(every=3600)
    for _ in range(3):
        ratelimits.exceeded((group, "x", "10/m"), batch=batch)
    batch.every = 0
    ratelimits.exceeded((group, "x", "10/m"), batch=batch)
    assert _stored(group) == 4
    assert 59 <= _redis().ttl(_key(group)) <= 61


def test_a_quiet_process_sends_every_hit_as_it_comes(group):
    batch = ratelimits.Batch()
    for n in range(1, 4):
        time.sleep(batch.every)
        ratelimits.exceeded((group, "x", "10/m"), batch=batch)
        assert _stored(group) == n


def test_processes_learn_each_others_hits_from_their_next_send(group):
    """Two batches stand for two processes sharing a flood of one address."""
    one, two = _batch(every=3600), _batch(every=3600)
    check = (group, "flooded@example.org", "3/m")
    let_through = [ratelimits.exceeded(check, batch=one) for _ in range(3)]
    let_through += [ratelimits.exceeded(check, batch=two) for _ in range(3)]
    assert let_through == [False, False, False, False, False, True]
    one.every = 0
    assert ratelimits.exceeded(check, batch=one) is True  # its send returns two's hits
    assert ratelimits.exceeded(check, batch=two) is True
    # At most one limit's worth more than one process alone would let through.
    assert let_through.count(False) <= 2 * 3


def test_a_process_remembers_the_counts_it_sent_last(group):
    batch = _batch(every=0)
    batch.remembered = 2
    one, two, three = ((f"{group}-{n}", "x", "1/m") for n in range(3))
    assert [ratelimits.exceeded(one, batch=batch) for _ in range(2)] == [False, True]
    ratelimits.exceeded(two, batch=batch)
    ratelimits.exceeded(three, batch=batch)
    batch.every = 3600
    assert ratelimits.exceeded(three, batch=batch) is True  # judged without a round trip
    # The first is forgotten by this process, not by Redis: its next send brings it back.
    ratelimits.exceeded(one, batch=batch)
    batch.every = 0
    assert ratelimits.exceeded(one, batch=batch) is True
    assert _stored(f"{group}-0") == 4


def test_a_batch_that_cannot_reach_redis_lets_hits_through_and_counts_again_later(
    group, monkeypatch
):
    batch = ratelimits.Batch()
    check = (group, "x", "1/m")

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    with monkeypatch.context() as patch:
        patch.setattr(ratelimits, "_hit", unreachable)
        assert ratelimits.exceeded(check, batch=batch) is False
    time.sleep(batch.every)
    assert ratelimits.exceeded(check, batch=batch) is False
    time.sleep(batch.every)
    assert ratelimits.exceeded(check, batch=batch) is True
    assert _stored(group) == 2


def test_a_malformed_rate_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        ratelimits.Rate.parse("thirty a minute")
