"""Joining: our request to Stripe Checkout, asserted at the StripeClient's HTTP client."""

from html import unescape

import pytest
from django.core import mail

from membership import gateway
from membership.models import Member, Membership
from tests.membership.conftest import CUSTOMER, MONTHLY_PRICE

pytestmark = pytest.mark.django_db

ATTEMPT = "0123456789abcdef0123456789abcdef"


def join(client, plan, email="Reader@Example.ORG", attempt=ATTEMPT):
    return client.post("/membership/", {"plan": plan.pk, "email": email, "attempt": attempt})


def test_the_join_page_lists_the_offered_plans_with_their_prices(client, plans):
    plans["yearly"].is_active = False
    plans["yearly"].save()
    response = client.get("/membership/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Monthly: £5 a month" in html
    assert "Yearly" not in html
    assert 'name="attempt" value="' in html


def test_joining_asks_stripe_for_a_subscription_checkout_for_the_plan_and_address(
    client, plans, stripe_api
):
    response = join(client, plans["monthly"])

    (request,) = stripe_api.requests
    member = Member.objects.get()
    assert member.email == "Reader@example.org"
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    assert request.params["mode"] == "subscription"
    assert request.params["line_items[0][price]"] == MONTHLY_PRICE
    assert request.params["line_items[0][quantity]"] == "1"
    assert request.params["customer_email"] == "Reader@example.org"
    assert "customer" not in request.params
    assert request.params["metadata[member_id]"] == str(member.pk)
    assert request.params["metadata[plan_id]"] == str(plans["monthly"].pk)
    assert request.params["subscription_data[metadata][member_id]"] == str(member.pk)
    assert request.params["client_reference_id"] == str(member.pk)
    assert request.params["success_url"] == (
        "http://testserver/membership/welcome/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert request.params["cancel_url"] == "http://testserver/membership/cancelled/"
    assert request.headers["Idempotency-Key"].startswith("checkout-")
    assert request.headers["Stripe-Version"] == gateway.API_VERSION == "2026-10-28.endive"
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")


def test_a_double_click_makes_one_checkout_session(client, plans, stripe_api):
    first = join(client, plans["monthly"])
    second = join(client, plans["monthly"])

    keys = {r.headers["Idempotency-Key"] for r in stripe_api.requests}
    assert len(stripe_api.requests) == 2 and len(keys) == 1
    assert first["Location"] == second["Location"]
    assert Member.objects.count() == 1


def test_a_fresh_visit_or_another_plan_asks_for_a_new_session(client, plans, stripe_api):
    join(client, plans["monthly"])
    join(client, plans["monthly"], attempt="f" * 32)
    join(client, plans["yearly"], attempt="f" * 32)

    keys = [r.headers["Idempotency-Key"] for r in stripe_api.requests]
    assert len(set(keys)) == 3


def test_a_returning_customer_is_named_instead_of_their_address(client, plans, stripe_api):
    Member.objects.create(email="reader@example.org", stripe_customer_id=CUSTOMER)
    join(client, plans["yearly"])

    (request,) = stripe_api.requests
    assert request.params["customer"] == CUSTOMER
    assert "customer_email" not in request.params


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "reader@example.org", "attempt": ATTEMPT}, "Choose monthly or yearly."),
        ({"plan": "999", "email": "reader@example.org", "attempt": ATTEMPT}, "Choose one of"),
        ({"plan": "PLAN", "email": "not an address", "attempt": ATTEMPT}, "valid email"),
        ({"plan": "PLAN", "email": "", "attempt": ATTEMPT}, "enter your email"),
        ({"plan": "PLAN", "email": "x" * 300 + "@example.org", "attempt": ATTEMPT}, "254"),
        ({"plan": "PLAN", "email": "reader@example.org"}, "Please try again"),
        ({"plan": "PLAN", "email": "reader@example.org", "attempt": "<x>"}, "Please try again"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_asked_of_stripe(
    client, plans, stripe_api, data, message
):
    if data.get("plan") == "PLAN":
        data["plan"] = plans["monthly"].pk
    response = client.post("/membership/", data)

    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert 'role="alert"' in html
    assert message in html
    assert stripe_api.requests == []
    assert Member.objects.count() == 0


def test_a_stripe_error_is_explained_and_the_address_is_kept(client, plans, stripe_api):
    stripe_api.fail(400, "No such price: 'price_1PgafmB7WZ01zgkW6dKueIc5'")
    response = join(client, plans["monthly"])

    assert response.status_code == 503
    assert "couldn't reach our payment provider" in unescape(response.content.decode())
    assert Member.objects.filter(email="Reader@example.org").exists()


def test_an_address_that_already_pays_is_not_charged_twice_but_sent_a_sign_in_link(
    client, paid, stripe_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = join(client, paid.plan, email="READER@example.org")

    assert response.status_code == 200
    assert "You're already a member" in unescape(response.content.decode())
    assert stripe_api.requests == []
    (message,) = mail.outbox
    assert "/membership/sign-in/" in message.body
    assert Membership.objects.count() == 1


def test_without_a_stripe_key_outside_development_joining_is_refused(client, plans, settings):
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = ""
    response = join(client, plans["monthly"])
    assert response.status_code == 503


def test_the_cancel_page_says_nothing_was_charged(client):
    response = client.get("/membership/cancelled/")
    assert "No payment was taken" in response.content.decode()
