"""POST /stripe/webhook/: Stripe-shaped events, signed in the test with stripe's own scheme."""

import json
import time
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.utils import timezone

from membership.models import Member, Membership, StripeEvent
from newsletters.models import OutboundEmail
from tests.membership.conftest import (
    CUSTOMER,
    SUBSCRIPTION,
    WEBHOOK,
    at,
    event,
    invoice,
    post_event,
    sign,
    stripe_object,
    subscription,
)

pytestmark = pytest.mark.django_db


def checkout_completed(member=None, **changes):
    session = stripe_object("checkout_session", **changes)
    if member is not None:
        session["metadata"] = {"member_id": str(member.pk)}
    return event("checkout.session.completed", session)


# Refused: nothing is stored and nothing changes.


def test_an_unsigned_event_is_refused(client, plans):
    body = json.dumps(checkout_completed())
    response = client.post(WEBHOOK, body, content_type="application/json")
    assert response.status_code == 400
    assert StripeEvent.objects.count() == Member.objects.count() == 0


def test_an_event_signed_with_another_secret_is_refused(client, plans):
    response = post_event(client, checkout_completed(), secret="whsec_someone_else")
    assert response.status_code == 400
    assert "No signatures found matching" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


def test_a_stale_signature_is_refused_as_a_replay(client, plans):
    response = post_event(client, checkout_completed(), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert "tolerance" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client, plans):
    body = json.dumps(checkout_completed())
    header = sign(body)
    tampered = body.replace("reader@example.org", "thief@example.org")
    response = client.post(
        WEBHOOK, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '{"id": "evt_1", "type": "x"}', '{"id": 5}', "\udcff"]
)
def test_a_signed_body_that_is_not_a_stripe_event_is_refused(client, body):
    raw = body.encode("utf-8", "surrogateescape")
    header = sign(raw.decode("utf-8", "replace"))
    response = client.post(
        WEBHOOK, raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_the_webhook_takes_only_posts(client):
    assert client.get(WEBHOOK).status_code == 405


# Accepted.


def test_unknown_event_types_are_acknowledged_and_ignored(client):
    response = post_event(client, event("customer.tax_id.created", {"id": "txi_1"}))
    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == "ignored"
    assert Member.objects.count() == 0


def test_a_completed_checkout_makes_a_member_with_a_membership_and_a_welcome(
    client, plans, django_capture_on_commit_callbacks
):
    member = Member.objects.create(email="reader@example.org")
    envelope = checkout_completed(member)
    envelope["data"]["object"]["metadata"]["plan_id"] = str(plans["monthly"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, envelope)

    assert response.status_code == 200
    member.refresh_from_db()
    assert member.stripe_customer_id == CUSTOMER
    membership = member.memberships.get()
    assert membership.stripe_subscription_id == SUBSCRIPTION
    assert membership.source == "paid"
    assert membership.plan == plans["monthly"]
    assert membership.gives_access()
    assert membership.checkout_session_id.startswith("cs_test_")
    (welcome,) = mail.outbox
    assert welcome.to == ["reader@example.org"]
    assert welcome.subject == "Welcome, member of The Ledger"
    html, mimetype = welcome.alternatives[0]
    assert mimetype == "text/html"
    assert "http://testserver/membership/account/" in welcome.body
    assert "http://testserver/membership/account/" in unescape(html)
    assert StripeEvent.objects.get().status == "processed"


def test_a_checkout_from_an_unknown_address_makes_its_member(client, plans):
    post_event(client, checkout_completed())
    assert Member.objects.get().email == "reader@example.org"
    assert Membership.objects.get().stripe_subscription_id == SUBSCRIPTION


def test_a_duplicate_event_is_acknowledged_and_does_nothing(
    client, plans, django_capture_on_commit_callbacks
):
    envelope = checkout_completed()
    with django_capture_on_commit_callbacks(execute=True):
        first = post_event(client, envelope)
        second = post_event(client, envelope)

    assert first.status_code == second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert StripeEvent.objects.get().attempts == 1
    assert Membership.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_subscription_event_mirrors_status_plan_and_the_period_end_on_its_items(
    client, member, plans
):
    period_end = timezone.now() + timedelta(days=30)
    sub = subscription(period_end=period_end, member=member)
    response = post_event(client, event("customer.subscription.created", sub))

    assert response.status_code == 200
    membership = Membership.objects.get()
    assert membership.status == "active"
    assert membership.plan == plans["monthly"]
    assert membership.current_period_end == period_end.replace(microsecond=0)
    assert membership.renews_at == membership.current_period_end
    assert membership.started_at == at(sub["start_date"])


def test_cancelling_at_period_end_keeps_access_until_then(client, paid):
    period_end = timezone.now() + timedelta(days=5)
    sub = subscription(period_end=period_end, cancel_at_period_end=True)
    post_event(client, event("customer.subscription.updated", sub))

    paid.refresh_from_db()
    assert paid.cancel_at_period_end
    assert paid.renews_at is None
    assert paid.ends_at == period_end.replace(microsecond=0)
    assert paid.gives_access()


def test_a_deleted_subscription_ends_the_membership(client, paid):
    ended = int(time.time())
    sub = subscription(status="canceled", ended_at=ended)
    post_event(client, event("customer.subscription.deleted", sub))

    paid.refresh_from_db()
    assert paid.status == "canceled"
    assert paid.ended_at == at(ended)
    assert not paid.gives_access()


# Out of order.


def test_an_older_event_never_overwrites_newer_state(client, paid):
    now = timezone.now()
    newer = event("customer.subscription.updated", subscription(status="past_due"), created=now)
    older = event(
        "customer.subscription.updated",
        subscription(status="active", cancel_at_period_end=True),
        created=now - timedelta(minutes=5),
    )
    assert post_event(client, newer).status_code == 200
    assert post_event(client, older).status_code == 200

    paid.refresh_from_db()
    assert paid.status == "past_due"
    assert not paid.cancel_at_period_end
    assert "older than the state we hold" in StripeEvent.objects.get(stripe_id=older["id"]).outcome


def test_a_late_update_cannot_revive_a_deleted_subscription(client, paid):
    now = timezone.now()
    deleted = event(
        "customer.subscription.deleted",
        subscription(status="canceled", ended_at=int(now.timestamp())),
        created=now,
    )
    # Same second, arriving later: Stripe never revives a canceled subscription.
    late = event("customer.subscription.updated", subscription(status="active"), created=now)
    post_event(client, deleted)
    post_event(client, late)

    paid.refresh_from_db()
    assert paid.status == "canceled"


def test_an_invoice_paid_before_its_subscription_is_known_changes_nothing(client, member):
    response = post_event(client, event("invoice.paid", stripe_object("invoice")))
    assert response.status_code == 200
    assert Membership.objects.count() == 0


# Failing handlers, Stripe's retries and staff replay.


def test_a_failing_handler_is_stored_with_its_error_answers_500_and_staff_replay_it(
    client, admin_client, plans
):
    member = Member.objects.create(email="reader@example.org")
    # The subscription arrives first and names nobody we know: its customer is new to us.
    sub_event = event("customer.subscription.created", subscription())
    response = post_event(client, sub_event)

    assert response.status_code == 500
    stored = StripeEvent.objects.get(stripe_id=sub_event["id"])
    assert stored.status == "failed"
    assert "UnknownCustomer" in stored.error and CUSTOMER in stored.error
    assert Membership.objects.count() == 0

    # The checkout arrives and tells us whose customer it is.
    assert post_event(client, checkout_completed(member)).status_code == 200
    response = admin_client.post(
        "/admin/membership/stripeevent/",
        {"action": "replay", "_selected_action": [stored.pk]},
        follow=True,
    )

    assert "1 handled, 0 failed again" in unescape(response.content.decode())
    stored.refresh_from_db()
    assert stored.status == "processed"
    assert stored.attempts == 2
    assert stored.error == ""
    membership = Membership.objects.get()
    assert membership.plan == plans["monthly"]
    assert membership.current_period_end is not None


def test_stripe_retrying_a_failed_event_runs_it_again(client, plans):
    member = Member.objects.create(email="reader@example.org")
    sub_event = event("customer.subscription.created", subscription())
    assert post_event(client, sub_event).status_code == 500
    post_event(client, checkout_completed(member))

    retried = post_event(client, sub_event)

    assert retried.status_code == 200
    assert StripeEvent.objects.get(stripe_id=sub_event["id"]).status == "processed"


def test_replaying_an_event_that_did_not_fail_changes_nothing(admin_client, client, plans):
    post_event(client, checkout_completed())
    stored = StripeEvent.objects.get()
    response = admin_client.post(
        "/admin/membership/stripeevent/",
        {"action": "replay", "_selected_action": [stored.pk]},
        follow=True,
    )
    assert "0 handled, 0 failed again, 1 not failed" in unescape(response.content.decode())
    assert StripeEvent.objects.get().attempts == 1


def test_a_checkout_paid_later_is_welcomed_when_its_subscription_starts(client, member, plans):
    post_event(client, checkout_completed(member, payment_status="unpaid"))
    membership = Membership.objects.get()
    assert membership.status == "incomplete" and membership.welcomed_at is None

    post_event(client, event("customer.subscription.updated", subscription(status="active")))
    post_event(client, event("customer.subscription.updated", subscription(status="active")))

    membership.refresh_from_db()
    assert membership.status == "active" and membership.welcomed_at is not None
    assert OutboundEmail.objects.filter(kind="member_welcome").count() == 1


def test_a_subscription_still_incomplete_cannot_undo_a_paid_checkout(client, member, plans):
    post_event(client, checkout_completed(member))
    post_event(client, event("customer.subscription.created", subscription(status="incomplete")))

    membership = Membership.objects.get()
    assert membership.status == "active"

    post_event(client, event("customer.subscription.updated", subscription(status="active")))
    membership.refresh_from_db()
    assert membership.status == "active" and membership.current_period_end is not None


def test_an_invoice_paid_before_its_subscription_is_applied_when_the_subscription_arrives(
    client, member, plans
):
    now = timezone.now().replace(microsecond=0)
    paid = invoice(SUBSCRIPTION, "paid", now, now + timedelta(days=30), "in_early")
    post_event(client, event("invoice.paid", paid, created=now))
    assert not Membership.objects.exists()
    sub = subscription(status="active", period_end=now + timedelta(days=30), member=member)
    post_event(
        client, event("customer.subscription.created", sub, created=now + timedelta(seconds=1))
    )
    membership = Membership.objects.get()
    assert membership.last_paid_at == now
    assert membership.current_period_end == now + timedelta(days=30)
    assert StripeEvent.objects.get(type="invoice.paid").outcome.startswith("applied when")
