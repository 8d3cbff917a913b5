"""Sending one edition to a million readers, with one worker process and then with two.

    .venv/bin/python bench/send_bench.py [--subscribers 1000000] [--workers 1 2]

Fills a list in its own database (bench_send) with active subscribers, then for each worker
count: starts that many Celery worker processes (solo pool: one process each), presses
"send now" (editions.send_now, as the admin does), and times from that call until the
counting ESP (bench.backends.CountingESP, an anymail backend that supports batch sending and
only counts) has been handed every message. The time includes the snapshot of the list into
recipient rows. Prints recipients per second, the scaling ratio (two workers over one, the
baseline measured in the same run) and each worker's peak memory (VmHWM).

Needs PostgreSQL and Redis on localhost. CELERY_BROKER_URL and REDIS_URL, when set, choose the
Redis databases (defaults: 13 and 12); the count lives under bench-send:* in REDIS_URL.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = "bench_send"
PG = "postgres://postgres@127.0.0.1:5432"
LIST_SLUG = "bench-list"


def environment(var_dir: str, batch_size: int) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/12"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://news.example.org",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/13",
        "EMAIL_BACKEND": "bench.backends.CountingESP",
        "DEFAULT_FROM_EMAIL": "Bench <bench@news.example.org>",
        "BENCH_RECORD_URL": redis_url,
        "EDITION_MERGE_FIELD": "{{NAME}}",
        "EDITION_BATCH_SIZE": str(batch_size),
        "VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare_database(env: dict[str, str], subscribers: int) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("TRUNCATE newsletters_editionrecipient")
        conn.execute("DELETE FROM newsletters_edition")
        conn.execute(
            "INSERT INTO newsletters_newsletter"
            " (slug, name, description, is_public, audience, position, created_at)"
            " VALUES (%s, 'Bench list', '', true, 'everyone', 0, now())"
            " ON CONFLICT (slug) DO NOTHING",
            [LIST_SLUG],
        )
        (list_id,) = conn.execute(
            "SELECT id FROM newsletters_newsletter WHERE slug = %s", [LIST_SLUG]
        ).fetchone()  # type: ignore[misc]
        (have,) = conn.execute(
            "SELECT count(*) FROM newsletters_subscription WHERE newsletter_id = %s", [list_id]
        ).fetchone()  # type: ignore[misc]
        if have != subscribers:
            print(f"  filling the list with {subscribers:,} subscribers (once)...")
            conn.execute(
                "TRUNCATE newsletters_subscription, newsletters_subscriber,"
                " newsletters_consentevent, newsletters_outboundemail CASCADE"
            )
            conn.execute(
                "INSERT INTO newsletters_subscriber (email, created_at, updated_at, soft_bounces)"
                " SELECT 'reader' || n || '@bench.example.org', now(), now(), 0"
                " FROM generate_series(1, %s) AS n",
                [subscribers],
            )
            conn.execute(
                "INSERT INTO newsletters_subscription (subscriber_id, newsletter_id, status,"
                " created_at, requested_at, confirmed_at)"
                " SELECT id, %s, 'active', now(), now(), now() FROM newsletters_subscriber",
                [list_id],
            )
        conn.execute("VACUUM ANALYZE")


def start_worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    command = [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def one_run(env: dict[str, str], workers: int, subscribers: int, timeout: float) -> dict:
    import django

    os.environ.update(env)
    django.setup()
    from config.celery import app
    from newsletters import editions
    from newsletters.models import Edition, Newsletter

    with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("TRUNCATE newsletters_editionrecipient")
        conn.execute("DELETE FROM newsletters_edition")
        conn.execute("VACUUM ANALYZE newsletters_editionrecipient")
    record = redis.Redis.from_url(env["BENCH_RECORD_URL"])
    for key in ("count", "last", "calls"):
        record.delete(f"bench-send:{key}")
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)  # type: ignore[attr-defined]
    edition = Edition.objects.create(
        newsletter=Newsletter.objects.get(slug=LIST_SLUG),
        subject="The bench edition",
        preheader="A million readers",
        html_body="<h1>Hello</h1>" + '<p>News, <a href="https://example.org/">a link</a>.</p>' * 30,
    )
    procs = [start_worker(env, f"bench{n}") for n in range(workers)]
    try:
        time.sleep(6)  # let the workers connect before the clock starts
        began = time.time()
        editions.send_now(edition)
        deadline = began + timeout
        handed = 0
        while time.time() < deadline:
            handed = int(record.get("bench-send:count") or 0)
            if handed >= subscribers:
                break
            time.sleep(0.2)
        last = float(record.get("bench-send:last") or time.time())
        peaks = [peak_memory_mb(p.pid) for p in procs]
    finally:
        for proc in procs:
            stop(proc)
    edition.refresh_from_db()
    snapshot = (edition.started_at.timestamp() - began) if edition.started_at else float("nan")
    elapsed = last - began
    return {
        "workers": workers,
        "handed": handed,
        "calls": int(record.get("bench-send:calls") or 0),
        "seconds": elapsed,
        "rate": handed / elapsed if elapsed > 0 else 0.0,
        "snapshot": snapshot,
        "peaks": peaks,
        "status": edition.status,
        "sent": edition.sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="bench-send-")
    env = environment(var_dir, args.batch_size)
    print(
        f"send benchmark, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores,"
        f" {args.subscribers:,} subscribers, batches of {args.batch_size}"
    )
    prepare_database(env, args.subscribers)
    results = []
    for workers in args.workers:
        result = one_run(env, workers, args.subscribers, args.timeout)
        results.append(result)
        peaks = ", ".join(f"{peak:.0f} MB" for peak in result["peaks"])
        print(
            f"  {workers} worker process(es): {result['handed']:,} handed off in"
            f" {result['seconds']:.1f} s = {result['rate']:,.0f} recipients/s"
            f" ({result['calls']:,} ESP calls; snapshot {result['snapshot']:.1f} s;"
            f" edition {result['status']}, {result['sent']:,} marked sent);"
            f" peak memory per worker: {peaks}"
        )
    if len(results) >= 2 and results[0]["rate"]:
        ratio = results[-1]["rate"] / results[0]["rate"]
        print(
            f"  scaling {results[-1]['workers']} workers / {results[0]['workers']}:"
            f" {ratio:.2f}x   (targets: >= 5,000 recipients/s with two workers,"
            " close to linear, < 500 MB per worker)"
        )


if __name__ == "__main__":
    main()
