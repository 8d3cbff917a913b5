"""Time the subscriber admin at 1,000,000 readers and 3,000,000 subscriptions.

    .venv/bin/python bench/admin_bench.py [--readers 1000000] [--keep]

Creates its own database (bench_<name of DATABASE_URL's database>, or BENCH_DATABASE_URL),
seeds it in SQL, then requests the real admin views through Django's test client, logged
in as a superuser: the changelist, a search by whole address and by prefix, and filtered
views. Each is timed five times after a warm-up; the median is printed against the 150 ms
target. As a baseline measured in the same run, the queries Django's defaults would run
(a full COUNT(*) per page, a substring search) are timed on the same data.

--keep reuses an already seeded database instead of recreating it.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database_url, recreate_database, setup_django

TARGET_MS = 150
RUNS = 5
NAMES = ["anna", "oleh", "maria", "john", "iryna", "petro", "sofia", "max", "taras", "olena"]


def seed(readers: int) -> None:
    from django.db import connection

    from newsletters.demo import seed_newsletters

    lists = [n.pk for n in seed_newsletters()]
    names = "ARRAY[" + ",".join(f"'{n}'" for n in NAMES) + "]"
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO newsletters_subscriber (email, source, created_at, updated_at)
            SELECT ({names})[1 + i %% 10] || '.' || substr(md5(i::text), 1, 6) || i
                       || '@example' || (i %% 500) || '.org',
                   (ARRAY['form','embed','api','import','import','import','staff'])[1 + i %% 7],
                   now() - (%s - i) * interval '20 seconds',
                   now()
            FROM generate_series(1, %s) AS i
            """,  # noqa: S608 - bench data built from constants
            [readers, readers],
        )
        print(f"  {readers:,} subscribers in {time.perf_counter() - started:.0f}s", flush=True)
        started = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO newsletters_subscription
                (subscriber_id, newsletter_id, status, created_at, requested_at, confirmed_at)
            SELECT s.id, l.id,
                   CASE WHEN (s.id + l.id) %% 10 = 0 THEN 'pending'
                        WHEN (s.id + l.id) %% 10 = 1 THEN 'unsubscribed'
                        ELSE 'active' END,
                   s.created_at, s.created_at, s.created_at
            FROM newsletters_subscriber s CROSS JOIN unnest(%s::bigint[]) AS l(id)
            """,
            [lists],
        )
        print(
            f"  {readers * 3:,} subscriptions in {time.perf_counter() - started:.0f}s", flush=True
        )
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE newsletters_subscriber")
        cursor.execute("VACUUM ANALYZE newsletters_subscription")
        print(f"  vacuum and analyze in {time.perf_counter() - started:.0f}s", flush=True)
    from newsletters.models import ListStats

    ListStats.objects.refresh()


def median_ms(action) -> float:
    action()  # warm-up: caches, connections, templates
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url = bench_database_url()
    if not args.keep:
        recreate_database(url)
    print(f"database: {url.rsplit('/', 1)[-1]}{' (kept)' if args.keep else ' (recreated)'}")
    setup_django(url, migrate=True)
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from newsletters.models import Newsletter, Subscriber

    settings.DEBUG = False
    if not Subscriber.objects.exists():
        print("seeding:", flush=True)
        seed(args.readers)
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench",
        password="unused-in-a-bench",  # noqa: S106 - logged in with force_login
    )
    client = Client()
    client.force_login(user)

    some = Subscriber.objects.order_by("pk")[len(NAMES) * 1000 + 7]
    prefix = some.email[:9]
    last_page = -(-Subscriber.objects.count() // 50)
    views = [
        ("subscriber list", "/admin/newsletters/subscriber/"),
        ("list, page 20", "/admin/newsletters/subscriber/?p=20"),
        ("list, last page", f"/admin/newsletters/subscriber/?p={last_page}"),
        ("filter: list, page 5000", "/admin/newsletters/subscriber/?newsletter=weekly-explainer"
         "&p=5000"),
        ("search, whole address", f"/admin/newsletters/subscriber/?q={some.email.upper()}"),
        ("search, prefix", f"/admin/newsletters/subscriber/?q={prefix}"),
        ("search, short prefix", "/admin/newsletters/subscriber/?q=an"),
        ("filter: list + status", "/admin/newsletters/subscriber/?newsletter=editors-picks"
         "&status=pending"),
        ("filter: list", "/admin/newsletters/subscriber/?newsletter=weekly-explainer"),
        ("filter: status", "/admin/newsletters/subscriber/?status=unsubscribed"),
        ("filter: source", "/admin/newsletters/subscriber/?source=staff"),
        ("newsletter list", "/admin/newsletters/newsletter/"),
    ]  # fmt: skip
    print(f"\n{'view':<24}{'median':>10}   target < {TARGET_MS} ms")
    over = 0
    for label, path in views:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        ms = median_ms(lambda path=path: client.get(path))
        over += ms >= TARGET_MS
        print(f"{label:<24}{ms:>8.1f} ms   {'ok' if ms < TARGET_MS else 'OVER'}")

    print("\nbaseline: what Django's defaults would run on every page")
    count_ms = median_ms(lambda: Subscriber.objects.count())
    contains_ms = median_ms(
        lambda: list(Subscriber.objects.filter(email__icontains=prefix).order_by("-pk")[:50])
    )
    print(f"{'full COUNT(*)':<24}{count_ms:>8.1f} ms")
    print(f"{'substring search':<24}{contains_ms:>8.1f} ms")

    print("\nplans (EXPLAIN):")
    for label, queryset in [
        ("whole address", Subscriber.objects.matching(some.email)),
        ("prefix", Subscriber.objects.matching(prefix).order_by("-pk")[:50]),
        (
            "list + status",
            Subscriber.objects.filter(
                subscriptions__newsletter_id=Newsletter.objects.get(slug="editors-picks").pk,
                subscriptions__status="pending",
            ).order_by("-pk")[:50],
        ),
    ]:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        words = {word for line in plan for word in line.replace("(", " ").split()}
        used = sorted(w for w in words if w.startswith("subscri") or w.endswith("_pkey"))
        print(f"  {label:<16} indexes: {', '.join(used) or '(none)'}")
    from newsletters.models import GrowthDay, ListStats

    print("\nthe periodic task that keeps the aggregates (every AUDIENCE_STATS_SECONDS):")
    print(f"{'recount list statuses':<24}{median_ms(ListStats.objects.refresh):>8.1f} ms")
    print(f"{'recount last two days':<24}{median_ms(GrowthDay.objects.refresh_recent):>8.1f} ms")
    print(f"\n{len(views) - over} of {len(views)} views under {TARGET_MS} ms")


if __name__ == "__main__":
    main()
