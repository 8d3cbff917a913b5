"""The counters behind every rate limit, on the real Redis."""

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


def test_a_malformed_rate_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        ratelimits.Rate.parse("thirty a minute")
