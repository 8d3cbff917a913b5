"""Staff: plans, members, memberships (filters, complimentary grants), drives, Stripe events."""

from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from membership.models import Drive, Member, Membership
from newsletters.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db


def text(response):
    return unescape(response.content.decode())


def test_staff_grant_a_complimentary_membership_without_an_end(admin_client, admin_user):
    response = admin_client.post(
        "/admin/membership/membership/add/",
        {
            "email": " Writer@Example.ORG ",
            "current_period_end_0": "",
            "current_period_end_1": "",
            "note": "Columnist",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    assert membership.member.email == "Writer@example.org"
    assert (membership.source, membership.status) == ("complimentary", "active")
    assert membership.current_period_end is None
    assert membership.granted_by == admin_user
    assert membership.gives_access()


def test_staff_grant_a_complimentary_membership_with_an_end(admin_client, member):
    ends = timezone.localtime() + timedelta(days=90)
    admin_client.post(
        "/admin/membership/membership/add/",
        {
            "email": "reader@example.org",
            "current_period_end_0": ends.strftime("%Y-%m-%d"),
            "current_period_end_1": "12:00:00",
            "note": "Competition prize",
        },
    )
    membership = Membership.objects.get()
    assert membership.member == member
    assert membership.current_period_end.date() == ends.date()


def test_a_grant_with_a_past_end_or_a_bad_address_is_refused(admin_client):
    response = admin_client.post(
        "/admin/membership/membership/add/",
        {
            "email": "not-an-address",
            "current_period_end_0": "2001-01-01",
            "current_period_end_1": "12:00:00",
        },
    )
    assert response.status_code == 200
    html = text(response)
    assert "Please enter a valid email address." in html
    assert "Choose a time in the future" in html
    assert Membership.objects.count() == Member.objects.count() == 0


def test_memberships_filter_by_status_and_source(admin_client, paid):
    Membership.objects.create(member=paid.member, source="complimentary")
    gone = Member.objects.create(email="gone@example.org")
    Membership.objects.create(member=gone, source="gift", status="canceled")

    def rows(query):
        response = admin_client.get("/admin/membership/membership/" + query)
        assert response.status_code == 200
        return response.context["cl"].result_count

    assert rows("") == 3
    assert rows("?status__exact=active") == 2
    assert rows("?source__exact=paid") == 1
    assert rows("?status__exact=canceled&source__exact=gift") == 1


def test_a_paid_membership_is_read_only_but_for_the_note(admin_client, paid):
    response = admin_client.get(f"/admin/membership/membership/{paid.pk}/change/")
    form = response.context["adminform"].form
    assert list(form.fields) == ["note"]


def test_staff_end_complimentary_memberships_and_their_members_lists_close(
    admin_client, paid, members_list
):
    comp_member = Member.objects.create(email="writer@example.org")
    comp = Membership.objects.create(member=comp_member, source="complimentary")
    subscriber = Subscriber.objects.create(email="writer@example.org")
    Subscription.objects.create(subscriber=subscriber, newsletter=members_list, status="active")

    response = admin_client.post(
        "/admin/membership/membership/",
        {"action": "end_now", "_selected_action": [comp.pk, paid.pk]},
        follow=True,
    )

    html = text(response)
    assert "Ended 1 memberships." in html
    assert "Left 1 alone: paid ones end in Stripe" in html
    comp.refresh_from_db()
    paid.refresh_from_db()
    assert comp.status == "canceled" and not comp.gives_access()
    assert paid.status == "active"
    assert Subscription.objects.get().status == "unsubscribed"


def test_the_admin_pages_for_plans_members_drives_and_events_work(admin_client, paid):
    Drive.objects.create(
        slug="birthday",
        title="Our birthday drive",
        goal=1000,
        starts_at=timezone.now() - timedelta(days=30),
        ends_at=timezone.now() + timedelta(days=1),
    )
    assert "Monthly" in text(admin_client.get("/admin/membership/plan/"))
    assert "£5 a month" in text(admin_client.get("/admin/membership/plan/"))
    assert "reader@example.org" in text(admin_client.get("/admin/membership/member/?q=reader"))
    member_page = text(admin_client.get(f"/admin/membership/member/{paid.member.pk}/change/"))
    assert "Paid" in member_page
    assert "1 of 1,000 new members, 1 day left" in text(
        admin_client.get("/admin/membership/drive/")
    )
    drive = Drive.objects.get()
    change = text(admin_client.get(f"/admin/membership/drive/{drive.pk}/change/"))
    assert "http://testserver/membership/drives/birthday/embed/" in change
    assert admin_client.get("/admin/membership/stripeevent/").status_code == 200
    assert admin_client.get("/admin/membership/stripeevent/add/").status_code == 403
