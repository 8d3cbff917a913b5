"""Buying gifts: the form, what we ask Stripe Checkout for, and bad input changing nothing."""

from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.core.exceptions import ValidationError

from membership.models import Gift, GiftPrice, GiftPurchase
from tests.membership.gift_orders import ATTEMPT, BUYER, a_recipient, bought, gift_form, recipient

pytestmark = pytest.mark.django_db


def text(response):
    return unescape(response.content.decode())


def test_the_gift_page_offers_each_duration_at_the_price_staff_set(client, gift_prices):
    gift_prices[6].is_active = False
    gift_prices[6].save()
    html = text(client.get("/gifts/"))
    assert "3 months for £15" in html and "12 months for £50" in html
    assert "6 months" not in html
    assert "<script" not in html and "style=" not in html


def test_without_prices_no_gifts_are_on_offer(client, db):
    html = text(client.get("/gifts/"))
    assert "Gift memberships aren't on offer just now." in html
    assert "Continue to payment" not in html


def test_buying_for_two_people_opens_one_checkout_session_in_payment_mode(
    client, gift_prices, stripe_api
):
    form = gift_form(
        recipient(1, months="3", message="Happy birthday!"),
        recipient(2, months="12", deliver_on=(date.today() + timedelta(days=30)).isoformat()),
    )
    response = client.post("/gifts/", form)

    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    purchase = GiftPurchase.objects.get()
    assert (purchase.buyer_email, purchase.amount_total, purchase.currency) == (BUYER, 6500, "gbp")
    assert purchase.status == "pending"
    assert purchase.checkout_session_id.startswith("cs_test_")
    assert [(g.months, g.amount, g.status) for g in purchase.gifts.all()] == [
        (3, 1500, "awaiting"),
        (12, 5000, "awaiting"),
    ]

    (request,) = stripe_api.requests
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    params = request.params
    assert params["mode"] == "payment"
    assert params["customer_email"] == BUYER
    assert params["metadata[gift_purchase_id]"] == str(purchase.pk)
    assert params["payment_intent_data[metadata][gift_purchase_id]"] == str(purchase.pk)
    assert params["line_items[0][price_data][unit_amount]"] == "1500"
    assert params["line_items[0][price_data][currency]"] == "gbp"
    assert params["line_items[0][quantity]"] == "1"
    assert params["line_items[1][price_data][unit_amount]"] == "5000"
    assert "gift membership: 12 months" in params["line_items[1][price_data][product_data][name]"]
    assert params["success_url"].endswith("/gifts/thanks/?session_id={CHECKOUT_SESSION_ID}")
    assert request.headers["Idempotency-Key"].startswith("gift-checkout-")
    # Who the gifts are for, and what the buyer wrote, stay with us.
    sent = str(params)
    assert "Friend" not in sent and "friend1@" not in sent and "birthday" not in sent


def test_gifts_of_the_same_length_share_a_line_with_a_quantity(client, gift_prices, stripe_api):
    client.post("/gifts/", gift_form(recipient(1), recipient(2), recipient(3, months="1")))
    params = stripe_api.requests[0].params
    lines = [
        (params[f"line_items[{n}][price_data][unit_amount]"], params[f"line_items[{n}][quantity]"])
        for n in range(2)
    ]
    assert lines == [("500", "1"), ("1500", "2")]


def test_a_double_click_makes_one_purchase_and_one_checkout_session(
    client, gift_prices, stripe_api
):
    first = client.post("/gifts/", gift_form(recipient(1), recipient(2)))
    second = client.post("/gifts/", gift_form(recipient(1), recipient(2)))
    assert first["Location"] == second["Location"]
    assert GiftPurchase.objects.count() == 1 and Gift.objects.count() == 2
    keys = {r.headers["Idempotency-Key"] for r in stripe_api.requests}
    assert len(keys) == 1


def test_the_same_attempt_with_a_changed_order_is_a_new_purchase(client, gift_prices, stripe_api):
    client.post("/gifts/", gift_form(recipient(1)))
    client.post("/gifts/", gift_form(recipient(1, months="12")))
    assert GiftPurchase.objects.count() == 2
    assert len({r.headers["Idempotency-Key"] for r in stripe_api.requests}) == 2


def test_stripe_being_unreachable_keeps_the_order_and_says_nothing_was_charged(
    client, gift_prices, stripe_api
):
    stripe_api.fail(500, "An unexpected error occurred")
    response = client.post("/gifts/", gift_form(recipient(1)))
    assert response.status_code == 503
    html = text(response)
    assert "couldn't reach our payment provider. Nothing was charged" in html
    assert 'role="alert"' in html
    assert GiftPurchase.objects.get().status == "pending"
    # The page carries a fresh attempt: Stripe would answer the old key with the same error.
    assert ATTEMPT not in html and 'value="Friend 1"' in html


def test_a_delivery_date_is_the_morning_of_that_day_in_the_newsroom(gift_prices, settings):
    settings.NEWSROOM_TIME_ZONE = "Europe/Kyiv"
    settings.GIFT_DELIVERY_HOUR = 8
    purchase = bought(a_recipient(1, deliver_on=date(2027, 7, 1)))
    gift = purchase.gifts.get()
    assert gift.deliver_at == datetime(2027, 7, 1, 5, 0, tzinfo=UTC)  # 08:00 in Kyiv, summer


