"""A mixed load for five minutes: page views, signups, confirmations, preference changes and
Stripe webhooks, against gunicorn, PostgreSQL, Redis and a Celery worker.

    .venv/bin/python -m bench.load_bench [--seconds 300] [--rate 50]

Actions arrive at a fixed rate (an open loop, as readers do; a closed loop would measure only
its own queue), spread over many client threads. Prints throughput, p50/p99 per kind of action
and every error. Target: no errors, page views p99 under 100 ms. The default rate is what two
cores hold while they also run the load itself, PostgreSQL, Redis and the worker; a higher
--rate shows where they saturate (bench/README.md has the figures).
"""

import argparse
import json
import os
import queue
import random
import re
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import django
import requests

from bench.harness import (
    WEBHOOK_SECRET,
    celery_worker,
    environment,
    gunicorn,
    percentile,
    prepare_database,
    stop,
    truncate,
)

DB_NAME = "bench_load"
READERS = 2000
MEMBERS = 200
WEIGHTS = {
    "page: newsletters": 30,
    "page: membership": 10,
    "signup": 20,
    "confirm": 15,
    "preferences": 15,
    "webhook": 10,
}
PAGE_VIEWS = {"page: newsletters", "page: membership", "page: confirm", "page: preferences"}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONFIRM_LINK = re.compile(r"https?://\S+/newsletters/confirm/\S+/")


def seed() -> tuple[list[str], list[tuple[str, int]]]:
    """Readers on lists, and paying members; return preference URLs and (subscription, member)."""
    from membership.demo_data import seed_membership
    from membership.models import Member, Membership, Plan
    from newsletters.links import PreferencesLink
    from newsletters.models import Newsletter, Subscriber, Subscription

    seed_membership()
    lists = list(Newsletter.objects.offered())
    readers = Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{n}@load.example.org") for n in range(READERS)
    )
    Subscription.objects.bulk_create(
        Subscription(subscriber=r, newsletter=lists[n % len(lists)], status="active")
        for n, r in enumerate(readers)
    )
    plan = Plan.objects.get(stripe_price_id="price_demo_monthly")
    now = datetime.now(UTC)
    members = Member.objects.bulk_create(
        Member(email=f"member{n}@load.example.org", stripe_customer_id=f"cus_load_{n}")
        for n in range(MEMBERS)
    )
    Membership.objects.bulk_create(
        Membership(
            member=m,
            plan=plan,
            source="paid",
            status="active",
            stripe_subscription_id=f"sub_load_{n}",
            current_period_end=now + timedelta(days=20),
            started_at=now - timedelta(days=10),
            stripe_event_at=now - timedelta(days=1),
        )
        for n, m in enumerate(members)
    )
    preference_urls = [PreferencesLink(subscriber_id=r.pk).url() for r in readers]
    return preference_urls, [(f"sub_load_{n}", m.pk) for n, m in enumerate(members)]


