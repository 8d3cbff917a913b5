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
    """Rate-limit counters live in Redis; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newsletters(db):
    return {n.slug: n for n in seed_newsletters()}


def link_in(text: str, path_prefix: str) -> str:
    """The first absolute link in an email body whose path starts with path_prefix."""
    match = re.search(r"https?://[^\s\"'<>]*" + re.escape(path_prefix) + r"[^\s\"'<>]*", text)
    assert match, f"no {path_prefix} link in:\n{text}"
    return match.group(0)
