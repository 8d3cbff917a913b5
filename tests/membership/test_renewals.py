"""Failed renewals: an email to fix the card, access through the grace period, then an end."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from membership import access
from membership.models import Membership
from newsletters.models import ConsentEvent, OutboundEmail, Subscriber, Subscription
from tests.membership.conftest import at, event, post_event, stripe_object, subscription

pytestmark = pytest.mark.django_db

FIX_URL = "https://invoice.stripe.com/i/acct_1PgafmB7WZ01zgkW/test_YWNjdF8x"


def failed_invoice(**changes):
    return stripe_object("invoice", status="open", amount_paid=0, **changes)


def test_a_failed_renewal_emails_a_link_to_fix_the_card_and_access_continues(
    client, paid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event("invoice.payment_failed", failed_invoice()))

    assert response.status_code == 200
    (message,) = mail.outbox
    assert message.to == ["reader@example.org"]
    assert message.subject == "Your membership payment didn't go through"
    assert FIX_URL in message.body
    assert FIX_URL in unescape(message.alternatives[0][0])
    assert "carries on for 14 days" in message.body
    paid.refresh_from_db()
    assert paid.past_due_since is not None
    assert paid.gives_access()


def test_the_fix_the_card_email_goes_once_per_invoice(client, paid):
    post_event(client, event("invoice.payment_failed", failed_invoice(attempt_count=1)))
    post_event(client, event("invoice.payment_failed", failed_invoice(attempt_count=2)))
    post_event(client, event("invoice.payment_failed", failed_invoice(id="in_next_month")))

    assert Membership.objects.get().failed_invoice_id == "in_next_month"
    assert OutboundEmail.objects.filter(kind="payment_failed").count() == 2


def test_access_lasts_the_grace_period_staff_set_then_ends_and_closes_member_lists(
    client, paid, members_list
):
    paid.plan.grace_days = 3
    paid.plan.save()
    subscriber = Subscriber.objects.create(email="reader@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=members_list, status="active")
    failed_at = timezone.now()
    post_event(
        client,
        event("customer.subscription.updated", subscription(status="past_due"), created=failed_at),
    )
    paid.refresh_from_db()
    assert paid.status == "past_due"
    assert paid.past_due_since == failed_at.replace(microsecond=0)

    with time_machine.travel(failed_at + timedelta(days=2, hours=23)):
        assert access.has_access("READER@example.org")
        assert access.close_lapsed() == 0
    with time_machine.travel(failed_at + timedelta(days=3, minutes=1)):
        assert not access.has_access("reader@example.org")
        assert access.close_lapsed() == 1
        assert access.close_lapsed() == 0

    assert Subscription.objects.get().status == "unsubscribed"
    ledger = ConsentEvent.objects.get(action="unsubscribed")
    assert (ledger.source, ledger.source_detail) == ("system", "membership ended")


def test_a_paid_invoice_after_a_failure_restores_the_membership(client, paid):
    failed_at = timezone.now() - timedelta(days=2)
    post_event(
        client,
        event("customer.subscription.updated", subscription(status="past_due"), created=failed_at),
    )
    invoice = stripe_object("invoice")
    next_end = int((timezone.now() + timedelta(days=40)).timestamp())
    invoice["lines"]["data"][0]["period"]["end"] = next_end
    post_event(client, event("invoice.paid", invoice))

    paid.refresh_from_db()
    assert paid.status == "active"
    assert paid.past_due_since is None
    assert paid.last_paid_at is not None
    assert paid.current_period_end == at(next_end)


def test_an_older_failure_notice_after_a_good_renewal_changes_nothing(client, paid):
    now = timezone.now()
    post_event(client, event("invoice.paid", stripe_object("invoice"), created=now))
    post_event(
        client,
        event(
            "customer.subscription.updated",
            subscription(status="active"),
            created=now,
        ),
    )
    post_event(
        client,
        event("invoice.payment_failed", failed_invoice(), created=now - timedelta(hours=1)),
    )

    paid.refresh_from_db()
    assert paid.past_due_since is None
    assert mail.outbox == []


def test_an_invoice_names_its_subscription_under_parent_not_at_the_top(client, paid):
    invoice = failed_invoice()
    invoice["subscription"] = "sub_somebody_else"  # the field older API versions used
    post_event(client, event("invoice.payment_failed", invoice))
    assert Membership.objects.get().past_due_since is not None
