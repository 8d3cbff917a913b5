"""The account page: status, renewal, the portal, and members-only newsletters."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from membership import access
from membership.models import Membership
from newsletters import signup
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Subscriber, Subscription
from tests.conftest import link_in
from tests.membership.conftest import CUSTOMER, sign_in_as

pytestmark = pytest.mark.django_db


def page(client):
    response = client.get("/membership/account/")
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_account_shows_status_plan_next_renewal_and_members_lists(client, paid, members_list):
    sign_in_as(client, paid.member)
    html = page(client)
    assert "Active" in html
    assert "Monthly: £5 a month" in html
    assert f"Next renewal</dt><dd>{paid.current_period_end:%-d %B %Y}" in html
    assert "The Members' Dispatch" in html
    assert "Join The Members' Dispatch" in html
    assert "Manage payment, invoices or cancelling" in html


def test_a_past_due_member_is_told_to_update_the_card(client, paid):
    paid.status = Membership.Status.PAST_DUE
    paid.past_due_since = timezone.now()
    paid.save()
    sign_in_as(client, paid.member)
    assert "Update your card to keep your membership going" in page(client)


def test_joining_a_members_list_is_double_opt_in(
    client, paid, members_list, django_capture_on_commit_callbacks
):
    sign_in_as(client, paid.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/membership/account/newsletters/", {"newsletter": members_list.slug}
        )
    assert response.status_code == 302
    assert response["Location"] == "/newsletters/almost-there/"
    assert Subscription.objects.get().status == "pending"
    requested = ConsentEvent.objects.get(action="requested")
    assert requested.wording_version.startswith("member-list-")
    assert "We've emailed you to confirm" in page(client)

    (message,) = mail.outbox
    confirm = link_in(message.body, "/newsletters/confirm/").removeprefix("http://testserver")
    client.post(confirm)
    assert Subscription.objects.get().status == "active"
    assert "You get this newsletter." in page(client)


def test_a_reader_without_access_cannot_join_a_members_list(client, paid, members_list):
    paid.status = Membership.Status.CANCELED
    paid.save()
    sign_in_as(client, paid.member)
    html = page(client)
    assert "Members' newsletters are open while your membership is active." in html
    assert "Join The Members' Dispatch" not in html

    response = client.post("/membership/account/newsletters/", {"newsletter": members_list.slug})

    assert response.status_code == 403
    assert Subscription.objects.count() == 0


def test_only_members_lists_can_be_joined_from_the_account(client, paid, newsletters):
    sign_in_as(client, paid.member)
    response = client.post("/membership/account/newsletters/", {"newsletter": "daily-briefing"})
    assert response.status_code == 400
    assert "There is no members' newsletter of that name." in unescape(response.content.decode())
    assert Subscription.objects.count() == 0


def test_signup_anywhere_else_drops_a_members_list_for_a_non_member(db, members_list):
    provenance = Provenance(source=ConsentEvent.Source.API)
    signup.subscribe("stranger@example.org", [members_list], provenance)
    assert Subscriber.objects.count() == 0


def test_a_confirmation_link_does_not_open_a_members_list_after_the_membership_ends(
    client, paid, members_list, django_capture_on_commit_callbacks
):
    sign_in_as(client, paid.member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/membership/account/newsletters/", {"newsletter": members_list.slug})
    confirm = link_in(mail.outbox[0].body, "/newsletters/confirm/")
    paid.status = Membership.Status.CANCELED
    paid.save()

    client.post(confirm.removeprefix("http://testserver"))

    assert Subscription.objects.get().status == "pending"


def test_a_complimentary_membership_with_an_end_closes_the_lists_when_it_ends(paid, members_list):
    paid.delete()
    ends = timezone.now() + timedelta(days=30)
    Membership.objects.create(member=paid.member, source="complimentary", current_period_end=ends)
    subscriber = Subscriber.objects.create(email="reader@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=members_list, status="active")

    with time_machine.travel(ends - timedelta(minutes=1)):
        assert access.close_lapsed() == 0
    with time_machine.travel(ends + timedelta(minutes=1)):
        assert access.close_lapsed() == 1
    assert Subscription.objects.get().status == "unsubscribed"


def test_the_portal_button_opens_stripe_for_the_member_and_comes_back_to_the_account(
    client, paid, stripe_api
):
    sign_in_as(client, paid.member)
    response = client.post("/membership/account/billing/", {"attempt": "a" * 32})

    (request,) = stripe_api.requests
    assert (request.method, request.path) == ("POST", "/v1/billing_portal/sessions")
    assert request.params == {
        "customer": CUSTOMER,
        "return_url": "http://testserver/membership/account/",
    }
    assert request.headers["Idempotency-Key"].startswith("portal-")
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")


def test_the_portal_button_explains_when_stripe_is_unreachable(client, paid, stripe_api):
    stripe_api.fail(500, "An unexpected error occurred")
    sign_in_as(client, paid.member)
    response = client.post("/membership/account/billing/", {"attempt": "a" * 32})
    assert response.status_code == 503
    assert "couldn't reach our payment provider" in unescape(response.content.decode())


def test_the_portal_needs_a_signed_in_member(client, paid, stripe_api):
    response = client.post("/membership/account/billing/", {"attempt": "a" * 32})
    assert response.status_code == 302
    assert stripe_api.requests == []
