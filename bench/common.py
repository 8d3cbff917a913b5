"""Shared set-up for the benchmarks: their own database, migrated, and Django configured for it."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, or DATABASE_URL's server with a database named bench_<name>."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    name = base.path.lstrip("/") or "postgres"
    return urlunsplit(base._replace(path=f"/bench_{name}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str, *, migrate: bool) -> None:
    """Point the real settings at the bench database; quiet logs; tasks need no broker.

    Production settings (DEBUG off), as a worker runs them: with DEBUG on, Django would wrap
    every cursor to keep a log of its queries.
    """
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ["EMAIL_BACKEND"] = "bench.backends.CountingESP"  # nothing is sent
    os.environ.setdefault("DEFAULT_FROM_EMAIL", "Bench <bench@example.org>")
    os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_bench_never_called")
    os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_bench_" + "s" * 24)
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["VAR_DIR"] = str(OUT / "var")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = True
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)  # pages are rendered as served


def psycopg_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
