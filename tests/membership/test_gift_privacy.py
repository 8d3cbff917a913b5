"""Erasure reaches the membership app: members, gifts bought or received, Stripe events."""

import json

import pytest
from django.conf import settings

from membership import gift_delivery
from membership.models import Gift, GiftPurchase, Member, Membership, SignInLink, StripeEvent
from newsletters import privacy
from newsletters.models import OutboundEmail, Subscriber
from tests.conftest import link_in
from tests.membership.gift_orders import BUYER, a_recipient, bought, gift_email, pay

pytestmark = pytest.mark.django_db


def test_the_service_names_the_membership_eraser():
    assert settings.NEWSLETTERS_EXTRA_ERASERS == ["membership.privacy.erase_reader"]


@pytest.fixture
def gifts_given(client, gift_prices, django_capture_on_commit_callbacks):
    """A buyer who subscribes to a newsletter gave two gifts; the second has been redeemed."""
    Subscriber.objects.create(email=BUYER)
    purchase = bought(
        a_recipient(1, message="From me, with love"), a_recipient(2, message="Enjoy it")
    )
    with django_capture_on_commit_callbacks(execute=True):
        pay(client, purchase)  # Stripe's event, stored, holds the buyer's address and name
    with django_capture_on_commit_callbacks(execute=True):
        link = link_in(gift_email("friend2@example.org").text_body, "/gifts/redeem/")
        client.post(link.removeprefix("http://testserver"))
    return GiftPurchase.objects.get()


def test_erasing_a_buyer_keeps_the_amounts_and_drops_names_addresses_and_messages(
    client, gifts_given
):
    link = link_in(gift_email("friend1@example.org").text_body, "/gifts/redeem/")
    counts = privacy.erase_subscriber(Subscriber.objects.get(email=BUYER), erased_by="staff")

    assert counts["gift_purchases_anonymised"] == 1
    assert counts["stripe_events_scrubbed"] == 1
    purchase = GiftPurchase.objects.get()
    assert purchase.buyer_name == "" and purchase.buyer_email.endswith("@erased.invalid")
    assert (purchase.amount_total, purchase.currency, purchase.status) == (3000, "gbp", "paid")
    open_gift, redeemed = Gift.objects.order_by("pk")
    assert [g.amount for g in (open_gift, redeemed)] == [1500, 1500]
    assert open_gift.message == redeemed.message == ""
    assert open_gift.recipient_name == redeemed.recipient_name == ""
    # The open gift is still its recipient's to redeem; the redeemed one needs no address.
    assert open_gift.recipient_email == "friend1@example.org"
    assert redeemed.recipient_email.endswith("@erased.invalid")
    assert client.get(link.removeprefix("http://testserver")).status_code == 200

    payload = json.dumps(StripeEvent.objects.get(type="checkout.session.completed").payload)
    assert BUYER not in payload and "A Giver" not in payload
    assert "[erased]" in payload
    quoting = OutboundEmail.objects.filter(kind="gift")
    assert quoting.exists()
    assert {email.text_body for email in quoting} == {"[erased]"}
    assert not OutboundEmail.objects.filter(to=BUYER).exists()


def test_erasing_a_recipient_anonymises_their_member_and_the_gift_they_received(
    client, gifts_given
):
    member = Member.objects.get(email="friend2@example.org")
    SignInLink.objects.issue(member)
    Membership.objects.filter(member=member).update(note="Said hello at the event")

    counts = privacy.erase_address("friend2@example.org", erased_by="staff")

    assert counts["members_anonymised"] == 1 and counts["gifts_received_anonymised"] == 1
    member.refresh_from_db()
    assert member.email == f"erased-member-{member.pk}@erased.invalid"
    membership = member.memberships.get()
    assert membership.note == "" and membership.source == "gift"  # the books keep it
    assert not SignInLink.objects.exists()
    redeemed = Gift.objects.get(status="redeemed")
    assert redeemed.recipient_email.endswith("@erased.invalid") and redeemed.link_sent_to == ""
    assert Gift.objects.get(recipient_email="friend1@example.org").status == "delivered"


def test_erasing_the_recipient_of_an_open_gift_revokes_it(client, gifts_given):
    link = link_in(gift_email("friend1@example.org").text_body, "/gifts/redeem/")
    privacy.erase_address("FRIEND1@example.org")
    gift = Gift.objects.get(revoke_reason="erased")
    assert gift.status == "revoked" and gift.token_hash is None
    assert client.get(link.removeprefix("http://testserver")).status_code == 400


def test_staff_erasing_a_subscriber_in_the_admin_reaches_the_membership_app(
    admin_client, gifts_given
):
    subscriber = Subscriber.objects.get(email=BUYER)
    response = admin_client.post(
        "/admin/newsletters/subscriber/",
        {
            "action": "erase_subscribers",
            "_selected_action": [subscriber.pk],
            "confirm_erase": "yes",
        },
    )
    assert response.status_code == 302
    assert GiftPurchase.objects.get().buyer_name == ""


def test_an_open_gift_sent_again_after_its_buyer_was_erased_names_nobody(client, gifts_given):
    privacy.erase_subscriber(Subscriber.objects.get(email=BUYER))
    gift_delivery.resend(Gift.objects.get(recipient_email="friend1@example.org"))
    body = gift_email("friend1@example.org").text_body
    assert body.startswith("Hello,\n\nYou've been given a membership of The Ledger for 3 months.")
    assert "/gifts/redeem/" in body
