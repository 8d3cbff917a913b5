import json

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from newsletters import privacy, suppression
from newsletters.consent import Provenance
from newsletters.models import (
    ConsentEvent,
    OutboundEmail,
    Subscriber,
    Subscription,
    Suppression,
    address_hash,
)
from tests.conftest import link_in

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/newsletters/subscriber/"


@pytest.fixture
def reader(client, newsletters, django_capture_on_commit_callbacks):
    """A reader who signed up on the page, confirmed, and later left one list."""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/newsletters/",
            {"email": "Reader@example.org", "newsletters": ["daily-briefing", "editors-picks"]},
            HTTP_USER_AGENT="Reader's phone",
        )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(mail.outbox[0].body, "/newsletters/confirm/"))
    subscriber = Subscriber.objects.get(email="Reader@example.org")
    client.post(link_in(mail.outbox[1].body, "/newsletters/unsubscribe/"))
    # Another part of the service wrote the address in another case.
    OutboundEmail.objects.create(
        key="other.1", kind="other", to="READER@example.org", subject="Hi", text_body="Hi"
    )
    return subscriber


@pytest.fixture
def bystander(newsletters):
    other = Subscriber.objects.create(email="other@example.org")
    other.subscriptions.create(newsletter=newsletters["daily-briefing"], status="active")
    return other


def test_an_export_holds_everything_on_the_subscriber_including_the_ledger(reader):
    export = privacy.export_subscriber(reader)
    assert json.loads(json.dumps(export)) == export  # ready for JSON as it is
    assert export["subscriber"]["email"] == "Reader@example.org"
    assert export["suppression"] is None
    assert {(s["newsletter"], s["status"]) for s in export["subscriptions"]} == {
        ("daily-briefing", "unsubscribed"),
        ("editors-picks", "unsubscribed"),
    }
    ledger = export["consent_ledger"]
    assert [e["action"] for e in ledger] == ["requested"] * 2 + ["confirmed"] * 2 + [
        "unsubscribed"
    ] * 2
    assert ledger[0]["ip"] == "127.0.0.1"
    assert ledger[0]["user_agent"] == "Reader's phone"
    assert ledger[0]["wording"].startswith("Send me the newsletters I ticked")
    assert ledger[0]["wording_version"]
    assert [e["kind"] for e in export["emails"]] == ["confirmation", "welcome", "other"]


def test_an_export_says_when_and_why_the_address_is_suppressed(reader):
    suppression.suppress(reader.email, "complained", Provenance(source="esp", detail="Postmark"))
    export = privacy.export_subscriber(reader)
    assert export["suppression"]["reason"] == "complained"
    assert export["consent_ledger"][-1]["action"] == "complained"


def test_erasing_removes_all_personal_data_and_keeps_only_a_hashed_suppression(reader, bystander):
    suppression.suppress(
        reader.email, "bounced", Provenance(source="esp"), detail="550 <Reader@example.org>"
    )
    counts = privacy.erase_subscriber(reader, erased_by="staff")
    assert counts == {"subscriptions": 2, "ledger_lines": 7, "emails": 3, "edition_deliveries": 0}
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["other@example.org"]
    assert Subscription.objects.count() == 1
    assert not ConsentEvent.objects.filter(subscriber=reader.pk).exists()
    assert not OutboundEmail.objects.filter(to__iexact="reader@example.org").exists()
    row = Suppression.objects.get()
    assert (row.reason, row.detail) == ("erased", "")
    assert row.address_hash == address_hash("reader@example.org")


ERASED_ELSEWHERE: list[tuple[str, str, bool]] = []


def erase_elsewhere(email, erased_by):
    """An eraser another app would name in NEWSLETTERS_EXTRA_ERASERS."""
    from django.db import connection

    ERASED_ELSEWHERE.append((email, erased_by, connection.in_atomic_block))
    return {"things_elsewhere": 2}


def failing_eraser(email, erased_by):
    raise RuntimeError("the other app's database said no")


def test_erasing_runs_the_extra_erasers_other_apps_name_in_the_same_transaction(reader, settings):
    settings.NEWSLETTERS_EXTRA_ERASERS = ["tests.newsletters.test_privacy.erase_elsewhere"]
    ERASED_ELSEWHERE.clear()
    counts = privacy.erase_subscriber(reader, erased_by="staff")
    assert ERASED_ELSEWHERE == [("Reader@example.org", "staff", True)]
    assert counts["things_elsewhere"] == 2 and counts["subscriptions"] == 2


