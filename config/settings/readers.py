"""Settings of the newsletters app: how signups reach a worker, double opt-in, readers' own
links, bounces, the purge, imports, editions and the embed's origins."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_list, env_str
from config.settings.base import CELERY_BEAT_SCHEDULE, DATABASES

# How a committed signup reaches a worker: "poll" (PostgreSQL: a poller in the worker finds
# new signups, so a signup request is one INSERT and never talks to the broker) or "publish"
# (the web process queues the task after commit; the way on SQLite).
_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
SIGNUP_DISPATCH = env_str("SIGNUP_DISPATCH", "poll" if _POSTGRES else "publish")
if SIGNUP_DISPATCH not in {"poll", "publish"} or (SIGNUP_DISPATCH == "poll" and not _POSTGRES):
    raise ImproperlyConfigured(
        f"SIGNUP_DISPATCH is poll (PostgreSQL only) or publish, not {SIGNUP_DISPATCH!r}"
    )

# Double opt-in.
CONFIRMATION_MAX_AGE_DAYS = env_int("CONFIRMATION_MAX_AGE_DAYS", 7, minimum=1)
CONFIRMATION_EMAILS_PER_DAY = env_int("CONFIRMATION_EMAILS_PER_DAY", 3, minimum=1)
CONFIRMATION_RESEND_AFTER_MINUTES = env_int("CONFIRMATION_RESEND_AFTER_MINUTES", 10, minimum=0)

# Readers' own links: the preferences page (in every list email) and asking for it by address.
PREFERENCES_LINK_MAX_AGE_DAYS = env_int("PREFERENCES_LINK_MAX_AGE_DAYS", 365, minimum=1)
PREFERENCES_LINK_RATE_PER_IP = env_str("PREFERENCES_LINK_RATE_PER_IP", "10/10m")
PREFERENCES_LINK_RATE_PER_ADDRESS = env_str("PREFERENCES_LINK_RATE_PER_ADDRESS", "3/h")
PREFERENCES_LINK_EMAILS_PER_DAY = env_int("PREFERENCES_LINK_EMAILS_PER_DAY", 5, minimum=1)

# The ESP's tracking webhooks (anymail): a hard bounce or a complaint suppresses at once, and
# so does this many soft bounces in a row with no delivery between them.
SOFT_BOUNCE_LIMIT = env_int("SOFT_BOUNCE_LIMIT", 3, minimum=1)

# Signups never confirmed are purged after this many days (the ledger keeps that they were).
PENDING_PURGE_DAYS = env_int("PENDING_PURGE_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["purge-unconfirmed"] = {
    "task": "newsletters.tasks.purge_unconfirmed",
    "schedule": env_int("PENDING_PURGE_EVERY_SECONDS", 3600, minimum=60),
}

# Imports, exports and the admin's counts.
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 10_000, minimum=1)
# Chunks in flight at once, each on a database connection of its own (PostgreSQL only).
IMPORT_LANES = env_int("IMPORT_LANES", 2, minimum=1)
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 200, minimum=1)
IMPORT_CONFIRMATIONS_PER_MINUTE = env_int("IMPORT_CONFIRMATIONS_PER_MINUTE", 120, minimum=1)
AUDIENCE_STATS_SECONDS = env_int("AUDIENCE_STATS_SECONDS", 300, minimum=10)
CELERY_BEAT_SCHEDULE["resume-imports"] = {
    "task": "newsletters.tasks.resume_imports",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["send-import-confirmations"] = {
    "task": "newsletters.tasks.send_import_confirmations",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["refresh-audience-stats"] = {
    "task": "newsletters.tasks.refresh_audience_stats",
    "schedule": AUDIENCE_STATS_SECONDS,
}

# Editions: sent to a list in batches by any number of workers (see newsletters.edition_delivery).
EDITION_BATCH_SIZE = env_int("EDITION_BATCH_SIZE", 500, minimum=1)
EDITION_SEND_RATE = env_int(
    "EDITION_SEND_RATE", 0, minimum=0
)  # messages/s for all workers; 0: no cap
# "auto": one ESP call per batch where the ESP merges per-recipient data (edition_esps), else one
# message per recipient; "off": always one message per recipient.
EDITION_BATCH_SENDING = env_str("EDITION_BATCH_SENDING", "auto").lower()
if EDITION_BATCH_SENDING not in {"auto", "off"}:
    raise ImproperlyConfigured(
        f"EDITION_BATCH_SENDING must be auto or off, not {EDITION_BATCH_SENDING!r}"
    )
# The merge field syntax for an ESP the table does not know, NAME standing for the field.
EDITION_MERGE_FIELD = env_str("EDITION_MERGE_FIELD")
if EDITION_MERGE_FIELD and "NAME" not in EDITION_MERGE_FIELD:
    raise ImproperlyConfigured(
        f"EDITION_MERGE_FIELD must contain NAME, e.g. {{{{NAME}}}}, not {EDITION_MERGE_FIELD!r}"
    )
EDITION_SEND_TASKS = env_int("EDITION_SEND_TASKS", 8, minimum=1)  # tasks sharing one send
EDITION_TASK_SECONDS = env_int("EDITION_TASK_SECONDS", 60, minimum=1)  # then a fresh task
EDITION_STALL_SECONDS = env_int("EDITION_STALL_SECONDS", 300, minimum=30)
CELERY_BEAT_SCHEDULE["editions-tick"] = {
    "task": "newsletters.tasks.editions_tick",
    "schedule": env_int("EDITION_TICK_SECONDS", 30, minimum=1),
}

# The newsroom's own sites, allowed to post signups across origins and to frame the embed.
EMBED_ALLOWED_ORIGINS = env_list("EMBED_ALLOWED_ORIGINS")
for _origin in EMBED_ALLOWED_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in {"http", "https"} or not _parts.netloc or _parts.path not in {"", "/"}:
        raise ImproperlyConfigured(
            f"EMBED_ALLOWED_ORIGINS entries look like https://news.example.org, not {_origin!r}"
        )
EMBED_ALLOWED_ORIGINS = [origin.rstrip("/") for origin in EMBED_ALLOWED_ORIGINS]
CORS_ALLOWED_ORIGINS = EMBED_ALLOWED_ORIGINS
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
