"""Real Celery worker processes, for the tests that kill one in the middle of its work."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def start(env: dict[str, str], pool: str = "prefork") -> subprocess.Popen[bytes]:
    """A worker on the test database and broker (one process doing the work), in a process
    group of its own so that a test can kill it whole; `env` adds to or overrides settings."""
    database = connection.settings_dict
    login = quote(database["USER"], safe="")
    if database["PASSWORD"]:
        login += ":" + quote(database["PASSWORD"], safe="")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool]
    if pool == "prefork":
        command += ["--concurrency", "1"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        # The test database, which transactional tests really commit to.
        "DATABASE_URL": (
            f"postgres://{login}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)


def kill(worker: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Kill the worker and its pool processes, as the kernel's OOM killer or a crash would."""
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(timeout=30)
