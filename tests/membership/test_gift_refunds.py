"""charge.refunded: before redemption a gift is revoked; after, what it gave is taken back."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from membership import gift_refunds
from membership.models import Gift, GiftPurchase, Membership, StripeEvent
from membership.tasks import deliver_due_gifts
from newsletters.models import ConsentEvent, Subscriber, Subscription
from tests.conftest import link_in
from tests.membership import gift_orders
from tests.membership.conftest import SUBSCRIPTION, event, post_event, stripe_object
from tests.membership.gift_orders import a_recipient, gift_email, gifts, refund

pytestmark = pytest.mark.django_db


def redeem(client, to="friend1@example.org"):
    link = link_in(gift_email(to).text_body, "/gifts/redeem/").removeprefix("http://testserver")
    assert client.post(link).status_code == 302
    return link


def statuses(purchase):
    return [(g.status, g.revoke_reason) for g in gifts(purchase)]


def test_a_refund_before_redemption_revokes_the_gift_and_its_link_and_code_stop_working(
    client, gift_prices
):
    purchase = gift_orders.paid(a_recipient(1))
    body = gift_email("friend1@example.org").text_body
    link = link_in(body, "/gifts/redeem/").removeprefix("http://testserver")
    code = body.split("type this code:\n")[1].split("\n")[0]

    response = refund(client, purchase, purchase.amount_total)

    assert response.status_code == 200
    assert statuses(purchase) == [("revoked", "refunded")]
    assert client.get(link).status_code == 410
    assert "no longer valid" in client.post(link).content.decode()
    coded = client.post("/gifts/redeem/", {"code": code, "email": "x@example.org"})
    assert coded.status_code == 410
    assert Membership.objects.count() == 0


def test_a_refund_before_delivery_cancels_the_delivery(client, gift_prices):
    day = date.today() + timedelta(days=10)
    purchase = gift_orders.paid(a_recipient(1, deliver_on=day))
    refund(client, purchase, purchase.amount_total)
    with time_machine.travel(
        datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    ):
        assert deliver_due_gifts() == 0
    assert gift_email("friend1@example.org") is None
    assert statuses(purchase) == [("revoked", "refunded")]


def test_a_refund_after_redemption_ends_the_gift_membership_and_closes_members_lists(
    client, gift_prices, members_list
):
    purchase = gift_orders.paid(a_recipient(1))
    redeem(client)
    membership = Membership.objects.get()
    subscriber = Subscriber.objects.create(email="friend1@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=members_list, status="active")

    refund(client, purchase, purchase.amount_total)

    membership.refresh_from_db()
    assert membership.status == "canceled" and not membership.gives_access()
    assert Subscription.objects.get().status == "unsubscribed"
    assert ConsentEvent.objects.filter(action="unsubscribed", source_detail="membership ended")
    assert statuses(purchase) == [("revoked", "refunded")]


def test_refunding_one_of_two_stacked_gifts_takes_back_only_its_months(client, gift_prices):
    first = gift_orders.paid(a_recipient(1, months=3))
    redeem(client)
    membership = Membership.objects.get()
    after_first = membership.current_period_end
    gift_orders.paid(a_recipient(1, months=12), attempt="f" * 32)
    redeem(client)
    membership.refresh_from_db()
    assert membership.current_period_end > after_first

    refund(client, first, first.amount_total)

    membership.refresh_from_db()
    assert membership.gives_access()
    given = gifts(first)[0].covers_to - gifts(first)[0].covers_from
    stacked = Gift.objects.get(months=12)
    assert membership.current_period_end == stacked.covers_to - given


def test_a_refund_after_a_gift_pushed_a_paying_members_payment_back_pulls_it_forward(
    client, gift_prices, paid, stripe_api, django_capture_on_commit_callbacks
):
    renews = paid.current_period_end.replace(microsecond=0)
    purchase = gift_orders.paid(a_recipient(1, months=3))
    Gift.objects.update(recipient_email="reader@example.org", link_sent_to="reader@example.org")
    token, _code = Gift.objects.get().credentials()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/gifts/redeem/{token}/")
    with django_capture_on_commit_callbacks(execute=True):
        refund(client, purchase, purchase.amount_total)

    paid.refresh_from_db()
    assert paid.gift_trial_end == renews
    pushes = [r for r in stripe_api.requests if r.path == f"/v1/subscriptions/{SUBSCRIPTION}"]
    assert [r.params["trial_end"] for r in pushes] == [
        str(int(gifts(purchase)[0].covers_to.timestamp())),
        str(int(renews.timestamp())),
    ]
    assert paid.status == "active"  # the paid membership itself goes on


def test_a_partial_refund_asked_for_in_the_admin_revokes_that_gift_only(
    admin_client, client, gift_prices, stripe_api
):
    purchase = gift_orders.paid(a_recipient(1), a_recipient(2))
    second = gifts(purchase)[1]
    response = admin_client.post(
        "/admin/membership/gift/", {"action": "refund", "_selected_action": [second.pk]}
    )
    assert response.status_code == 302
    (request,) = [r for r in stripe_api.requests if r.path == "/v1/refunds"]
    assert request.params == {
        "payment_intent": purchase.payment_intent_id,
        "amount": "1500",
        "metadata[gift_id]": str(second.pk),
        "metadata[gift_purchase_id]": str(purchase.pk),
    }
    assert request.headers["Idempotency-Key"] == f"gift-refund-{second.pk}"

    refund(client, purchase, 1500)

    assert statuses(purchase) == [("delivered", ""), ("revoked", "refunded")]


def test_a_partial_refund_from_stripes_dashboard_revokes_an_undelivered_gift_first(
    client, gift_prices
):
    later = date.today() + timedelta(days=20)
    purchase = gift_orders.paid(a_recipient(1), a_recipient(2, deliver_on=later))
    refund(client, purchase, 1500)
    assert statuses(purchase) == [("delivered", ""), ("revoked", "refunded")]


def test_refund_events_out_of_order_and_repeated_revoke_each_gift_once(client, gift_prices):
    purchase = gift_orders.paid(a_recipient(1), a_recipient(2))
    now = timezone.now()
    everything = event("charge.refunded", _charge(purchase, 3000), created=now)
    part = event("charge.refunded", _charge(purchase, 1500), created=now - timedelta(minutes=5))
    post_event(client, everything)
    post_event(client, part)
    post_event(client, everything)
    purchase.refresh_from_db()
    assert purchase.amount_refunded == 3000
    assert statuses(purchase) == [("revoked", "refunded")] * 2
    assert StripeEvent.objects.filter(type="charge.refunded").count() == 2


def _charge(purchase, refunded):
    return stripe_object(
        "charge",
        payment_intent=purchase.payment_intent_id,
        amount=purchase.amount_total,
        amount_refunded=refunded,
        refunded=refunded >= purchase.amount_total,
    )


def test_a_gift_staff_revoked_counts_when_its_money_is_refunded_later(client, gift_prices):
    purchase = gift_orders.paid(a_recipient(1), a_recipient(2))
    second = gifts(purchase)[1]
    with transaction.atomic():
        assert gift_refunds.revoke(second, Gift.RevokeReason.STAFF)
    refund(client, purchase, 1500)
    assert statuses(purchase) == [("delivered", ""), ("revoked", "refunded")]


def test_a_refunded_membership_payment_is_not_ours_to_act_on(client, gift_prices):
    gift_orders.paid(a_recipient(1))
    charge = stripe_object("charge", payment_intent="pi_membership", amount_refunded=500)
    response = post_event(client, event("charge.refunded", charge))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "not a gift purchase"
    assert Gift.objects.get().status == "delivered"


def test_a_refund_event_without_an_amount_fails_and_can_be_replayed(client, gift_prices):
    purchase = gift_orders.paid(a_recipient(1))
    charge = _charge(purchase, 1500)
    del charge["amount_refunded"]
    response = post_event(client, event("charge.refunded", charge))
    assert response.status_code == 500
    assert StripeEvent.objects.get().status == "failed"
    assert GiftPurchase.objects.get().amount_refunded == 0
    assert Gift.objects.get().status == "delivered"


def test_a_gift_cannot_be_refunded_twice_or_before_it_is_paid(gift_prices, stripe_api):
    purchase = gift_orders.paid(a_recipient(1))
    gift = gifts(purchase)[0]
    gift_refunds.request_refund(gift)
    with pytest.raises(gift_refunds.NotRefundable):
        gift_refunds.request_refund(gift)
    unpaid = gift_orders.bought(a_recipient(2), attempt="e" * 32)
    with pytest.raises(gift_refunds.NotRefundable):
        gift_refunds.request_refund(gifts(unpaid)[0])
    assert len([r for r in stripe_api.requests if r.path == "/v1/refunds"]) == 1


def test_a_refund_after_the_gifts_months_were_used_up_bills_nobody_afterwards(
    client, gift_prices, paid, stripe_api, django_capture_on_commit_callbacks
):
    purchase = gift_orders.paid(a_recipient(1, months=1))
    Gift.objects.update(recipient_email="reader@example.org", link_sent_to="reader@example.org")
    token, _code = Gift.objects.get().credentials()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/gifts/redeem/{token}/")
    pushes = len(stripe_api.requests)
    covers_to = Gift.objects.get().covers_to
    with (
        time_machine.travel(covers_to + timedelta(days=3)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        refund(client, purchase, purchase.amount_total)
    assert statuses(purchase) == [("revoked", "refunded")]
    assert len(stripe_api.requests) == pushes  # no trial_end=now: nothing is billed again
