"""Staff: gift prices, purchases with their gifts, gifts with filters, resend and revoke."""

from datetime import date, timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User

from membership import counts
from membership.models import Gift, GiftPrice, Member, Membership, SupporterCount
from newsletters.models import OutboundEmail
from tests.membership import gift_orders
from tests.membership.gift_orders import a_recipient, gifts

pytestmark = pytest.mark.django_db

GIFTS = "/admin/membership/gift/"


def text(response):
    return unescape(response.content.decode())


@pytest.fixture
def purchase(gift_prices):
    later = date.today() + timedelta(days=30)
    return gift_orders.paid(a_recipient(1), a_recipient(2, deliver_on=later))


def test_staff_set_a_price_per_duration(admin_client, db):
    response = admin_client.post(
        "/admin/membership/giftprice/add/",
        {"months": "6", "amount": "2800", "currency": "gbp", "is_active": "on"},
    )
    assert response.status_code == 302
    assert GiftPrice.objects.get().label == "6 months for £28"
    refused = admin_client.post(
        "/admin/membership/giftprice/add/",
        {"months": "12", "amount": "5000", "currency": "eur", "is_active": "on"},
    )
    assert "Every offered gift price must be in the same currency." in text(refused)
    assert GiftPrice.objects.count() == 1


def test_gifts_filter_by_status(admin_client, purchase):
    def count(query):
        response = admin_client.get(GIFTS + query)
        assert response.status_code == 200
        return response.context["cl"].result_count

    assert count("") == 2
    assert count("?status__exact=delivered") == 1
    assert count("?status__exact=scheduled") == 1
    assert count("?status__exact=redeemed") == 0
    html = text(admin_client.get(GIFTS))
    assert "friend1@example.org" in html and "giver@example.org" in html


def test_staff_see_that_a_gift_has_a_message_but_not_the_message(admin_client, gift_prices):
    purchase = gift_orders.paid(a_recipient(1, message="Only for you, Ann"))
    html = text(admin_client.get(f"{GIFTS}{gifts(purchase)[0].pk}/change/"))
    assert "Personal message" in html and "Only for you" not in html


def test_a_purchase_shows_its_gifts(admin_client, purchase):
    response = admin_client.get(f"/admin/membership/giftpurchase/{purchase.pk}/change/")
    html = text(response)
    assert "friend1@example.org" in html and "friend2@example.org" in html
    assert "Paid, waiting for its delivery date" in html
    listing = admin_client.get("/admin/membership/giftpurchase/")
    assert listing.context["cl"].result_count == 1


def test_staff_resend_delivered_gifts_and_are_told_about_the_rest(admin_client, purchase):
    delivered, scheduled = gifts(purchase)
    response = admin_client.post(
        GIFTS,
        {"action": "resend", "_selected_action": [delivered.pk, scheduled.pk]},
        follow=True,
    )
    html = text(response)
    assert "Sent 1 gift emails again." in html
    assert "Left 1 gift alone" in html
    assert OutboundEmail.objects.filter(kind="gift", to="friend1@example.org").count() == 2
    assert not OutboundEmail.objects.filter(kind="gift", to="friend2@example.org").exists()


def test_staff_revoke_a_gift_without_refunding_it(admin_client, purchase):
    _delivered, scheduled = gifts(purchase)
    response = admin_client.post(
        GIFTS, {"action": "revoke", "_selected_action": [scheduled.pk]}, follow=True
    )
    assert "Revoked 1 gifts. No money was refunded." in text(response)
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.revoke_reason) == ("revoked", "staff")
    again = admin_client.post(
        GIFTS, {"action": "revoke", "_selected_action": [scheduled.pk]}, follow=True
    )
    assert "Left 1 gift alone" in text(again)


def test_revoking_a_redeemed_gift_ends_the_membership_it_started(admin_client, client, purchase):
    delivered, _ = gifts(purchase)
    token, _code = delivered.credentials()
    client.post(f"/gifts/redeem/{token}/")
    membership = Membership.objects.get()
    assert membership.gives_access()
    admin_client.post(GIFTS, {"action": "revoke", "_selected_action": [delivered.pk]})
    membership.refresh_from_db()
    assert not membership.gives_access()


def test_staff_resend_receipts(admin_client, purchase):
    response = admin_client.post(
        "/admin/membership/giftpurchase/",
        {"action": "resend_receipt", "_selected_action": [purchase.pk]},
        follow=True,
    )
    assert "Sent 1 receipts" in text(response)
    assert OutboundEmail.objects.filter(kind="gift_receipt").count() == 2


def test_staff_without_the_change_permission_cannot_revoke(client, purchase):
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gift"))
    client.force_login(viewer)
    assert client.get(GIFTS).status_code == 200
    delivered, _ = gifts(purchase)
    client.post(GIFTS, {"action": "revoke", "_selected_action": [delivered.pk]})
    assert Gift.objects.get(pk=delivered.pk).status == "delivered"


def test_staff_choose_whether_gift_memberships_count_as_supporters(admin_client, db):
    for n, source in enumerate(["paid", "gift", "gift", "complimentary"]):
        member = Member.objects.create(email=f"m{n}@example.org")
        Membership.objects.create(member=member, source=source)
    assert counts.supporter_count() == 4

    response = admin_client.post(
        "/admin/membership/supportercount/add/",
        {"counts_paid": "on", "counts_complimentary": "on"},
    )
    assert response.status_code == 302
    assert SupporterCount.current().sources == ["paid", "complimentary"]
    assert counts.supporter_count() == 2  # a change shows at once: the choice is in the key
    assert admin_client.get("/admin/membership/supportercount/add/").status_code == 403

    refused = admin_client.post(
        f"/admin/membership/supportercount/{SupporterCount.current().pk}/change/", {}
    )
    assert "Choose at least one kind of membership to count." in text(refused)
