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
    """Point the real settings at the bench database; quiet logs; tasks need no broker."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
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


def psycopg_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
