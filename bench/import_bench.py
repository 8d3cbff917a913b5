"""Import a generated Mailchimp export of ROWS readers; compare with COPY of the same rows.

    .venv/bin/python bench/import_bench.py [--rows 1000000]

Creates its own database (bench_<name of DATABASE_URL's database>, or BENCH_DATABASE_URL),
writes a Mailchimp-format CSV under bench/out/, then, in the same run and on the same server:

1. COPYs the file into a scratch table with a unique index on the lower-cased address
   (the baseline: PostgreSQL's own bulk load, no Python in the loop);
2. imports it through newsletters.importing.run.run(), the code the admin's Celery task
   calls, in a child process whose peak memory is measured;
3. imports it again, which must change nothing;
4. COPYs the rows the import writes for each reader (subscriber, subscription, ledger line),
   prepared in files beforehand, into copies of the service's own three tables with their
   indexes: the floor for any import into this schema; and again over two connections
   side by side, as the import's two lanes write.

Prints rows/s for both, the ratio (target >= 0.5), and the import's peak memory
(target < 300 MB). The baseline runs before and after the import; the faster is used.
"""

import argparse
import contextlib
import csv
import os
import random
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, bench_database_url, psycopg_url, recreate_database, setup_django

MAILCHIMP_HEADER = [
    "Email Address", "First Name", "Last Name", "Address", "Phone Number", "MEMBER_RATING",
    "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF",
    "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip
FIRST = ["Anna", "Oleh", "Maria", "John", "Iryna", "Petro", "Sofia", "Max", "Taras", "Olena"]
LAST = ["Shevchenko", "Kovalenko", "Bondarenko", "Smith", "Tkachenko", "Kravchenko", "Melnyk"]
DOMAINS = ["example.org", "Example.com", "mail.example.net", "post.example.ua", "EXAMPLE.edu"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(4)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("\ufeff")
        writer.writerow(MAILCHIMP_HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            day = 1 + i % 28
            writer.writerow(
                [
                    f"{first}.{last}{i}@{rng.choice(DOMAINS)}",
                    first,
                    last,
                    "",
                    "",
                    rng.randint(1, 5),
                    f"2021-03-{day:02d} 10:{i % 60:02d}:01",
                    f"203.0.113.{i % 250}",
                    f"2021-03-{day:02d} 10:{i % 60:02d}:40",
                    f"198.51.100.{i % 250}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "2023-01-01 00:00:00",
                    100000 + i,
                    f"eu{i:x}",
                    "",
                    '"Readers","Spring drive"',
                ]
            )


def copy_baseline(url: str, path: Path) -> float:
    """Seconds to COPY the file into a fresh scratch table keyed by the lower-cased address."""
    import psycopg

    columns = ", ".join(f"c{i} text" for i in range(len(MAILCHIMP_HEADER)))
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_scratch")
        conn.execute(f"CREATE TABLE bench_copy_scratch ({columns})")
        conn.execute("CREATE UNIQUE INDEX ON bench_copy_scratch (lower(c0))")
        started = time.perf_counter()
        with conn.cursor() as cursor, open(path, "rb") as data:
            data.read(3)  # the byte-order mark
            with cursor.copy(
                "COPY bench_copy_scratch FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                while block := data.read(1 << 20):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy_scratch")
    return elapsed


def schema_floor(url: str, path: Path, lanes: int = 1) -> float:
    """Seconds to COPY the rows an import writes per reader (a subscriber, a subscription, a
    ledger line) straight into copies of the service's three tables, with their indexes.

    The lower bound for any import into this schema: no Python per row inside the timing (the
    rows are prepared in files first), no lookups, no foreign-key checks. With `lanes`, the
    rows go in chunks of 10,000 dealt out to that many connections copying side by side, as
    the import's lanes do.
    """
    import psycopg

    from newsletters.models import ConsentEvent, Subscriber, Subscription

    names = ("subscriber", "subscription", "event")
    prepared = [{name: OUT / f"floor-{name}-{lane}.tsv" for name in names} for lane in range(lanes)]
    stamp = "2026-01-01 00:00:00+00"
    with open(path, encoding="utf-8-sig", newline="") as source, contextlib.ExitStack() as stack:
        outs = [
            {name: stack.enter_context(open(file, "w")) for name, file in files.items()}
            for files in prepared
        ]
        rows = csv.reader(source)
        next(rows)
        for n, row in enumerate(rows, start=1):
            out = outs[(n - 1) // 10_000 % lanes]
            local, _, domain = row[0].rpartition("@")
            out["subscriber"].write(f"{n}\t{local}@{domain.lower()}\timport\t{stamp}\t{stamp}\n")
            out["subscription"].write(f"{n}\t1\tactive\t{stamp}\t{stamp}\t{stamp}\n")
            out["event"].write(
                f"{n}\t1\tconfirmed\t{stamp}\timport\tMailchimp row {n + 1}\t{row[9]}\t\t"
                f"Double opt-in on the newsroom's Mailchimp signup form\timport-2026\n"
            )
    copies = [
        (Subscriber, "subscriber", "id, email, source, created_at, updated_at"),
        (
            Subscription,
            "subscription",
            "subscriber_id, newsletter_id, status, created_at, requested_at, confirmed_at",
        ),
        (
            ConsentEvent,
            "event",
            "subscriber_id, newsletter_id, action, at, source, source_detail, ip, user_agent,"
            " wording, wording_version",
        ),
    ]

    def lane(files: dict[str, Path]) -> None:
        connect = psycopg.connect(psycopg_url(url), autocommit=True)
        with connect as conn, conn.transaction(), conn.cursor() as cursor:
            for _model, name, columns in copies:
                sql = f"COPY floor_{name} ({columns}) FROM STDIN"
                with cursor.copy(sql) as copy, open(files[name], "rb") as data:
                    while block := data.read(1 << 20):
                        copy.write(block)

    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        for model, name, _columns in copies:
            table = model._meta.db_table
            conn.execute(f"DROP TABLE IF EXISTS floor_{name}")
            conn.execute(f"CREATE TABLE floor_{name} (LIKE {table} INCLUDING ALL)")
        started = time.perf_counter()
        with ThreadPoolExecutor(lanes) as pool:
            list(pool.map(lane, prepared))
        elapsed = time.perf_counter() - started
        for _model, name, _columns in copies:
            conn.execute(f"DROP TABLE floor_{name}")
    for files in prepared:
        for file in files.values():
            file.unlink()
    return elapsed


def child(import_id: int) -> None:
    """Run one import exactly as the Celery task does, in this (measured) process."""
    setup_django(os.environ["DATABASE_URL"], migrate=False)
    from newsletters.importing.run import run

    run(import_id)


def make_run(path: Path) -> int:
    from newsletters.models import Newsletter, SubscriberImport

    newsletter, _ = Newsletter.objects.get_or_create(
        slug="daily-briefing", defaults={"name": "The Daily Briefing"}
    )
    run = SubscriberImport.objects.create(
        file=str(path.relative_to(OUT / "var" / "media")),
        original_name=path.name,
        file_size=path.stat().st_size,
        consent_basis=SubscriberImport.Basis.CONFIRMED_ELSEWHERE,
        consent_note="Double opt-in on the newsroom's Mailchimp signup form, 2019-2025.",
    )
    run.newsletters.set([newsletter])
    return run.pk


def timed_child(import_id: int) -> tuple[float, float]:
    """(seconds, peak MB) of a child process running the import."""
    started = time.perf_counter()
    env = {**os.environ}
    process = subprocess.Popen([sys.executable, __file__, "--child", str(import_id)], env=env)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"the import process failed ({status})")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    url = bench_database_url()
    print(f"database: {url.rsplit('/', 1)[-1]} (recreated)")
    recreate_database(url)
    setup_django(url, migrate=True)
    from newsletters.models import ConsentEvent, Subscriber, SubscriberImport, Subscription

    media = OUT / "var" / "media" / "imports" / "bench"
    media.mkdir(parents=True, exist_ok=True)
    path = media / f"mailchimp-{args.rows}.csv"
    started = time.perf_counter()
    generate(path, args.rows)
    print(f"generated {args.rows:,} Mailchimp rows ({path.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - started:.1f}s")  # fmt: skip

    before = copy_baseline(url, path)
    first = make_run(path)
    import_seconds, peak_mb = timed_child(first)
    after = copy_baseline(url, path)
    again = make_run(path)
    again_seconds, again_peak = timed_child(again)
    floor = schema_floor(url, path)
    floor_two = schema_floor(url, path, lanes=2)

    done = SubscriberImport.objects.get(pk=first)
    redone = SubscriberImport.objects.get(pk=again)
    for run in (done, redone):
        if run.status != SubscriberImport.Status.DONE:
            raise SystemExit(f"import {run.pk} ended {run.status}: {run.error}")
    copy_seconds = min(before, after)
    copy_rate = args.rows / copy_seconds
    import_rate = args.rows / import_seconds
    print(f"COPY baseline:  {copy_rate:>10,.0f} rows/s  ({before:.1f}s before, {after:.1f}s after)")
    print(f"import:         {import_rate:>10,.0f} rows/s  ({import_seconds:.1f}s, whole process)")
    print(f"ratio:          {import_rate / copy_rate:>10.2f}x COPY   (target >= 0.5)")
    floor_rate = args.rows / floor
    print(
        f"schema floor:   {floor_rate:>10,.0f} rows/s  ({floor:.1f}s: COPY of each reader's "
        f"three rows into copies of the service's tables; {floor_rate / copy_rate:.2f}x COPY)"
    )
    floor_two_rate = args.rows / floor_two
    print(
        f"floor, 2 lanes: {floor_two_rate:>10,.0f} rows/s  ({floor_two:.1f}s: the same over two "
        f"connections side by side; {floor_two_rate / copy_rate:.2f}x COPY)"
    )
    print(f"import / floor: {import_rate / floor_rate:>10.2f}x")  # fmt: skip
    print(f"peak memory:    {peak_mb:>10.0f} MB       (target < 300)")
    print(
        f"outcome:        added {done.added:,}, updated {done.updated:,}, skipped {done.skipped:,}"
    )
    print(f"re-import:      {args.rows / again_seconds:>10,.0f} rows/s  ({again_seconds:.1f}s, "
          f"{again_peak:.0f} MB): added {redone.added:,}, updated {redone.updated:,}, "
          f"skipped {redone.skipped:,}")  # fmt: skip
    print(f"rows in tables: {Subscriber.objects.count():,} subscribers, "
          f"{Subscription.objects.count():,} subscriptions, "
          f"{ConsentEvent.objects.count():,} ledger lines")  # fmt: skip
    print(f"peak memory of this process (COPY, checks): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
