"""Stripe's word on gift payments: signed events to /stripe/webhook/, as for memberships."""

import json
from datetime import date, timedelta
from html import unescape

import pytest
from django.core import mail
from django.utils import timezone

from membership.models import Gift, GiftPurchase, StripeEvent
from newsletters.models import OutboundEmail
from tests.membership.conftest import WEBHOOK, event, post_event
from tests.membership.gift_orders import (
    BUYER,
    a_recipient,
    bought,
    gifts,
    pay,
    session_for,
)

pytestmark = pytest.mark.django_db


def kinds():
    return sorted(OutboundEmail.objects.values_list("kind", flat=True))


def test_an_unsigned_payment_event_is_refused_and_changes_nothing(client, gift_prices):
    purchase = bought(a_recipient(1))
    body = json.dumps(event("checkout.session.completed", session_for(purchase)))
    response = client.post(WEBHOOK, body, content_type="application/json")
    assert response.status_code == 400
    purchase.refresh_from_db()
    assert purchase.status == "pending" and StripeEvent.objects.count() == 0


def test_a_paid_checkout_delivers_gifts_due_now_and_schedules_the_rest(
    client, gift_prices, django_capture_on_commit_callbacks
):
    later = date.today() + timedelta(days=40)
    purchase = bought(
        a_recipient(1, message="Enjoy <b>this</b> & more"), a_recipient(2, deliver_on=later)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(client, purchase)

    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome.startswith("gift purchase paid; 1 of 2")
    purchase.refresh_from_db()
    assert purchase.status == "paid" and purchase.payment_intent_id == "pi_3PgafyB7WZ01zgkW0sjxsAJo"
    now_gift, later_gift = gifts(purchase)
    assert now_gift.status == "delivered" and now_gift.link_sent_to == "friend1@example.org"
    assert later_gift.status == "scheduled" and later_gift.token_hash is None
    assert later_gift.expires_at > purchase.paid_at + timedelta(days=364)

    by_kind = {m.tags[0]: m for m in mail.outbox}
    assert sorted(by_kind) == ["gift", "gift_receipt"]
    receipt = by_kind["gift_receipt"]
    assert receipt.to == [BUYER]
    assert "friend1@example.org (£15): sent today" in receipt.body
    assert f"arrives on the morning of {later:%-d %B %Y}" in receipt.body
    assert "/gifts/manage/" in receipt.body
    assert "Friend 1" not in receipt.body and "Enjoy" not in receipt.body  # the gift email's alone


def test_the_gift_email_carries_the_names_and_message_escaped_and_a_link_and_a_code(
    client, gift_prices, django_capture_on_commit_callbacks
):
    purchase = bought(
        a_recipient(1, message="<script>alert(1)</script>\nSee you soon", name="Ann & Co"),
        buyer_name="Bea <Giver>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase)

    (message,) = [m for m in mail.outbox if m.tags == ["gift"]]
    assert message.to == ["friend1@example.org"]
    assert message.subject == "A gift for you: membership of The Ledger"
    assert "Dear Ann & Co," in message.body
    assert "Bea <Giver> has given you a membership of The Ledger for 3 months" in message.body
    assert "<script>alert(1)</script>\nSee you soon" in message.body  # plain text: as typed
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert (
        "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;<br>See you soon" in html
    )
    assert "Bea &lt;Giver&gt; has given you" in html and "Ann &amp; Co" in html
    assert "/gifts/redeem/" in message.body and "/gifts/redeem/" in html
    code = message.body.split("type this code:\n")[1].split("\n")[0]
    assert len(code) == 14 and code.count("-") == 2
    assert "List-Unsubscribe" not in message.extra_headers


def test_names_with_line_breaks_never_reach_a_header(
    client, gift_prices, django_capture_on_commit_callbacks
):
    # The form refuses these; a row written some other way must still be harmless.
    purchase = bought(
        a_recipient(1, name="Eve\r\nBcc: victim@example.org"),
        buyer_name="Mallory\r\nSubject: you won",
    )
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase)
    for message in mail.outbox:
        headers = message.message().as_string().split("\n\n")[0]
        assert "victim@example.org" not in headers and "you won" not in headers
        assert "\r" not in message.subject and "\n" not in message.subject
        assert message.bcc == [] and message.cc == []


def test_a_payment_that_clears_later_waits_for_stripes_word(
    client, gift_prices, django_capture_on_commit_callbacks
):
    purchase = bought(a_recipient(1))
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase, payment_status="unpaid")
    purchase.refresh_from_db()
    assert purchase.status == "processing"
    assert gifts(purchase)[0].status == "awaiting"
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase, kind="checkout.session.async_payment_succeeded")
    purchase.refresh_from_db()
    assert purchase.status == "paid"
    assert gifts(purchase)[0].status == "delivered"
    assert sorted(m.tags[0] for m in mail.outbox) == ["gift", "gift_receipt"]


