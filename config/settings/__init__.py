"""Settings, read from the environment.

With no environment at all the service runs for development: SQLite, a broker that needs no
server, email printed to the console, payments in demo mode. With DEBUG off it refuses to start
until its secrets and hosts are set.

Split by concept: base.py (Django and the services under it), readers.py (newsletters) and
members.py (memberships and gifts). Each reads its own part of the environment; a missing
production secret anywhere is reported here, all of them at once.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import DEBUG, SENTRY_DSN, _missing
from config.settings.members import *  # noqa: F403
from config.settings.readers import *  # noqa: F403

if _missing:
    raise ImproperlyConfigured(
        "With DEBUG off these settings must come from the environment: " + ", ".join(_missing)
    )

if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
