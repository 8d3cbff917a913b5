"""Members-only lists through the extension point: a setting naming who counts as a member."""

import pytest

from newsletters import signup
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Newsletter, Subscription

pytestmark = pytest.mark.django_db

MEMBERS = {"member@example.org"}
PROVENANCE = Provenance(source=ConsentEvent.Source.FORM)


def is_member(email):
    return email.lower() in MEMBERS


@pytest.fixture
def members_list(settings):
    settings.NEWSLETTERS_MEMBER_CHECK = "tests.newsletters.test_audience.is_member"
    return Newsletter.objects.create(
        slug="insiders", name="Insiders", audience=Newsletter.Audience.MEMBERS
    )


def test_a_member_may_ask_for_a_members_list_and_a_non_member_may_not(members_list):
    signup.subscribe("Member@example.org", [members_list], PROVENANCE)
    signup.subscribe("stranger@example.org", [members_list], PROVENANCE)
    (subscription,) = Subscription.objects.all()
    assert subscription.subscriber.email == "Member@example.org"
    assert subscription.status == "pending"


def test_a_confirmation_opens_a_members_list_only_while_still_a_member(members_list, newsletters):
    signup.subscribe(
        "member@example.org", [members_list, newsletters["daily-briefing"]], PROVENANCE
    )
    sub = Subscription.objects.filter(newsletter=members_list).get()
    link = signup.ConfirmationLink(
        sub.subscriber_id, (members_list.pk, newsletters["daily-briefing"].pk), sub.requested_at
    )
    MEMBERS.clear()
    try:
        confirmed = signup.confirm(link, PROVENANCE)
    finally:
        MEMBERS.add("member@example.org")
    assert confirmed.newly == [newsletters["daily-briefing"]]
    assert Subscription.objects.get(newsletter=members_list).status == "pending"


def test_without_a_member_check_members_lists_take_nobody(members_list, settings):
    settings.NEWSLETTERS_MEMBER_CHECK = ""
    signup.subscribe("member@example.org", [members_list], PROVENANCE)
    assert Subscription.objects.count() == 0


def test_the_preferences_page_offers_members_lists_to_members_only(members_list, newsletters):
    from newsletters.models import Subscriber
    from newsletters.preferences import choices_for

    member = Subscriber.objects.create(email="member@example.org")
    stranger = Subscriber.objects.create(email="stranger@example.org")
    assert members_list in choices_for(member)
    assert members_list not in choices_for(stranger)
    assert newsletters["daily-briefing"] in choices_for(stranger)
