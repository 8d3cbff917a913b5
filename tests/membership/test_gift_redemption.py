"""Redeeming a gift: by link or code, once; a new membership, a longer one, or a later payment."""

import re
import threading
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from membership import checkout
from membership.models import Drive, Gift, Member, Membership
from membership.months import add_months
from membership.signin import SESSION_KEY
from membership.tasks import gift_housekeeping
from newsletters.models import OutboundEmail
from tests.conftest import link_in
from tests.membership import gift_orders
from tests.membership.conftest import SUBSCRIPTION, event, post_event, sign_in_as, subscription
from tests.membership.gift_orders import a_recipient, gift_email, gifts, paid

pytestmark = pytest.mark.django_db


def link_and_code(to="friend1@example.org"):
    body = gift_email(to).text_body
    link = link_in(body, "/gifts/redeem/").removeprefix("http://testserver")
    code = body.split("type this code:\n")[1].split("\n")[0]
    return link, code


def text(response):
    return unescape(response.content.decode())


def test_opening_the_link_shows_a_button_and_changes_nothing(client, gift_prices):
    paid(a_recipient(1))
    link, _code = link_and_code()
    response = client.get(link)
    assert response.status_code == 200
    assert "Start my membership" in text(response)
    assert "A membership of The Ledger for 3 months" in text(response)
    assert Gift.objects.get().status == "delivered"
    assert Member.objects.count() == 0


def test_redeeming_starts_a_gift_membership_and_signs_the_reader_in(client, gift_prices):
    paid(a_recipient(1))
    link, _code = link_and_code()
    before = timezone.now()
    response = client.post(link)

    assert response.status_code == 302 and response["Location"] == "/gifts/redeemed/"
    member = Member.objects.get()
    assert member.email == "friend1@example.org"
    assert client.session[SESSION_KEY] == member.pk
    membership = member.memberships.get()
    assert (membership.source, membership.status) == ("gift", "active")
    assert membership.gives_access()
    assert add_months(before, 3) <= membership.current_period_end <= add_months(timezone.now(), 3)
    gift = Gift.objects.get()
    assert (gift.status, gift.redemption, gift.membership) == ("redeemed", "started", membership)
    assert "your gift membership has started" in text(client.get("/gifts/redeemed/"))
    account = text(client.get("/membership/account/"))
    assert "Gift" in account and "Ends on" in account and "Carry on as a member" in account
    (told,) = OutboundEmail.objects.filter(kind="gift_redeemed")
    assert told.to == "giver@example.org"
    assert "friend1@example.org has just been redeemed" in told.text_body


def test_a_used_link_cannot_be_used_again(client, gift_prices):
    paid(a_recipient(1))
    link, _code = link_and_code()
    client.post(link)
    other = Client()
    again = other.post(link)
    assert again.status_code == 410
    assert "already been redeemed" in text(again)
    assert other.get(link).status_code == 410
    assert Membership.objects.count() == 1


def test_an_unknown_or_cut_short_link_is_refused(client, gift_prices):
    paid(a_recipient(1))
    link, _code = link_and_code()
    assert client.get(link[:-6] + "/").status_code == 400
    assert client.post("/gifts/redeem/" + "A" * 43 + "/").status_code == 400
    assert Membership.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_of_one_link_at_the_same_moment_make_one_membership(gift_prices):
    paid(a_recipient(1))
    link, _code = link_and_code()
    threads = 6
    barrier = threading.Barrier(threads)
    statuses: list[int] = []

    def redeem() -> None:
        try:
            barrier.wait()
            statuses.append(Client().post(link).status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=redeem) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(statuses) == [302] + [410] * (threads - 1)
    assert Membership.objects.count() == 1
    assert Member.objects.count() == 1
    assert Gift.objects.get().status == "redeemed"
    assert OutboundEmail.objects.filter(kind="gift_redeemed").count() == 1