def test_a_payment_that_fails_later_sends_nothing_and_tells_the_buyer(
    client, gift_prices, django_capture_on_commit_callbacks
):
    purchase = bought(a_recipient(1), a_recipient(2))
    pay(client, purchase, payment_status="unpaid")
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase, kind="checkout.session.async_payment_failed", payment_status="unpaid")

    purchase.refresh_from_db()
    assert purchase.status == "failed"
    assert {g.status for g in gifts(purchase)} == {"unpaid"}
    (message,) = mail.outbox
    assert message.to == [BUYER]
    assert message.subject == "Your payment for gift memberships didn't go through"
    assert "no gifts will be sent and nothing was taken" in message.body
    assert "http://testserver/gifts/" in message.body


def test_a_late_unpaid_completion_never_undoes_a_payment_stripe_confirmed(client, gift_prices):
    purchase = bought(a_recipient(1))
    now = timezone.now()
    pay(client, purchase, kind="checkout.session.async_payment_succeeded", created=now)
    pay(client, purchase, payment_status="unpaid", created=now - timedelta(seconds=30))
    pay(client, purchase, kind="checkout.session.async_payment_failed", created=now)

    purchase.refresh_from_db()
    assert purchase.status == "paid"
    assert gifts(purchase)[0].status == "delivered"
    assert kinds() == ["gift", "gift_receipt"]


def test_two_events_saying_paid_send_one_receipt_and_one_gift(client, gift_prices):
    purchase = bought(a_recipient(1))
    pay(client, purchase)
    pay(client, purchase, kind="checkout.session.async_payment_succeeded")
    assert kinds() == ["gift", "gift_receipt"]


def test_a_repeated_event_is_acknowledged_and_does_nothing(client, gift_prices):
    purchase = bought(a_recipient(1))
    envelope = event("checkout.session.completed", session_for(purchase))
    assert post_event(client, envelope).status_code == 200
    again = post_event(client, envelope)
    assert again.json() == {"status": "duplicate"}
    assert kinds() == ["gift", "gift_receipt"]


def test_an_expired_checkout_leaves_the_gifts_unpaid(client, gift_prices):
    purchase = bought(a_recipient(1))
    pay(
        client, purchase, kind="checkout.session.expired", payment_status="unpaid", status="expired"
    )
    purchase.refresh_from_db()
    assert purchase.status == "abandoned"
    assert gifts(purchase)[0].status == "unpaid"
    assert OutboundEmail.objects.count() == 0


def test_a_payment_for_a_purchase_we_do_not_know_is_acknowledged(client, gift_prices):
    purchase = bought(a_recipient(1))
    response = pay(client, purchase, metadata={"gift_purchase_id": "999999"}, id="cs_test_other")
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "not one of our gift purchases"
    purchase.refresh_from_db()
    assert purchase.status == "pending"


def test_a_paid_purchase_finds_its_gifts_by_session_when_metadata_is_missing(client, gift_prices):
    purchase = bought(a_recipient(1))
    GiftPurchase.objects.filter(pk=purchase.pk).update(checkout_session_id="cs_test_known")
    pay(client, purchase, metadata={}, id="cs_test_known")
    assert GiftPurchase.objects.get().status == "paid"


def test_the_thanks_page_follows_the_payment(client, gift_prices):
    purchase = bought(a_recipient(1))
    GiftPurchase.objects.filter(pk=purchase.pk).update(checkout_session_id="cs_test_known")
    page = "/gifts/thanks/?session_id=cs_test_known"
    assert "we're confirming your payment" in unescape(client.get(page).content.decode())
    pay(client, purchase, id="cs_test_known")
    html = unescape(client.get(page).content.decode())
    assert "your gifts are paid for" in html and "receipt" in html
    assert Gift.objects.get().status == "delivered"
