"""The payments demo: Stripe-shaped events, signed and posted to our own webhook by a task."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.core import mail

from membership import demo, stripe_shapes
from membership.models import DemoEvent, Member, Membership, StripeEvent
from tests.conftest import wait_for
from tests.membership.conftest import sign_in_as

ATTEMPT = "0123456789abcdef0123456789abcdef"


def start_demo_checkout(client, plan, email="reader@example.org"):
    response = client.post("/membership/", {"plan": plan.pk, "email": email, "attempt": ATTEMPT})
    assert response.status_code == 303
    return response["Location"]


@pytest.fixture
def live_demo(live_server, settings, demo_payments):
    """Demo payments whose events really travel over HTTP to the live server's webhook."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.mark.django_db
def test_the_demo_checkout_is_labelled_as_a_demo_on_every_page(client, plans, demo_payments):
    url = start_demo_checkout(client, plans["monthly"])
    assert url.startswith("http://testserver/membership/demo/checkout/")
    for path in [url, "/membership/", "/membership/sign-in/"]:
        html = unescape(client.get(path).content.decode())
        assert "Payments demo: this is not Stripe, and no money moves." in html
    html = unescape(client.get(url).content.decode())
    assert "Monthly: £5 a month" in html and "reader@example.org" in html
    assert "<script" not in html and "style=" not in html


@pytest.mark.django_db
def test_the_demo_is_refused_when_debug_is_off(client, plans, demo_payments, settings):
    url = start_demo_checkout(client, plans["monthly"])
    settings.DEBUG = False
    response = client.get(url)
    assert response.status_code == 404
    assert "The payments demo is off" in response.content.decode()
    assert client.post(url).status_code == 404
    assert DemoEvent.objects.count() == 0
    assert "Payments demo" not in client.get("/membership/").content.decode()


@pytest.mark.django_db
def test_the_demo_is_refused_once_a_stripe_key_is_set(client, plans, demo_payments, settings):
    url = start_demo_checkout(client, plans["monthly"])
    settings.STRIPE_SECRET_KEY = "sk_test_51PgafmB7WZ01zgkW"
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_tampered_demo_link_is_refused(client, plans, demo_payments):
    url = start_demo_checkout(client, plans["monthly"])
    response = client.get(url[:-3] + "xyz/")
    assert response.status_code == 400


@pytest.mark.django_db
def test_cancelling_the_demo_checkout_goes_to_the_cancel_page(client, plans, demo_payments):
    url = start_demo_checkout(client, plans["monthly"])
    response = client.post(url, {"choice": "cancel"})
    assert response.status_code == 303
    assert response["Location"] == "http://testserver/membership/cancelled/"
    assert DemoEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_paying_in_the_demo_runs_the_real_webhook_and_handlers(client, plans, live_demo):
    url = start_demo_checkout(client, plans["monthly"])
    response = client.post(url, {"choice": "pay"})

    assert response.status_code == 303
    assert re.match(r".*/membership/welcome/\?session_id=cs_demo_\w+$", response["Location"])
    assert [e.type for e in StripeEvent.objects.order_by("pk")] == [
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
    ]
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert DemoEvent.objects.filter(posted_at__isnull=True).count() == 0
    membership = Membership.objects.get()
    assert membership.member.email == "reader@example.org"
    assert membership.member.stripe_customer_id.startswith("cus_demo_")
    assert membership.plan == plans["monthly"]
    assert membership.gives_access() and membership.renews_at is not None
    assert [m.subject for m in mail.outbox] == ["Welcome, member of The Ledger"]
    welcome = client.get(response["Location"].removeprefix(live_demo))
    assert "Welcome: you're a member" in unescape(welcome.content.decode())