def test_a_message_of_300_characters_with_line_breaks_is_accepted(client, gift_prices, stripe_api):
    message = "Dear friend,\r\n" + "x" * 286  # the CRLF counts as one character
    assert len(message.replace("\r\n", "\n")) == 299
    response = client.post("/gifts/", gift_form(recipient(1, message=message + "!")))
    assert response.status_code == 303
    assert Gift.objects.get().message == "Dear friend,\n" + "x" * 286 + "!"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": "Eve\r\nBcc: victim@example.org"}, "Names can't contain line breaks"),
        ({"name": ""}, "Please enter the name of the person the gift is for."),
        ({"name": "x" * 101}, "Please keep names to 100 characters."),
        ({"email": "not an address"}, "Please enter a valid email address."),
        ({"email": ""}, "Please enter your email address."),
        ({"months": "2"}, "Choose one of the lengths shown."),
        ({"months": ""}, "Choose how long the gift membership lasts."),
        ({"message": "x" * 301}, "Please keep your message to 300 characters (it has 301)."),
        ({"message": "Hi\x00there"}, "Please use only ordinary text in your message."),
        ({"deliver_on": "2001-01-01"}, "Choose today or a day ahead."),
        ({"deliver_on": "not a date"}, "Enter a date like 2027-12-24."),
    ],
)
def test_a_bad_recipient_is_explained_and_nothing_is_bought(
    client, gift_prices, stripe_api, change, error
):
    response = client.post("/gifts/", gift_form(recipient(1), recipient(2, **change)))
    assert response.status_code == 400
    html = text(response)
    assert 'role="alert"' in html
    assert f"Gift 2: {error}" in html
    assert GiftPurchase.objects.count() == Gift.objects.count() == 0
    assert stripe_api.requests == []


def test_a_delivery_date_more_than_a_year_ahead_is_refused(client, gift_prices, stripe_api):
    with time_machine.travel(datetime(2027, 3, 1, 12, tzinfo=UTC)):
        late = client.post("/gifts/", gift_form(recipient(1, deliver_on="2028-03-02")))
        latest = client.post("/gifts/", gift_form(recipient(1, deliver_on="2028-03-01")))
    assert late.status_code == 400
    assert "Choose a day at most a year ahead." in text(late)
    assert latest.status_code == 303


@pytest.mark.parametrize(
    ("buyer", "error"),
    [
        ({"buyer_name": "Giver\nX-Spam: yes"}, "Names can't contain line breaks"),
        ({"buyer_email": "giver@"}, "Please enter a valid email address."),
        ({"buyer_name": ""}, "Please enter your name."),
    ],
)
def test_a_bad_buyer_is_explained_and_nothing_is_bought(
    client, gift_prices, stripe_api, buyer, error
):
    data = gift_form(recipient(1))
    data.update(buyer)
    response = client.post("/gifts/", data)
    assert response.status_code == 400
    assert error in text(response)
    assert GiftPurchase.objects.count() == 0 and stripe_api.requests == []


def test_more_than_ten_gifts_in_one_purchase_are_refused(client, gift_prices, stripe_api):
    response = client.post("/gifts/", gift_form(*[recipient(n) for n in range(11)]))
    assert response.status_code == 400
    assert "Please submit at most 10 forms." in text(response)
    assert GiftPurchase.objects.count() == 0 and stripe_api.requests == []


def test_a_tampered_attempt_is_refused(client, gift_prices, stripe_api):
    response = client.post("/gifts/", gift_form(recipient(1), attempt="../../etc"))
    assert response.status_code == 400
    assert GiftPurchase.objects.count() == 0


def test_adding_and_removing_people_keeps_what_was_typed_without_javascript(client, gift_prices):
    data = gift_form(recipient(1, name="Ann"), recipient(2, name="Bob"))
    data["add"] = "1"
    added = text(client.post("/gifts/", data))
    assert "Gift 3" in added and 'value="Ann"' in added and 'value="Bob"' in added
    assert "There was a problem" not in added

    data = gift_form(recipient(1, name="Ann"), recipient(2, name="Bob"))
    data["remove"] = "0"
    removed = text(client.post("/gifts/", data))
    assert 'value="Bob"' in removed and 'value="Ann"' not in removed
    assert "Gift 2" not in removed
    assert GiftPurchase.objects.count() == 0


def test_a_price_change_between_page_and_payment_asks_to_choose_again(
    client, gift_prices, stripe_api
):
    data = gift_form(recipient(1, months="12"))
    GiftPrice.objects.filter(months=12).update(is_active=False)
    response = client.post("/gifts/", data)
    assert response.status_code == 400
    assert GiftPurchase.objects.count() == 0


def test_staff_cannot_offer_gift_prices_in_two_currencies(gift_prices):
    price = GiftPrice(months=12, amount=6000, currency="eur")
    GiftPrice.objects.filter(months=12).delete()
    with pytest.raises(ValidationError, match="same currency"):
        price.full_clean()