def test_a_second_gift_extends_a_running_gift_membership(client, gift_prices):
    paid(a_recipient(1, months=3))
    first, _ = link_and_code()
    client.post(first)
    membership = Membership.objects.get()
    ends = membership.current_period_end
    paid(a_recipient(1, months=12))
    second, _ = link_and_code()
    client.post(second)

    membership.refresh_from_db()
    assert Membership.objects.count() == 1
    assert membership.current_period_end == add_months(ends, 12)
    later = Gift.objects.order_by("pk").last()
    assert (later.redemption, later.covers_from) == ("extended_gift", ends)


def test_a_paying_member_has_their_next_payment_pushed_back_in_stripe(
    client, gift_prices, paid, stripe_api, django_capture_on_commit_callbacks
):
    # `paid` is the member's own paid membership; the gift is for their address.
    renews = paid.current_period_end
    gift_orders.paid(a_recipient(1, months=3))
    Gift.objects.update(recipient_email="reader@example.org", link_sent_to="reader@example.org")
    gift = Gift.objects.get()
    token, _code = gift.credentials()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/gifts/redeem/{token}/")

    assert response.status_code == 302
    assert Membership.objects.count() == 1  # no second membership: the paid one goes on
    paid.refresh_from_db()
    pushed = add_months(renews.replace(microsecond=0), 3)  # Stripe counts whole seconds
    assert paid.gift_trial_end == pushed and paid.gift_trial_end_sent_at is not None
    (request,) = [r for r in stripe_api.requests if r.path.startswith("/v1/subscriptions/")]
    assert (request.method, request.path) == ("POST", f"/v1/subscriptions/{SUBSCRIPTION}")
    assert request.params == {
        "trial_end": str(int(pushed.timestamp())),
        "proration_behavior": "none",
    }
    assert request.headers["Idempotency-Key"].startswith(f"trial-end-{paid.pk}-")
    gift.refresh_from_db()
    assert gift.redemption == "extended_paid" and gift.membership == paid
    html = text(client.get("/gifts/redeemed/"))
    assert f"you won't pay again until {pushed:%-d %B %Y}" in html

    # Stripe's own event then mirrors the new billing date.
    updated = subscription(status="trialing", period_end=pushed, member=paid.member)
    assert post_event(client, event("customer.subscription.updated", updated)).status_code == 200
    paid.refresh_from_db()
    assert paid.status == "trialing" and paid.current_period_end == pushed
    assert paid.gives_access() and paid.renews_at == pushed


def test_stripe_down_when_pushing_the_payment_keeps_the_redemption_and_housekeeping_retries(
    client, gift_prices, paid, stripe_api, django_capture_on_commit_callbacks
):
    gift_orders.paid(a_recipient(1))
    Gift.objects.update(recipient_email="reader@example.org", link_sent_to="reader@example.org")
    token, _code = Gift.objects.get().credentials()
    stripe_api.fail(500, "An unexpected error occurred")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/gifts/redeem/{token}/")
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.gift_trial_end is not None and paid.gift_trial_end_sent_at is None
    assert Gift.objects.get().status == "redeemed"

    stripe_api.error = None
    gift_housekeeping()
    paid.refresh_from_db()
    assert paid.gift_trial_end_sent_at is not None


