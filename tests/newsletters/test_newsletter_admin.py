"""Staff run the lists: counts from the aggregate, editing in place, the growth chart."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletters.consent import Provenance, record
from newsletters.models import GrowthDay, ListStats, Newsletter, Subscriber, Subscription

pytestmark = pytest.mark.django_db

URL = "/admin/newsletters/newsletter/"


@pytest.fixture
def audience(newsletters):
    for n, status in enumerate(["active", "active", "pending", "unsubscribed"]):
        reader = Subscriber.objects.create(email=f"r{n}@example.org")
        Subscription.objects.create(
            subscriber=reader, newsletter=newsletters["daily-briefing"], status=status
        )
    return newsletters


def test_the_list_page_shows_counts_from_the_aggregate_not_from_subscriptions(
    admin_client, audience
):
    ListStats.objects.refresh()
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(URL).content.decode()
    assert not [q for q in queries if "newsletters_subscription" in q["sql"]]
    change_url = f"/admin/newsletters/newsletter/{audience['daily-briefing'].pk}/change/"
    daily = page.split(change_url)[1].split("</tr>")[0]
    assert '<td class="field-active_count">2</td>' in daily
    assert '<td class="field-pending_count">1</td>' in daily
    assert '<td class="field-unsubscribed_count">1</td>' in daily
    assert "Subscriber counts as of" in page


def test_the_counts_can_be_refreshed_on_demand(admin_client, audience):
    response = admin_client.post(
        URL, {"action": "recount", "_selected_action": [audience["daily-briefing"].pk]}, follow=True
    )
    assert "The counts are up to date." in response.content.decode()
    assert ListStats.objects.get(newsletter=audience["daily-briefing"]).active == 2


def test_staff_reorder_hide_and_make_lists_members_only_from_the_list_page(
    admin_client, newsletters
):
    lists = list(Newsletter.objects.all())
    data = {
        "form-TOTAL_FORMS": len(lists),
        "form-INITIAL_FORMS": len(lists),
        "_save": "Save",
    }
    for i, newsletter in enumerate(lists):
        data[f"form-{i}-id"] = newsletter.pk
        data[f"form-{i}-position"] = 100 - i
        data[f"form-{i}-audience"] = "members" if newsletter.slug == "editors-picks" else "everyone"
        if newsletter.slug != "weekly-explainer":
            data[f"form-{i}-is_public"] = "on"
    assert admin_client.post(URL, data).status_code == 302
    assert [n.slug for n in Newsletter.objects.all()] == [
        "weekly-explainer",
        "editors-picks",
        "daily-briefing",
    ]
    assert Newsletter.objects.get(slug="editors-picks").audience == "members"
    assert not Newsletter.objects.get(slug="weekly-explainer").is_public
    assert [n.slug for n in Newsletter.objects.offered()] == ["daily-briefing"]


def test_the_growth_chart_draws_daily_joins_leaves_and_the_net(admin_client, audience):
    daily = audience["daily-briefing"]
    reader = Subscriber.objects.get(email="r0@example.org")
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        record(reader, "confirmed", [daily], Provenance("email_link"))
        record(reader, "confirmed", [daily], Provenance("email_link"))
    record(reader, "unsubscribed", [daily], Provenance("email_link"))
    GrowthDay.objects.refresh()
    response = admin_client.get(f"{URL}{daily.pk}/growth/?days=30")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<svg role="img"' in page and "<polyline" in page
    assert "2 joined, 1 left, net 1." in page
    chart = response.context["chart"]
    assert len(chart.days) == 30
    assert [(d.subscribed, d.unsubscribed) for d in chart.days[-3:]] == [(2, 0), (0, 0), (0, 1)]
    assert 'style="' not in page.split('<div id="content"')[1]


def test_a_growth_window_that_is_not_offered_falls_back_to_ninety_days(admin_client, audience):
    response = admin_client.get(f"{URL}{audience['daily-briefing'].pk}/growth/?days=oops")
    assert len(response.context["chart"].days) == 90
