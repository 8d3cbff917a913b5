"""Settings for the test suite: the real ones, pointed at the local PostgreSQL and Redis.

DATABASE_URL, REDIS_URL and CELERY_BROKER_URL may be set to other servers; the defaults are the
services this machine runs. Only email is replaced (anymail's test backend); Stripe is replaced
in the tests themselves, at its HTTP client.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("EMAIL_BACKEND", "anymail.backends.test.EmailBackend")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403

# Tasks queued by the code under test run at once, in process; tests about the worker turn
# this off and run a real worker on the Redis broker.
CELERY_TASK_ALWAYS_EAGER = True
# Signups are queued after commit, as on SQLite, so tests see them processed at once; the
# PostgreSQL poller has tests of its own (tests/newsletters/test_dispatch.py).
SIGNUP_DISPATCH = "publish"
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