def test_a_signed_in_member_redeems_a_typed_code_at_once(client, gift_prices, member):
    paid(a_recipient(1))
    _link, code = link_and_code()
    sign_in_as(client, member)
    response = client.post("/gifts/redeem/", {"code": code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert Gift.objects.get().redeemed_by == member
    assert member.memberships.get().source == "gift"


def test_a_typed_code_without_signing_in_emails_a_link_to_the_address_given(
    client, gift_prices, django_capture_on_commit_callbacks
):
    paid(a_recipient(1))
    _link, code = link_and_code()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/gifts/redeem/", {"code": code, "email": "paper@example.org"})
    assert response.status_code == 200
    assert "We've emailed a link to paper@example.org" in text(response)
    assert Member.objects.count() == 0  # a code alone signs nobody in
    (claim_email,) = [m for m in mail.outbox if m.to == ["paper@example.org"]]
    claim = link_in(claim_email.body, "/gifts/claim/").removeprefix("http://testserver")

    assert "Start my membership" in text(client.get(claim))
    response = client.post(claim)
    assert response.status_code == 302
    member = Member.objects.get()
    assert member.email == "paper@example.org"
    assert client.session[SESSION_KEY] == member.pk
    assert client.post(claim).status_code == 410


def test_a_wrong_code_is_explained_and_guessing_is_limited(client, gift_prices, settings):
    settings.GIFT_CODE_RATE_PER_IP = "3/10m"
    paid(a_recipient(1))
    response = client.post("/gifts/redeem/", {"code": "AAAA-BBBB-CCCC", "email": "x@example.org"})
    assert response.status_code == 400
    assert "We don't know that code." in text(response) and 'role="alert"' in text(response)
    short = client.post("/gifts/redeem/", {"code": "AAAA", "email": "x@example.org"})
    assert "A gift code has twelve letters and numbers." in text(short)
    client.post("/gifts/redeem/", {"code": "AAAA-BBBB-DDDD", "email": "x@example.org"})
    assert client.post("/gifts/redeem/", {"code": "A"}).status_code == 429
    assert Membership.objects.count() == 0


def test_a_claim_link_dies_when_the_buyer_corrects_the_address(client, gift_prices):
    from membership import gift_delivery, gift_redemption

    paid(a_recipient(1))
    gift = Gift.objects.get()
    claim = gift_redemption.claim_url(gift, "paper@example.org").removeprefix("http://testserver")
    gift_delivery.change_address(gift, "right@example.org")
    assert client.post(claim).status_code == 400
    assert Membership.objects.count() == 0


def test_an_unredeemed_gift_cannot_be_redeemed_after_it_expires(client, gift_prices):
    purchase = paid(a_recipient(1))
    link, _code = link_and_code()
    gift = gifts(purchase)[0]
    with time_machine.travel(gift.expires_at + timedelta(minutes=1)):
        response = client.post(link)
        assert response.status_code == 410
        assert "This gift has expired" in text(response)
    assert Membership.objects.count() == 0


# Carrying on after a gift.


def test_joining_during_a_gift_membership_starts_paying_when_the_gift_ends(
    client, gift_prices, plans, stripe_api
):
    paid(a_recipient(1))
    link, _code = link_and_code()
    client.post(link)
    ends = Membership.objects.get().current_period_end
    join = text(client.get("/membership/"))
    assert f"your first payment is on {ends:%-d %B %Y}" in join

    client.post(
        "/membership/",
        {"plan": plans["monthly"].pk, "email": "friend1@example.org", "attempt": "b" * 32},
    )
    (request,) = [r for r in stripe_api.requests if r.path == "/v1/checkout/sessions"]
    assert request.params["mode"] == "subscription"
    assert request.params["subscription_data[trial_end]"] == str(int(ends.timestamp()))


def test_a_gift_ending_within_two_days_gives_no_trial(gift_prices):
    member = Member.objects.create(email="friend@example.org")
    ends = timezone.now() + timedelta(hours=30)
    Membership.objects.create(member=member, source="gift", current_period_end=ends)
    assert checkout.gift_trial_end(member) is None
    Membership.objects.filter(member=member).update(current_period_end=ends + timedelta(days=5))
    assert checkout.gift_trial_end(member) == ends + timedelta(days=5)


def test_the_redeemed_page_needs_the_reader_who_redeemed(client, gift_prices):
    response = client.get("/gifts/redeemed/")
    assert response.status_code == 302
    assert re.search(r"/membership/account/$", response["Location"])


def test_a_redeemed_gift_counts_in_drives_that_count_gifts(client, gift_prices):
    now = timezone.now()
    window = {"starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=1)}
    gifts_count = Drive.objects.create(slug="with-gifts", title="A", goal=10, **window)
    paid_only = Drive.objects.create(
        slug="paid-only", title="B", goal=10, counts_gift=False, **window
    )
    paid(a_recipient(1))
    link, _code = link_and_code()
    client.post(link)
    assert gifts_count.count_new_members() == 1
    assert paid_only.count_new_members() == 0
