"""Delivery on the chosen day, by beat, and the buyer's gift page."""

from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from membership import gift_delivery
from membership.models import Gift
from membership.tasks import deliver_due_gifts
from newsletters.models import OutboundEmail
from tests.conftest import wait_for
from tests.membership.gift_orders import BUYER, a_recipient, gift_email, gifts, paid

pytestmark = pytest.mark.django_db

BOUGHT = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
DAY = date(2027, 3, 24)


def sent(kind):
    return list(OutboundEmail.objects.filter(kind=kind).order_by("pk"))


@pytest.fixture
def scheduled(gift_prices, settings):
    settings.NEWSROOM_TIME_ZONE = "Europe/London"
    settings.GIFT_DELIVERY_HOUR = 8
    with time_machine.travel(BOUGHT):
        return paid(a_recipient(1, deliver_on=DAY), a_recipient(2, deliver_on=DAY))


def test_a_gift_for_a_day_arrives_that_morning_in_the_newsroom_and_not_before(scheduled):
    with time_machine.travel(datetime(2027, 3, 24, 7, 59, tzinfo=UTC)):
        assert deliver_due_gifts() == 0
    assert sent("gift") == []
    with time_machine.travel(datetime(2027, 3, 24, 8, 0, tzinfo=UTC)):
        assert deliver_due_gifts() == 2
    assert [m.to for m in sent("gift")] == ["friend1@example.org", "friend2@example.org"]
    assert {g.status for g in gifts(scheduled)} == {"delivered"}
    (told,) = sent("gifts_delivered")
    assert told.to == BUYER and told.subject == "Your gifts have been delivered"
    assert "friend1@example.org (3 months)" in told.text_body


def test_the_morning_follows_summer_time(gift_prices, settings):
    settings.NEWSROOM_TIME_ZONE = "Europe/London"
    with time_machine.travel(BOUGHT):
        paid(a_recipient(1, deliver_on=date(2027, 4, 2)))
    with time_machine.travel(datetime(2027, 4, 2, 6, 59, tzinfo=UTC)):
        assert deliver_due_gifts() == 0
    with time_machine.travel(datetime(2027, 4, 2, 7, 0, tzinfo=UTC)):  # 08:00 BST
        assert deliver_due_gifts() == 1


def test_delivery_runs_again_and_at_once_without_sending_twice(scheduled):
    with time_machine.travel(datetime(2027, 3, 24, 9, 0, tzinfo=UTC)):
        assert deliver_due_gifts() == 2
        assert deliver_due_gifts() == 0
        assert gift_delivery.deliver_due() == 0
    assert len(sent("gift")) == 2 and len(sent("gifts_delivered")) == 1


def test_a_gift_nobody_ran_delivery_for_goes_out_at_the_next_run(scheduled):
    with time_machine.travel(datetime(2027, 3, 27, 12, 0, tzinfo=UTC)):
        assert deliver_due_gifts() == 2


def test_beat_runs_delivery_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deliver-gifts"]
    assert entry["task"] == "membership.tasks.deliver_due_gifts"
    assert entry["schedule"] <= 900
    assert settings.CELERY_BEAT_SCHEDULE["gift-housekeeping"]["task"] == (
        "membership.tasks.gift_housekeeping"
    )


# The gift page.


def page_path(purchase):
    return purchase.page_url().removeprefix("http://testserver")


def test_the_receipt_links_to_a_gift_page_showing_each_gift_without_names_or_messages(
    client, gift_prices
):
    purchase = paid(a_recipient(1, message="A secret note"), a_recipient(2, deliver_on=DAY))
    receipt = sent("gift_receipt")[0]
    assert purchase.page_url() in receipt.text_body
    response = client.get(page_path(purchase))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = unescape(response.content.decode())
    assert "3 months for friend1@example.org" in html
    assert "Delivered, not yet redeemed" in html
    assert "Paid, waiting for its delivery date" in html
    assert f"On the morning of {DAY:%-d %B %Y}" in html
    assert "Friend 1" not in html and "A secret note" not in html
    assert "<script" not in html and "style=" not in html


def test_a_tampered_or_foreign_gift_page_link_is_refused(client, gift_prices):
    purchase = paid(a_recipient(1))
    path = page_path(purchase)
    assert client.get(path[:-4] + "abc/").status_code == 400
    assert client.get("/gifts/manage/nonsense/").status_code == 400
    other = paid(a_recipient(2))
    gift = gifts(other)[0]
    # This page's key cannot act on another purchase's gift.
    response = client.post(f"{path}{gift.pk}/resend/")
    assert response.status_code == 404


def test_a_gift_page_link_stops_working_after_its_time(client, gift_prices, settings):
    purchase = paid(a_recipient(1))
    path = page_path(purchase)
    with time_machine.travel(timezone.now() + timedelta(days=settings.GIFT_PAGE_LINK_DAYS + 1)):
        assert client.get(path).status_code == 410


def test_resending_a_delivered_gift_sends_the_same_link_and_code(client, gift_prices):
    purchase = paid(a_recipient(1))
    first = gift_email("friend1@example.org")
    gift = gifts(purchase)[0]
    response = client.post(f"{page_path(purchase)}{gift.pk}/resend/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?done=resend#gift-{gift.pk}")
    second = gift_email("friend1@example.org")
    assert second.pk != first.pk and second.text_body == first.text_body
    assert "We've sent the gift email again." in unescape(
        client.get(response["Location"]).content.decode()
    )