class Load:
    def __init__(self, base: str, preference_urls: list[str], subscriptions: list[tuple[str, int]]):
        self.base = base
        self.preference_urls = preference_urls
        self.subscriptions = subscriptions
        self.confirm_urls: queue.Queue[str] = queue.Queue()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        self.counter = 0
        self.event_clock = int(time.time())

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def timed(
        self, kind: str, method: str, url: str, expect: set[int], **kwargs
    ) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session().request(
                method, url, timeout=10, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            with self.lock:
                self.errors.append(f"{kind}: {exc!r}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[kind].append(elapsed)
            if response.status_code not in expect:
                self.errors.append(f"{kind}: HTTP {response.status_code} for {url}")
        return response

    def form_post(self, kind: str, page_kind: str, url: str, data: dict, expect: set[int]) -> None:
        page = self.timed(page_kind, "GET", url, {200})
        if page is None or page.status_code != 200:
            return
        token = CSRF.search(page.text)
        if token is None:
            with self.lock:
                self.errors.append(f"{page_kind}: no CSRF token on {url}")
            return
        # The CSRF cookie is marked Secure (production settings) and this run is plain http on
        # loopback, so hand it back explicitly as a browser behind TLS would.
        cookie = page.cookies.get("csrftoken") or self.session().cookies.get("csrftoken")
        self.timed(
            kind,
            "POST",
            url,
            expect,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            cookies={"csrftoken": cookie or ""},
        )

    def act(self, kind: str) -> None:
        if kind == "page: newsletters":
            self.timed(kind, "GET", self.base + "/newsletters/", {200})
        elif kind == "page: membership":
            self.timed(kind, "GET", self.base + "/membership/", {200})
        elif kind == "signup":
            with self.lock:
                self.counter += 1
                n = self.counter
            body = {
                "email": f"new{n}-{os.getpid()}@load.example.org",
                "newsletters": ["daily-briefing"],
            }
            self.timed(kind, "POST", self.base + "/api/v1/subscriptions", {202}, json=body)
        elif kind == "confirm":
            try:
                url = self.confirm_urls.get_nowait()
            except queue.Empty:
                return self.act("page: newsletters")
            self.form_post(kind, "page: confirm", url, {}, {200})
        elif kind == "preferences":
            url = random.choice(self.preference_urls)
            lists = random.sample(["daily-briefing", "editors-picks", "weekly-explainer"], k=2)
            self.form_post(kind, "page: preferences", url, {"newsletters": lists}, {200, 302})
        elif kind == "webhook":
            self.webhook()
        return None

    def webhook(self) -> None:
        import stripe

        sub_id, member_id = random.choice(self.subscriptions)
        with self.lock:
            self.event_clock += 1
            created = self.event_clock
        subscription = {
            "id": sub_id,
            "object": "subscription",
            "status": "active",
            "customer": f"cus_load_{member_id}",
            "metadata": {"member_id": str(member_id)},
            "cancel_at_period_end": False,
            "cancel_at": None,
            "ended_at": None,
            "start_date": created - 86400 * 10,
            "items": {
                "data": [
                    {
                        "price": {"id": "price_demo_monthly"},
                        "current_period_end": created + 86400 * 30,
                    }
                ]
            },
        }
        event = {
            "id": f"evt_load_{created}_{random.randrange(10**9)}",
            "object": "event",
            "type": "customer.subscription.updated",
            "created": created,
            "livemode": False,
            "data": {"object": subscription},
        }
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        self.timed(
            "webhook",
            "POST",
            self.base + "/stripe/webhook/",
            {200},
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )

    def poll_confirmations(self, stop_at: float) -> None:
        """Feed the confirmation links the worker emails to the clients, as readers click them."""
        from newsletters.models import OutboundEmail

        last = 0
        while time.time() < stop_at:
            for pk, body in OutboundEmail.objects.filter(
                kind="confirmation", pk__gt=last
            ).values_list("pk", "text_body"):
                last = max(last, pk)
                match = CONFIRM_LINK.search(body)
                if match:
                    self.confirm_urls.put(match.group(0))
            time.sleep(0.5)


def run(load: Load, seconds: int, rate: int, threads: int) -> float:
    kinds = list(WEIGHTS)
    weights = list(WEIGHTS.values())
    total = seconds * rate
    begin = time.perf_counter() + 1
    rng = random.Random(1127)
    plan = rng.choices(kinds, weights=weights, k=total)

    def drive(offset: int) -> None:
        for n in range(offset, total, threads):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            load.act(plan[n])

    poller = threading.Thread(
        target=load.poll_confirmations, args=(time.time() + seconds + 2,), daemon=True
    )
    poller.start()
    pool = [threading.Thread(target=drive, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return total / (time.perf_counter() - begin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--rate", type=int, default=50, help="actions per second")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="bench-load-")
    env = environment(args.port, var_dir, DB_NAME)
    prepare_database(env, DB_NAME)
    truncate(
        DB_NAME,
        "newsletters_subscriber",
        "newsletters_signuprequest",
        "newsletters_outboundemail",
        "membership_member",
        "membership_stripeevent",
    )
    os.environ.update(env)
    django.setup()
    preference_urls, subscriptions = seed()
    print(
        f"load benchmark, {datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores:"
        f" {args.rate} actions/s for {args.seconds}s over {args.threads} client threads"
    )
    web = gunicorn(args.port, env)
    worker = celery_worker(env)
    try:
        load = Load(f"http://127.0.0.1:{args.port}", preference_urls, subscriptions)
        achieved = run(load, args.seconds, args.rate, args.threads)
    finally:
        stop(worker)
        stop(web)
    requests_made = sum(len(v) for v in load.latencies.values())
    print(
        f"  offered {achieved:.0f} actions/s; {requests_made} requests,"
        f" {requests_made / args.seconds:.0f} requests/s"
    )
    print(f"  {'kind':22} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in sorted(load.latencies):
        values = load.latencies[kind]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {kind:22} {len(values):7d} {p50:8.1f} {p99:8.1f}")
    pages = [v for kind, values in load.latencies.items() if kind in PAGE_VIEWS for v in values]
    print(f"  page views overall: p99 {percentile(pages, 0.99):.1f} ms (target < 100 ms)")
    print(f"  errors: {len(load.errors)} (target 0)")
    for error in load.errors[:20]:
        print(f"    {error}")


if __name__ == "__main__":
    main()