@pytest.mark.django_db(transaction=True)
def test_demo_events_are_shaped_like_the_current_stripe_api(client, plans, live_demo):
    client.post(start_demo_checkout(client, plans["yearly"]), {"choice": "pay"})

    by_type = {e.type: e.payload for e in StripeEvent.objects.all()}
    sub = by_type["customer.subscription.created"]["data"]["object"]
    item = sub["items"]["data"][0]
    assert (
        "current_period_end" not in sub
        and item["current_period_end"] > item["current_period_start"]
    )
    assert item["price"]["id"] == plans["yearly"].stripe_price_id
    invoice = by_type["invoice.paid"]["data"]["object"]
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    assert "subscription" not in invoice
    session = by_type["checkout.session.completed"]["data"]["object"]
    assert (session["mode"], session["subscription"]) == ("subscription", sub["id"])


@pytest.mark.django_db(transaction=True)
def test_paying_twice_for_one_demo_checkout_makes_one_membership(client, plans, live_demo):
    url = start_demo_checkout(client, plans["monthly"])
    client.post(url, {"choice": "pay"})
    client.post(url, {"choice": "pay"})
    assert Membership.objects.count() == 1
    assert StripeEvent.objects.count() == 3
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_portal_cancels_and_fails_renewals_through_the_webhook(client, plans, live_demo):
    client.post(start_demo_checkout(client, plans["monthly"]), {"choice": "pay"})
    membership = Membership.objects.get()
    sign_in_as(client, membership.member)
    mail.outbox.clear()

    portal = client.post("/membership/account/billing/", {"attempt": ATTEMPT})
    assert portal.status_code == 303
    portal_url = portal["Location"].removeprefix(live_demo).removeprefix("http://testserver")
    html = unescape(client.get(portal_url).content.decode())
    assert "Payments demo" in html and "Demo customer portal" in html

    back = client.post(portal_url, {"membership": membership.pk, "action": "cancel"})
    assert back["Location"].endswith("/membership/account/")
    membership.refresh_from_db()
    assert membership.cancel_at_period_end and membership.gives_access()

    client.post(portal_url, {"membership": membership.pk, "action": "fail_renewal"})
    membership.refresh_from_db()
    assert membership.status == "past_due" and membership.gives_access()
    assert [m.subject for m in mail.outbox] == ["Your membership payment didn't go through"]

    client.post(portal_url, {"membership": membership.pk, "action": "renew"})
    membership.refresh_from_db()
    assert membership.status == "active" and membership.past_due_since is None

    client.post(portal_url, {"membership": membership.pk, "action": "cancel_now"})
    membership.refresh_from_db()
    assert membership.status == "canceled" and not membership.gives_access()


@pytest.mark.django_db
def test_the_demo_portal_refuses_someone_elses_membership(client, plans, demo_payments):
    other = Membership.objects.create(
        member=Member.objects.create(email="other@example.org", stripe_customer_id="cus_other"),
        plan=plans["monthly"],
        stripe_subscription_id="sub_other",
    )
    session = demo.create_portal_session("cus_mine", "http://testserver/membership/account/")
    path = session.url.removeprefix("http://testserver")
    response = client.post(path, {"membership": other.pk, "action": "cancel_now"})
    assert response.status_code == 400
    assert DemoEvent.objects.count() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_posts_the_demo_events_so_a_single_web_worker_never_waits_on_itself(
    client, plans, live_demo, redis_worker
):
    url = start_demo_checkout(client, plans["monthly"])
    response = client.post(url, {"choice": "pay"})
    assert response.status_code == 303
    wait_for(lambda: Membership.objects.filter(status="active").exists(), timeout=15)
    wait_for(lambda: StripeEvent.objects.count() == 3, timeout=15)


def test_a_month_later_keeps_the_day_where_the_calendar_has_it():
    start = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert stripe_shapes.add_interval(start, "month") == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert stripe_shapes.add_interval(start, "year") == datetime(2028, 1, 31, 12, tzinfo=UTC)
    assert stripe_shapes.add_interval(datetime(2027, 12, 5, tzinfo=UTC), "month").month == 1