def test_resending_is_limited_per_day(client, gift_prices, settings):
    settings.GIFT_RESENDS_PER_DAY = 2
    purchase = paid(a_recipient(1))
    gift = gifts(purchase)[0]
    path = f"{page_path(purchase)}{gift.pk}/resend/"
    assert [client.post(path).status_code for _ in range(3)] == [302, 302, 429]
    assert len(sent("gift")) == 3  # the delivery, and two resends


def test_correcting_the_address_of_a_delivered_gift_sends_a_fresh_link_and_kills_the_old(
    client, gift_prices
):
    purchase = paid(a_recipient(1))
    gift = gifts(purchase)[0]
    old = gift_email("friend1@example.org").text_body
    response = client.post(
        f"{page_path(purchase)}{gift.pk}/address/", {f"g{gift.pk}-email": " Right@Example.ORG "}
    )
    assert response.status_code == 302
    gift.refresh_from_db()
    assert gift.recipient_email == gift.link_sent_to == "Right@example.org"
    new = gift_email("Right@example.org").text_body
    old_link = old.split("(the link works once):\n")[1].split("\n")[0]
    new_link = new.split("(the link works once):\n")[1].split("\n")[0]
    assert old_link != new_link
    assert client.get(old_link.removeprefix("http://testserver")).status_code == 400
    assert client.get(new_link.removeprefix("http://testserver")).status_code == 200


def test_a_bad_address_is_explained_and_changes_nothing(client, gift_prices):
    purchase = paid(a_recipient(1))
    gift = gifts(purchase)[0]
    response = client.post(
        f"{page_path(purchase)}{gift.pk}/address/", {f"g{gift.pk}-email": "nope"}
    )
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert 'role="alert"' in html and "Please enter a valid email address." in html
    gift.refresh_from_db()
    assert gift.recipient_email == "friend1@example.org"
    assert len(sent("gift")) == 1


def test_moving_the_delivery_date_before_delivery(client, gift_prices):
    with time_machine.travel(BOUGHT):
        purchase = paid(a_recipient(1, deliver_on=DAY))
        gift = gifts(purchase)[0]
        path = f"{page_path(purchase)}{gift.pk}/date/"
        response = client.post(path, {f"g{gift.pk}-deliver_on": "2027-04-20"})
        assert response.status_code == 302
        gift.refresh_from_db()
        assert gift.deliver_on == date(2027, 4, 20) and gift.status == "scheduled"
        bad = client.post(path, {f"g{gift.pk}-deliver_on": "2020-01-01"})
        assert bad.status_code == 400
        assert "Choose today or a day ahead." in unescape(bad.content.decode())
    with time_machine.travel(datetime(2027, 3, 24, 9, tzinfo=UTC)):
        assert deliver_due_gifts() == 0
    with time_machine.travel(datetime(2027, 4, 20, 9, tzinfo=UTC)):
        assert deliver_due_gifts() == 1


def test_clearing_the_date_delivers_the_gift_now(client, gift_prices):
    with time_machine.travel(BOUGHT):
        purchase = paid(a_recipient(1, deliver_on=DAY))
        gift = gifts(purchase)[0]
        client.post(f"{page_path(purchase)}{gift.pk}/date/", {f"g{gift.pk}-deliver_on": ""})
    gift.refresh_from_db()
    assert gift.status == "delivered"
    assert len(sent("gift")) == 1 and len(sent("gifts_delivered")) == 1


def test_the_date_cannot_change_once_delivered(client, gift_prices):
    purchase = paid(a_recipient(1))
    gift = gifts(purchase)[0]
    response = client.post(
        f"{page_path(purchase)}{gift.pk}/date/", {f"g{gift.pk}-deliver_on": "2099-01-01"}
    )
    assert response.status_code == 409
    assert "That can't be changed any more" in unescape(response.content.decode())
    gift.refresh_from_db()
    assert gift.deliver_on is None


def test_only_a_delivered_unredeemed_gift_can_be_resent(client, gift_prices):
    purchase = paid(a_recipient(1, deliver_on=DAY + timedelta(days=700)))
    gift = gifts(purchase)[0]
    assert gift.status == "scheduled"
    assert client.post(f"{page_path(purchase)}{gift.pk}/resend/").status_code == 409
    assert sent("gift") == []
    Gift.objects.filter(pk=gift.pk).update(status=Gift.Status.REDEEMED)
    assert client.post(f"{page_path(purchase)}{gift.pk}/address/", {}).status_code == 409


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_due_gifts_and_sends_their_emails(gift_prices, redis_worker):
    with time_machine.travel(BOUGHT):
        paid(a_recipient(1, deliver_on=DAY))
    OutboundEmail.objects.all().delete()  # the receipt went already; watch only the delivery
    with time_machine.travel(datetime(2027, 3, 24, 9, 0, tzinfo=UTC), tick=True):
        deliver_due_gifts.delay()
        wait_for(lambda: OutboundEmail.objects.filter(kind="gift", status="sent").exists())
        wait_for(
            lambda: OutboundEmail.objects.filter(kind="gifts_delivered", status="sent").exists()
        )
    assert Gift.objects.get().status == "delivered"
