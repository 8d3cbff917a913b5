"""Settings for Django itself and the services under it: database, cache, queue, email,
pages, security and logging. The product's own settings are in readers.py and members.py."""

from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_prefixed, env_str

# Lets admin and queryset classes be written with their type parameters, as mypy wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
_missing: list[str] = []


def _required_in_production(name: str, dev_default: str) -> str:
    value = env_str(name)
    if value:
        return value
    if not DEBUG:
        _missing.append(name)
    return dev_default


SECRET_KEY = _required_in_production("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or (
    ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    _missing.append("ALLOWED_HOSTS")

PORT = env_int("PORT", 8000, minimum=1)
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
if (
    not DEBUG
    and not SITE_URL.startswith("https://")
    # A production-like run on this machine only (benchmarks): nothing leaves it.
    and urlsplit(SITE_URL).hostname not in {"127.0.0.1", "localhost", "::1"}
):
    # Links in emails carry tokens, and one-click unsubscribe (RFC 8058) needs https.
    raise ImproperlyConfigured(
        f"SITE_URL must be an https:// address in production, not {SITE_URL!r}"
    )
NEWSROOM_NAME = env_str("NEWSROOM_NAME", "The Ledger")
# Dates readers choose (a gift's delivery day) are days in the newsroom's own time zone.
NEWSROOM_TIME_ZONE = env_str("NEWSROOM_TIME_ZONE", "Europe/London")
try:
    ZoneInfo(NEWSROOM_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"NEWSROOM_TIME_ZONE is a time zone name like Europe/Kyiv, not {NEWSROOM_TIME_ZONE!r}"
    ) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "corsheaders",
    "anymail",
    "newsletters",
    "membership",
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "membership.context_processors.payments",
            ],
        },
    },
]

# Database: PostgreSQL in tests and production, a SQLite file for a first run.
DATABASES = {
    "default": dj_database_url.parse(
        _required_in_production("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share the file: wait for locks, write ahead, take the lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and rate limits: Redis when configured, local memory otherwise.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "newsroom"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # Per process, so rate limits are too: fine for one developer's first run.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None
SIGNUP_RATE_PER_IP = env_str("SIGNUP_RATE_PER_IP", "30/10m")
SIGNUP_RATE_PER_ADDRESS = env_str("SIGNUP_RATE_PER_ADDRESS", "6/h")

# Queue: Celery on Redis; with no broker configured, kombu's filesystem transport.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # Otherwise kombu writes a "control" folder wherever the worker was started.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish that cannot reach the broker gives up quickly: the outbox sweep sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery closes the database connection around every task unless told to reuse it; a new
# PostgreSQL backend per task costs more than most tasks. config.celery recycles connections
# the way Django does per request instead; this only bounds how long Celery leaves them be.
CELERY_DB_REUSE_MAX = 1000
# A task whose broker connection was lost cannot be acknowledged: stop it and let the broker
# hand it out again (every task is idempotent), as Celery 6 will by default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_ALWAYS_EAGER = False
# Our LOGGING (one line per event, with the task id) applies in workers too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}  # filled below, once its settings exist

# Email: every message goes through the outbox and django-anymail.
EMAIL_BACKEND = env_str("EMAIL_BACKEND")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
_DEV_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
if not EMAIL_BACKEND:
    if not DEBUG:
        _missing.append("EMAIL_BACKEND")
    EMAIL_BACKEND = (
        "django.core.mail.backends.filebased.EmailBackend"
        if EMAIL_FILE_PATH
        else "django.core.mail.backends.console.EmailBackend"
    )
elif not DEBUG and EMAIL_BACKEND in _DEV_EMAIL_BACKENDS:
    raise ImproperlyConfigured(f"EMAIL_BACKEND {EMAIL_BACKEND} only suits development")
ANYMAIL: dict[str, object] = dict(env_prefixed("ANYMAIL_"))
if not DEBUG and EMAIL_BACKEND.startswith("anymail.backends."):
    if not [key for key in ANYMAIL if "WEBHOOK" not in key]:
        _missing.append("ANYMAIL_<ESP>_<SETTING> (the ESP's credentials)")
    # Without it anyone could post bounces and complaints and suppress any reader.
    if not ANYMAIL.get("WEBHOOK_SECRET"):
        _missing.append("ANYMAIL_WEBHOOK_SECRET (user:password the ESP's webhooks must send)")
DEFAULT_FROM_EMAIL = _required_in_production(
    "DEFAULT_FROM_EMAIL", f"{NEWSROOM_NAME} <newsletters@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where List-Unsubscribe's mailto goes, if the newsroom runs such a mailbox.
UNSUBSCRIBE_MAILTO = env_str("UNSUBSCRIBE_MAILTO")
if UNSUBSCRIBE_MAILTO and (
    UNSUBSCRIBE_MAILTO.count("@") != 1 or any(c in UNSUBSCRIBE_MAILTO for c in " <>?:,;")
):
    raise ImproperlyConfigured(
        f"UNSUBSCRIBE_MAILTO is a bare address like unsubscribe@news.example.org, "
        f"not {UNSUBSCRIBE_MAILTO!r}"
    )

# Outbox delivery.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
OUTBOX_RETRY_BASE_SECONDS = float(env_int("OUTBOX_RETRY_BASE_SECONDS", 30, minimum=1))
# A send claimed longer ago than this is taken to have died with its worker, and sent again.
OUTBOX_STALE_CLAIM_SECONDS = env_int("OUTBOX_STALE_CLAIM_SECONDS", 600, minimum=1)
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["sweep-outbox"] = {
    "task": "newsletters.tasks.sweep_outbox",
    "schedule": OUTBOX_SWEEP_SECONDS,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("uk", _("Ukrainian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
# Uploaded imports and their reports: web and worker must share this folder.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security: production defaults that `manage.py check --deploy` expects.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Pages load only their own stylesheet, scripts and images; forms post here or to Stripe's
# hosted pages (Checkout and the customer portal are reached by a redirect after a POST). The
# admin brings Django's own inline styles and is left to its defaults.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # The preload flag in the header enrols nothing by itself; submitting the domain does.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CSRF_TRUSTED_ORIGINS = [SITE_URL]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SENTRY_DSN = env_str("SENTRY_DSN")
