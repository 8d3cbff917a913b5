"""Subscribers as CSV: streamed, per list, with proof of consent, safe in a spreadsheet."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.http import StreamingHttpResponse

from newsletters.consent import Provenance, record
from newsletters.exports import spreadsheet_safe
from newsletters.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db

URL = "/admin/newsletters/subscriber/export/"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("reader@example.org", "reader@example.org"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(cell, safe):
    assert spreadsheet_safe(cell) == safe


@pytest.fixture
def readers(newsletters):
    ann = Subscriber.objects.create(email="ann@example.org", source="form")
    Subscription.objects.create(
        subscriber=ann, newsletter=newsletters["daily-briefing"], status="active"
    )
    Subscription.objects.create(
        subscriber=ann, newsletter=newsletters["editors-picks"], status="pending"
    )
    record(
        ann,
        "confirmed",
        [newsletters["daily-briefing"]],
        Provenance("email_link", detail="=cmd|' /C calc'!A0", ip="203.0.113.9"),
    )
    evil = Subscriber.objects.create(email="+1@example.org", source="import")
    Subscription.objects.create(
        subscriber=evil, newsletter=newsletters["daily-briefing"], status="unsubscribed"
    )
    return newsletters


def download(response):
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="subscribers-')
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffemail,newsletter,status,")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_one_list_exports_each_readers_status_and_proof_of_consent(admin_client, readers):
    rows = download(admin_client.get(URL, {"newsletter": "daily-briefing", "download": "1"}))
    assert [(r["email"], r["status"]) for r in rows] == [
        ("ann@example.org", "active"),
        ("'+1@example.org", "unsubscribed"),
    ]
    ann = rows[0]
    assert ann["consent_action"] == "confirmed" and ann["consent_ip"] == "203.0.113.9"
    assert ann["consent_detail"] == "'=cmd|' /C calc'!A0"
    assert ann["subscriber_source"] == "form" and ann["confirmed_at"] == ""
    assert rows[1]["consent_action"] == ""


def test_all_lists_can_be_exported_and_narrowed_by_status(admin_client, readers):
    everything = download(admin_client.get(URL, {"download": "1"}))
    assert len(everything) == 3
    pending = download(admin_client.get(URL, {"status": "pending", "download": "1"}))
    assert [(r["email"], r["newsletter"]) for r in pending] == [
        ("ann@example.org", "editors-picks")
    ]


def test_the_export_page_offers_the_choice_before_downloading(admin_client, readers):
    page = admin_client.get(URL)
    assert page.status_code == 200 and "All lists" in page.content.decode()
    refused = admin_client.get(URL, {"newsletter": "no-such-list", "download": "1"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()


def test_exporting_needs_the_export_permission(client, readers):
    staff = User.objects.create_user("viewer", password="pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(staff)
    assert client.get(URL, {"download": "1"}).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="export_subscribers"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(URL, {"download": "1"}).status_code == 200
