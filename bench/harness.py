"""What the benchmarks share: a database of their own, the service under gunicorn, a worker."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
RECORD_URL = "redis://127.0.0.1:6379/11"
WEBHOOK_SECRET = "whsec_bench_" + "s" * 24


def environment(port: int, var_dir: str, database: str) -> dict[str, str]:
    """Production settings (DEBUG off) on local services, with a recording stand-in ESP."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG}/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
        "EMAIL_BACKEND": "bench.backends.RecordingBackend",
        "ANYMAIL_WEBHOOK_SECRET": "bench:bench",
        "DEFAULT_FROM_EMAIL": "Bench <bench@example.org>",
        "STRIPE_SECRET_KEY": "sk_test_bench_never_called",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BENCH_RECORD_URL": RECORD_URL,
        "SIGNUP_RATE_PER_IP": "100000000/s",
        "SIGNUP_RATE_PER_ADDRESS": "100000/h",
        "VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare_database(env: dict[str, str], database: str) -> None:
    """Create the database if missing, migrate it, seed the demo lists, empty the queues."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {database}")
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"], RECORD_URL):
        redis.Redis.from_url(url).flushdb()


def truncate(database: str, *tables: str) -> None:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        conn.execute("VACUUM ANALYZE")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def gunicorn(port: int, env: dict[str, str], workers: int = 4) -> subprocess.Popen[bytes]:
    web = start(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz")
    return web


def celery_worker(env: dict[str, str], concurrency: int = 2) -> subprocess.Popen[bytes]:
    worker = start(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
    )
    time.sleep(4)  # let it connect before anything is timed
    return worker


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the main process to shut down (it stops its own children), then insist."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - localhost
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0
