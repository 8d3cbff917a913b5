"""Staff find readers and act on them from the subscriber list."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletters import suppression
from newsletters.models import ConsentEvent, Subscriber, Subscription
from newsletters.staff import pagination

pytestmark = pytest.mark.django_db

URL = "/admin/newsletters/subscriber/"


@pytest.fixture
def readers(newsletters):
    def make(email, source="form", **lists):
        subscriber = Subscriber.objects.create(email=email, source=source)
        for slug, status in lists.items():
            Subscription.objects.create(
                subscriber=subscriber, newsletter=newsletters[slug.replace("_", "-")], status=status
            )
        return subscriber

    return {
        "ann": make("Ann.Reader@example.org", daily_briefing="active", editors_picks="pending"),
        "anna": make("anna@example.net", source="import", daily_briefing="pending"),
        "bob": make("bob@example.org", source="embed", editors_picks="unsubscribed"),
    }


def listed(response):
    return [s.email for s in response.context["cl"].result_list]


def test_the_list_shows_each_readers_lists_in_a_fixed_number_of_queries(admin_client, readers):
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(URL)
    assert response.status_code == 200
    assert listed(response) == ["bob@example.org", "anna@example.net", "Ann.Reader@example.org"]
    assert "The Daily Briefing (Active), Editors&#x27; Picks (Pending confirmation)" in (
        response.content.decode()
    )
    for n in range(5):
        Subscriber.objects.create(email=f"more{n}@example.org")
    with CaptureQueriesContext(connection) as more:
        admin_client.get(URL)
    assert len(more) == len(few)


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("ann.reader@EXAMPLE.org", ["Ann.Reader@example.org"]),
        ("  ANN ", ["anna@example.net", "Ann.Reader@example.org"]),
        ("anna@", ["anna@example.net"]),
        ("bob@example.org", ["bob@example.org"]),
        ("example.org", []),  # a prefix search, not a substring search
        ("ann_", []),  # LIKE wildcards are matched literally
    ],
)
def test_search_finds_a_whole_address_or_its_beginning_in_any_case(
    admin_client, readers, term, found
):
    assert listed(admin_client.get(URL, {"q": term})) == found


def test_the_list_and_status_filters_combine_on_the_same_list(admin_client, readers):
    pending_daily = admin_client.get(URL, {"newsletter": "daily-briefing", "status": "pending"})
    assert listed(pending_daily) == ["anna@example.net"]
    # Ann is pending on another list, which must not count.
    active_daily = admin_client.get(URL, {"newsletter": "daily-briefing", "status": "active"})
    assert listed(active_daily) == ["Ann.Reader@example.org"]
    on_picks = admin_client.get(URL, {"newsletter": "editors-picks"})
    assert listed(on_picks) == ["bob@example.org", "Ann.Reader@example.org"]
    any_unsubscribed = admin_client.get(URL, {"status": "unsubscribed"})
    assert listed(any_unsubscribed) == ["bob@example.org"]
    assert listed(admin_client.get(URL, {"newsletter": "no-such-list"})) == []


def test_the_source_and_date_filters(admin_client, readers):
    assert listed(admin_client.get(URL, {"source": "import"})) == ["anna@example.net"]
    Subscriber.objects.filter(pk=readers["bob"].pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    recent = admin_client.get(
        URL,
        {  # the "Past 7 days" link
            "created_at__gte": str(midnight - timedelta(days=7)),
            "created_at__lt": str(midnight + timedelta(days=1)),
        },
    )
    assert listed(recent) == ["anna@example.net", "Ann.Reader@example.org"]


def test_a_large_table_is_shown_with_an_estimate_and_never_counted_in_full(
    admin_client, readers, monkeypatch
):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE newsletters_subscriber")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(URL)
    assert "about 3 subscribers (an estimate)" in response.content.decode()
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
    filtered = admin_client.get(URL, {"newsletter": "daily-briefing"})
    assert "about" in filtered.content.decode() and listed(filtered)
    small = admin_client.get(URL, {"q": "bob"})
    assert "1 subscriber\n" in small.content.decode().replace("</p>", "\n")


def test_pages_deep_in_the_list_show_the_same_readers_found_by_their_keys_first(
    admin_client, newsletters, monkeypatch
):
    for n in range(12):
        reader = Subscriber.objects.create(email=f"r{n:02d}@example.org")
        Subscription.objects.create(subscriber=reader, newsletter=newsletters["daily-briefing"])
    monkeypatch.setattr("newsletters.admin.SubscriberAdmin.list_per_page", 5)
    views = [{"p": p} for p in (1, 2, 3)] + [{"newsletter": "daily-briefing", "p": 3}]

    def pages():
        return [listed(admin_client.get(URL, view)) for view in views]

    monkeypatch.setattr(pagination, "KEYS_FIRST_FROM", 10_000)
    by_offset = pages()
    monkeypatch.setattr(pagination, "KEYS_FIRST_FROM", 0)
    with CaptureQueriesContext(connection) as queries:
        by_keys = pages()
    assert by_keys == by_offset
    assert by_keys[:3] == [
        [f"r{n:02d}@example.org" for n in range(top, max(top - 5, -1), -1)] for top in (11, 6, 1)
    ]
    assert by_keys[3] == by_keys[2]
    keys_only = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT "newsletters_subscriber"."id" AS "pk" FROM')
        and "OFFSET 5" in q["sql"]
    ]
    assert keys_only, "the second page looked its keys up on their own"


def plan(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_searches_and_the_list_filter_are_served_by_indexes(readers):
    exact = Subscriber.objects.matching("ann.reader@example.org")
    assert "subscriber_email_ci_unique" in plan(*exact.query.sql_with_params())
    prefix = Subscriber.objects.matching("ann")
    assert "subscriber_email_ci_unique" in plan(*prefix.query.sql_with_params())
    filtered = Subscriber.objects.filter(
        subscriptions__newsletter_id=1, subscriptions__status="active"
    ).order_by("-pk")[:50]
    assert "subscription_list_status" in plan(*filtered.query.sql_with_params())


def act(client, action, subscribers, follow=False, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [s.pk for s in subscribers], **extra}
    return client.post(URL, data, follow=follow)


def test_resending_a_confirmation_goes_through_the_signup_limits(
    admin_client, readers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, "resend_confirmation", [readers["ann"], readers["bob"]])
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["Ann.Reader@example.org"] and "Editors' Picks" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        again = act(admin_client, "resend_confirmation", [readers["ann"]], follow=True)
    assert len(mail.outbox) == 1  # sent minutes ago: not again
    assert "1 readers got nothing" in again.content.decode()


def test_unsubscribing_asks_which_list_then_records_the_staff_change(admin_client, readers):
    chosen = [readers["ann"], readers["anna"]]
    page = act(admin_client, "unsubscribe_from_lists", chosen)
    assert page.status_code == 200
    assert "Lists to unsubscribe the selected readers from" in page.content.decode()
    refused = act(admin_client, "unsubscribe_from_lists", chosen, apply="1")
    assert "Choose at least one list." in refused.content.decode()
    assert (
        not Subscription.objects.filter(status="unsubscribed")
        .exclude(subscriber=readers["bob"])
        .exists()
    )
    done = act(
        admin_client,
        "unsubscribe_from_lists",
        chosen,
        apply="1",
        newsletters=[Subscription.objects.get(subscriber=readers["anna"]).newsletter_id],
    )
    assert done.status_code == 302
    assert Subscription.objects.get(subscriber=readers["anna"]).status == "unsubscribed"
    event = ConsentEvent.objects.get(subscriber=readers["anna"], action="unsubscribed")
    assert event.source == "staff" and event.source_detail == "admin: admin"


def test_suppressing_stops_list_email_to_the_selected_addresses(admin_client, readers):
    act(admin_client, "suppress", [readers["bob"]])
    assert suppression.is_suppressed("BOB@example.org")
    assert not suppression.is_suppressed("anna@example.net")


def test_exporting_the_selection_streams_their_subscriptions(admin_client, readers):
    response = act(admin_client, "export_selection", [readers["ann"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["email"], r["newsletter"], r["status"]) for r in rows] == [
        ("Ann.Reader@example.org", "daily-briefing", "active"),
        ("Ann.Reader@example.org", "editors-picks", "pending"),
    ]


def test_actions_refuse_more_readers_than_a_request_can_handle(admin_client, readers, monkeypatch):
    from newsletters.staff import actions

    monkeypatch.setattr(actions, "MAX_READERS", 2)
    response = admin_client.post(
        URL, {"action": "suppress", "select_across": "1", ACTION_CHECKBOX_NAME: [1]}, follow=True
    )
    assert "Choose at most 2 readers for this action." in response.content.decode()
    assert not suppression.is_suppressed("bob@example.org")


def test_a_readers_page_shows_their_lists_and_consent_ledger(admin_client, readers):
    from newsletters.consent import Provenance, record

    record(readers["ann"], "requested", [None], Provenance("form", detail="https://news.example"))
    response = admin_client.get(f"{URL}{readers['ann'].pk}/change/")
    page = response.content.decode()
    assert "Consent ledger" in page and "https://news.example" in page
    assert "Pending confirmation" in page


def test_readers_cannot_be_added_or_bulk_deleted_by_hand(admin_client, readers):
    assert admin_client.get(f"{URL}add/").status_code == 403
    actions = admin_client.get(URL).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _label in actions]


def test_exporting_all_the_readers_a_filter_selects(admin_client, readers):
    response = admin_client.post(
        URL + "?newsletter=daily-briefing",
        {"action": "export_selection", "select_across": "1", ACTION_CHECKBOX_NAME: [1]},
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted({r["email"] for r in rows}) == ["Ann.Reader@example.org", "anna@example.net"]
    assert len(rows) == 3  # every list of each selected reader
