"""By the clock: reminders before a gift membership ends, expiry, forgetting unpaid checkouts."""

from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from membership import access, gift_lifecycle
from membership.models import Gift, GiftPurchase, Member, Membership
from membership.tasks import gift_housekeeping
from newsletters.models import OutboundEmail, Subscriber, Subscription
from tests.conftest import link_in
from tests.membership import gift_orders
from tests.membership.gift_orders import a_recipient, gift_email, gifts

pytestmark = pytest.mark.django_db

BOUGHT = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)


def reminders():
    return list(OutboundEmail.objects.filter(kind="gift_ending").order_by("pk"))


@pytest.fixture
def gift_member(client, gift_prices):
    """A reader who redeemed a 3-month gift on BOUGHT."""
    with time_machine.travel(BOUGHT, tick=False):
        gift_orders.paid(a_recipient(1, months=3))
        body = gift_email("friend1@example.org").text_body
        client.post(link_in(body, "/gifts/redeem/").removeprefix("http://testserver"))
    membership = Membership.objects.get()
    assert membership.current_period_end == datetime(2027, 4, 5, 10, 0, tzinfo=UTC)
    return membership


def test_seven_days_before_a_gift_membership_ends_the_member_is_invited_to_continue_once(
    gift_member,
):
    ends = gift_member.current_period_end
    with time_machine.travel(ends - timedelta(days=7, minutes=1)):
        assert gift_housekeeping()["reminded"] == 0
    with time_machine.travel(ends - timedelta(days=7) + timedelta(minutes=1)):
        assert gift_housekeeping()["reminded"] == 1
    with time_machine.travel(ends - timedelta(days=3)):
        assert gift_housekeeping()["reminded"] == 0
        assert gift_lifecycle.remind_ending() == 0
    (reminder,) = reminders()
    assert reminder.to == "friend1@example.org"
    assert reminder.subject == "Your gift membership ends on 5 April"
    assert "you pay nothing until 5 April 2027" in reminder.text_body
    assert "http://testserver/membership/" in reminder.text_body
    assert "Carry on as a member" in unescape(reminder.html_body)


def test_a_member_who_already_pays_is_not_invited(gift_member, plans):
    Membership.objects.create(
        member=gift_member.member,
        source="paid",
        plan=plans["monthly"],
        stripe_subscription_id="sub_continuing",
        status="trialing",
        current_period_end=gift_member.current_period_end,
    )
    with time_machine.travel(gift_member.current_period_end - timedelta(days=2)):
        assert gift_lifecycle.remind_ending() == 0
    assert reminders() == []


def test_another_gift_moves_the_reminder_to_the_new_end(client, gift_member):
    ends = gift_member.current_period_end
    with time_machine.travel(ends - timedelta(days=5)):
        assert gift_lifecycle.remind_ending() == 1
        gift_orders.paid(a_recipient(1, months=1), attempt="c" * 32)
        body = gift_email("friend1@example.org").text_body
        client.post(link_in(body, "/gifts/redeem/").removeprefix("http://testserver"))
    gift_member.refresh_from_db()
    assert gift_member.ending_reminder_sent_at is None
    with time_machine.travel(gift_member.current_period_end - timedelta(days=6)):
        assert gift_lifecycle.remind_ending() == 1
    assert len(reminders()) == 2


def test_at_the_end_access_ends_and_members_lists_close(gift_member, members_list):
    subscriber = Subscriber.objects.create(email="friend1@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=members_list, status="active")
    ends = gift_member.current_period_end
    with time_machine.travel(ends - timedelta(minutes=1)):
        assert access.has_access("friend1@example.org")
        assert access.close_lapsed() == 0
    with time_machine.travel(ends + timedelta(minutes=1)):
        assert not access.has_access("friend1@example.org")
        assert access.close_lapsed() == 1
    assert Subscription.objects.get().status == "unsubscribed"


def test_an_unredeemed_gift_expires_a_year_after_purchase(client, gift_prices):
    with time_machine.travel(BOUGHT, tick=False):
        purchase = gift_orders.paid(a_recipient(1))
    link = link_in(gift_email("friend1@example.org").text_body, "/gifts/redeem/")
    gift = gifts(purchase)[0]
    assert gift.expires_at == datetime(2028, 1, 5, 10, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2028, 1, 5, 9, 59, tzinfo=UTC)):
        assert gift_housekeeping()["expired"] == 0
    with time_machine.travel(datetime(2028, 1, 5, 10, 1, tzinfo=UTC)):
        assert gift_housekeeping()["expired"] == 1
        assert gift_lifecycle.expire_unredeemed() == 0
        response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 410
    assert "This gift has expired" in unescape(response.content.decode())
    assert gifts(purchase)[0].status == "expired"


def test_redeemed_gifts_never_expire(client, gift_member):
    with time_machine.travel(BOUGHT + timedelta(days=400)):
        assert gift_lifecycle.expire_unredeemed() == 0
    assert Gift.objects.get().status == "redeemed"


def test_a_gift_delivered_late_in_its_year_still_gets_a_month_to_be_redeemed(gift_prices):
    with time_machine.travel(BOUGHT, tick=False):
        purchase = gift_orders.paid(a_recipient(1, deliver_on=date(2028, 1, 1)))
    gift = gifts(purchase)[0]
    assert gift.expires_at.date() == date(2028, 1, 31)


def test_checkouts_nobody_paid_are_forgotten_with_their_names_and_messages(gift_prices):
    with time_machine.travel(BOUGHT, tick=False):
        abandoned = gift_orders.bought(a_recipient(1, message="private"), attempt="1" * 32)
        clearing = gift_orders.bought(a_recipient(2), attempt="2" * 32)
        GiftPurchase.objects.filter(pk=clearing.pk).update(status="processing")
        kept = gift_orders.paid(a_recipient(3), attempt="3" * 32)
    with time_machine.travel(BOUGHT + timedelta(days=1)):
        assert gift_lifecycle.forget_abandoned() == 0
    with time_machine.travel(BOUGHT + timedelta(days=3)):
        assert gift_housekeeping()["forgotten"] == 1
    assert set(GiftPurchase.objects.values_list("pk", flat=True)) == {clearing.pk, kept.pk}
    assert not Gift.objects.filter(purchase=abandoned.pk).exists()
    assert not Gift.objects.filter(message="private").exists()


def test_a_failed_payment_is_kept_a_while_after_it_failed(gift_prices):
    with time_machine.travel(BOUGHT, tick=False):
        purchase = gift_orders.bought(a_recipient(1))
    with time_machine.travel(BOUGHT + timedelta(days=10)):
        purchase.mark_unpaid(GiftPurchase.Status.FAILED, timezone.now())
        assert gift_lifecycle.forget_abandoned() == 0
    with time_machine.travel(BOUGHT + timedelta(days=13)):
        assert gift_lifecycle.forget_abandoned() == 1


def test_a_member_without_gifts_is_untouched_by_housekeeping(db):
    member = Member.objects.create(email="other@example.org")
    Membership.objects.create(
        member=member, source="complimentary", current_period_end=timezone.now() + timedelta(days=3)
    )
    assert gift_housekeeping() == {
        "reminded": 0,
        "expired": 0,
        "forgotten": 0,
        "stripe_updates_requeued": 0,
    }
    assert reminders() == []
