"""Production refuses to start without its secrets; with them, check --deploy is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 30 + "-production-secret-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "news.example.org",
    "SITE_URL": "https://news.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
    "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
    "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
    "ANYMAIL_WEBHOOK_SECRET": "esp-webhooks:long-random-password",
    "DEFAULT_FROM_EMAIL": "The Ledger <newsletters@news.example.org>",
    "STRIPE_SECRET_KEY": "sk_live_production_key",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_secret",
}


def manage(*args, env):
    # The browser tests allow sync database calls beside Playwright's loop; production must not.
    dropped = {*PRODUCTION, "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "EMAIL_BACKEND",
        "DEFAULT_FROM_EMAIL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
    ],
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_refuses_an_esp_backend_without_credentials():
    env = {k: v for k, v in PRODUCTION.items() if k != "ANYMAIL_POSTMARK_SERVER_TOKEN"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ANYMAIL" in result.stderr


def test_production_refuses_an_esp_backend_without_webhook_authentication():
    env = {k: v for k, v in PRODUCTION.items() if k != "ANYMAIL_WEBHOOK_SECRET"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET" in result.stderr


def test_production_refuses_webhook_authentication_in_place_of_esp_credentials():
    env = {k: v for k, v in PRODUCTION.items() if k != "ANYMAIL_POSTMARK_SERVER_TOKEN"}
    result = manage("check", env={**env, "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY": "key"})
    assert result.returncode != 0
    assert "the ESP's credentials" in result.stderr


def test_production_refuses_a_site_address_without_https():
    result = manage("check", env={**PRODUCTION, "SITE_URL": "http://news.example.org"})
    assert result.returncode != 0
    assert "SITE_URL must be an https:// address" in result.stderr


def test_an_unsubscribe_mailto_must_be_a_bare_address():
    result = manage(
        "check", env={**PRODUCTION, "UNSUBSCRIBE_MAILTO": "mailto:leave@news.example.org"}
    )
    assert result.returncode != 0
    assert "UNSUBSCRIBE_MAILTO is a bare address" in result.stderr
    result = manage("check", env={**PRODUCTION, "UNSUBSCRIBE_MAILTO": "leave@news.example.org"})
    assert result.returncode == 0, result.stderr


def test_production_refuses_the_console_email_backend():
    result = manage(
        "check",
        env={**PRODUCTION, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
    )
    assert result.returncode != 0
    assert "only suits development" in result.stderr


def test_a_malformed_value_fails_loudly():
    result = manage("check", env={**PRODUCTION, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_development_needs_no_environment_at_all(tmp_path):
    result = manage("check", env={"VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("EDITION_BATCH_SENDING", "sometimes", "EDITION_BATCH_SENDING must be auto or off"),
        ("EDITION_MERGE_FIELD", "{{field}}", "EDITION_MERGE_FIELD must contain NAME"),
        ("EDITION_SEND_RATE", "fast", "EDITION_SEND_RATE must be a whole number"),
        ("EDITION_BATCH_SIZE", "0", "EDITION_BATCH_SIZE must be at least 1"),
    ],
)
def test_edition_settings_that_make_no_sense_stop_the_service(name, value, complaint):
    result = manage("check", env={**PRODUCTION, name: value})
    assert result.returncode != 0
    assert complaint in result.stderr
