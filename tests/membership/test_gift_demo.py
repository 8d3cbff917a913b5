"""The payments demo covers gifts: Checkout in payment mode, later payments, refunds, and a
paying member's next payment moved by a gift, all through the real webhook.
"""

from html import unescape

import pytest
from django.core import mail

from membership.models import DemoEvent, Gift, GiftPurchase, Member, Membership, StripeEvent
from membership.months import add_months
from tests.conftest import link_in
from tests.membership.gift_orders import gift_form, recipient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_demo(live_server, settings, demo_payments, gift_prices):
    settings.SITE_URL = live_server.url
    return live_server.url


def local(url, site):
    return url.removeprefix(site)


def start(client, site, *recipients):
    response = client.post("/gifts/", gift_form(*(recipients or (recipient(1), recipient(2)))))
    assert response.status_code == 303
    assert "/membership/demo/gift-checkout/" in response["Location"]
    return local(response["Location"], site)


def test_the_demo_gift_checkout_says_what_is_paid_for_and_that_it_is_a_demo(client, live_demo):
    html = unescape(client.get(start(client, live_demo)).content.decode())
    assert "Payments demo: this is not Stripe, and no money moves." in html
    assert "3 months (£15), 3 months (£15)" in html and "£30" in html
    assert "<script" not in html and "style=" not in html


def test_paying_in_the_demo_runs_the_real_webhook_and_delivers_the_gifts(client, live_demo):
    response = client.post(start(client, live_demo), {"choice": "pay"})
    assert response.status_code == 303
    assert "/gifts/thanks/?session_id=cs_demo_" in response["Location"]
    assert [e.type for e in StripeEvent.objects.all()] == ["checkout.session.completed"]
    session = StripeEvent.objects.get().payload["data"]["object"]
    assert (session["mode"], session["payment_status"]) == ("payment", "paid")
    assert GiftPurchase.objects.get().status == "paid"
    assert sorted(m.tags[0] for m in mail.outbox) == ["gift", "gift", "gift_receipt"]
    thanks = client.get(local(response["Location"], live_demo))
    assert "your gifts are paid for" in unescape(thanks.content.decode())
    # Paying twice sends the same event ids: nothing happens twice.
    client.post(start(client, live_demo), {"choice": "pay"})
    assert len(mail.outbox) == 3


def test_a_demo_bank_debit_clears_later_or_fails(client, live_demo):
    client.post(start(client, live_demo, recipient(1)), {"choice": "pay_later"})
    assert [e.type for e in StripeEvent.objects.order_by("pk")] == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]
    assert GiftPurchase.objects.get().status == "paid"

    mail.outbox.clear()
    other = client.post("/gifts/", gift_form(recipient(3), attempt="9" * 32))  # a second purchase
    client.post(local(other["Location"], live_demo), {"choice": "pay_later_fails"})
    failed = GiftPurchase.objects.exclude(status="paid").get()
    assert failed.status == "failed"
    assert [m.subject for m in mail.outbox] == [
        "Your payment for gift memberships didn't go through"
    ]


def test_the_demo_refund_button_runs_charge_refunded_end_to_end(client, live_demo):
    client.post(start(client, live_demo), {"choice": "pay"})
    receipt = next(m for m in mail.outbox if m.tags == ["gift_receipt"])
    page = local(link_in(receipt.body, "/gifts/manage/"), live_demo)
    html = unescape(client.get(page).content.decode())
    assert "Refund this gift (demo: as staff would in Stripe)" in html
    first, second = Gift.objects.order_by("pk")

    response = client.post(
        page.replace("/gifts/manage/", "/membership/demo/gift-refund/") + f"{second.pk}/"
    )
    assert response.status_code == 303
    refunded = StripeEvent.objects.get(type="charge.refunded")
    assert refunded.payload["data"]["object"]["amount_refunded"] == 1500
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.status, second.revoke_reason) == ("revoked", "refunded")
    assert first.status == "delivered"
    html = unescape(client.get(page).content.decode())
    assert "Revoked" in html


def test_a_gift_for_a_demo_paying_member_moves_their_next_payment(client, live_demo, plans):
    join = client.post(
        "/membership/",
        {"plan": plans["monthly"].pk, "email": "friend1@example.org", "attempt": "d" * 32},
    )
    client.post(local(join["Location"], live_demo), {"choice": "pay"})
    membership = Membership.objects.get()
    renews = membership.current_period_end
    assert membership.status == "active"

    client.post(start(client, live_demo, recipient(1)), {"choice": "pay"})
    gift_mail = next(m for m in mail.outbox if m.tags == ["gift"])
    client.post(local(link_in(gift_mail.body, "/gifts/redeem/"), live_demo))

    membership.refresh_from_db()
    assert Member.objects.count() == 1 and Membership.objects.count() == 1
    assert membership.status == "trialing"
    assert membership.current_period_end == add_months(renews, 3)
    assert StripeEvent.objects.filter(type="customer.subscription.updated").count() == 1


def test_the_demo_gift_checkout_is_refused_when_debug_is_off(client, live_demo, settings):
    url = start(client, live_demo)
    settings.DEBUG = False
    assert client.get(url).status_code == 404
    assert client.post(url, {"choice": "pay"}).status_code == 404
    assert DemoEvent.objects.count() == 0