def test_an_extra_eraser_that_fails_leaves_the_subscriber_as_they_were(reader, settings):
    settings.NEWSLETTERS_EXTRA_ERASERS = ["tests.newsletters.test_privacy.failing_eraser"]
    with pytest.raises(RuntimeError):
        privacy.erase_subscriber(reader)
    assert Subscriber.objects.filter(pk=reader.pk).exists()
    assert Suppression.objects.count() == 0


def test_an_address_that_never_subscribed_can_be_erased_too(db, settings):
    settings.NEWSLETTERS_EXTRA_ERASERS = ["tests.newsletters.test_privacy.erase_elsewhere"]
    ERASED_ELSEWHERE.clear()
    OutboundEmail.objects.create(key="x.1", kind="x", to="Buyer@example.org", text_body="Hi")
    counts = privacy.erase_address("buyer@example.org", erased_by="staff")
    assert counts == {"emails": 1, "things_elsewhere": 2}
    assert ERASED_ELSEWHERE[0][0] == "buyer@example.org"
    assert Suppression.objects.get().address_hash == address_hash("buyer@example.org")


def test_an_erased_address_gets_no_list_email_but_may_come_back_through_double_opt_in(
    client, reader, newsletters, django_capture_on_commit_callbacks
):
    privacy.erase_subscriber(reader)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/newsletters/", {"email": "reader@example.org", "newsletters": "weekly-explainer"}
        )
    assert response.status_code == 302
    (confirmation,) = mail.outbox  # transactional: sent although the address is suppressed
    fresh = Subscriber.objects.get(email="reader@example.org")
    assert fresh.pk != reader.pk
    assert fresh.subscriptions.get().status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(confirmation.body, "/newsletters/confirm/"))
    assert fresh.subscriptions.get().status == "active"
    assert not suppression.is_suppressed("reader@example.org")
    assert mail.outbox[-1].subject == "Welcome to The Ledger"


def test_old_links_for_an_erased_reader_no_longer_open_anything(client, reader):
    preferences = link_in(mail.outbox[1].body, "/newsletters/preferences/")
    privacy.erase_subscriber(reader)
    assert client.get(preferences).status_code == 400


def test_staff_export_a_subscriber_as_json_from_the_admin(admin_client, reader, bystander):
    response = admin_client.post(
        CHANGELIST, {"action": "export_as_json", "_selected_action": [reader.pk], "index": 0}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="subscriber-{reader.pk}.json"'
    assert json.loads(response.content)["subscriber"]["email"] == "Reader@example.org"
    several = admin_client.post(
        CHANGELIST,
        {"action": "export_as_json", "_selected_action": [reader.pk, bystander.pk], "index": 0},
    )
    assert [e["subscriber"]["email"] for e in json.loads(several.content)] == [
        "Reader@example.org",
        "other@example.org",
    ]


def test_staff_erase_a_subscriber_from_the_admin_after_confirming(admin_client, reader, bystander):
    ask = admin_client.post(
        CHANGELIST, {"action": "erase_subscribers", "_selected_action": [reader.pk], "index": 0}
    )
    assert ask.status_code == 200
    assert "Erase these subscribers?" in ask.content.decode()
    assert Subscriber.objects.filter(pk=reader.pk).exists()  # nothing yet
    done = admin_client.post(
        CHANGELIST,
        {"action": "erase_subscribers", "_selected_action": [reader.pk], "confirm_erase": "yes"},
        follow=True,
    )
    assert "Erased 1 subscriber" in done.content.decode()
    assert not Subscriber.objects.filter(pk=reader.pk).exists()
    assert Subscriber.objects.filter(pk=bystander.pk).exists()
    assert Suppression.objects.get().reason == "erased"


def test_staff_who_may_only_view_subscribers_can_export_but_not_erase(
    client, django_user_model, reader
):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(clerk)
    exported = client.post(
        CHANGELIST, {"action": "export_as_json", "_selected_action": [reader.pk], "index": 0}
    )
    assert exported["Content-Type"] == "application/json"
    client.post(
        CHANGELIST,
        {"action": "erase_subscribers", "_selected_action": [reader.pk], "confirm_erase": "yes"},
    )
    assert Subscriber.objects.filter(pk=reader.pk).exists()
    assert not Suppression.objects.exists()
