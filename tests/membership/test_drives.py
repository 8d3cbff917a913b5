"""Drives and the supporter count: exact, cached briefly, embeddable as an iframe or JSON."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from membership import counts
from membership.models import Drive, Member, Membership

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) - timedelta(days=18)


@pytest.fixture
def drive(db):
    return Drive.objects.create(
        slug="birthday",
        title="Our birthday drive",
        goal=1000,
        starts_at=START,
        ends_at=START + timedelta(days=30),
    )


def join(email, source="paid", started=None, status="active", **fields):
    member = Member.objects.get_or_create_for_email(email)
    return Membership.objects.create(
        member=member, source=source, status=status, started_at=started or timezone.now(), **fields
    )


def test_a_drive_counts_new_members_of_the_chosen_kinds_in_its_window(drive):
    join("a@example.org")
    join("b@example.org", source="gift")
    join("c@example.org", status="canceled")  # joined in the drive, left since: still joined
    join("a@example.org", source="complimentary")  # the same member again
    join("d@example.org", source="complimentary")  # not counted by this drive
    join("e@example.org", status="incomplete")  # never paid
    join("f@example.org", started=START - timedelta(seconds=1))  # before the drive
    assert drive.count_new_members() == 3

    drive.counts_complimentary = True
    assert drive.count_new_members() == 4


def test_the_label_reads_like_the_newsroom_writes_it(drive):
    for n in range(3):
        join(f"r{n}@example.org")
    progress = counts.drive_progress(drive, now=START + timedelta(days=18, hours=1))
    assert progress.label == "3 of 1,000 new members, 12 days left"
    assert progress.percent == 0
    ended = counts.drive_progress(drive, now=START + timedelta(days=31))
    assert ended.label == "3 of 1,000 new members; the drive has ended"


def test_the_json_endpoint_answers_the_newsroom_site_across_origins(client, drive, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    settings.CORS_ALLOWED_ORIGINS = settings.EMBED_ALLOWED_ORIGINS
    join("a@example.org")
    response = client.get("/api/v1/drives/birthday", HTTP_ORIGIN="https://news.example.org")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://news.example.org"
    assert response["Cache-Control"] == "public, max-age=60"
    data = response.json()
    assert data["goal"] == 1000 and data["count"] == 1
    assert data["days_left"] == 12
    assert data["label"] == "1 of 1,000 new members, 12 days left"

    other = client.get("/api/v1/drives/birthday", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other


def test_an_unknown_drive_is_a_clear_404(client, db):
    response = client.get("/api/v1/drives/nope")
    assert response.status_code == 404
    assert "There is no drive called" in response.json()["message"]
    assert client.get("/membership/drives/nope/embed/").status_code == 404


def test_the_widget_may_be_framed_by_the_newsroom_and_works_without_script(client, drive, settings):
    settings.EMBED_ALLOWED_ORIGINS = ["https://news.example.org"]
    join("a@example.org")
    response = client.get("/membership/drives/birthday/embed/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors 'self' https://news.example.org" in response["Content-Security-Policy"]
    html = unescape(response.content.decode())
    assert "<script" not in html and "style=" not in html
    assert '<progress max="100" value="0"' in html
    assert "1 of 1,000 new members, 12 days left" in html


def test_counts_are_exact_but_cached_briefly(drive):
    join("a@example.org")
    now = timezone.now()
    assert counts.drive_progress(drive, now=now).count == 1
    join("b@example.org")
    assert counts.drive_progress(drive, now=now + timedelta(seconds=59)).count == 1
    assert counts.drive_progress(drive, now=now + timedelta(seconds=61)).count == 2


def test_editing_a_drive_counts_afresh(drive):
    join("a@example.org", source="complimentary")
    assert counts.drive_progress(drive).count == 0
    drive.counts_complimentary = True
    drive.save()
    assert counts.drive_progress(drive).count == 1


def test_counts_are_made_afresh_when_the_cache_is_down(drive, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    join("a@example.org")
    assert counts.drive_progress(drive).count == 1


def test_the_supporter_count_is_members_with_access_now_each_once(client, db):
    join("a@example.org")
    join("a@example.org", source="complimentary")
    join("b@example.org", source="gift", current_period_end=timezone.now() + timedelta(days=3))
    join("c@example.org", source="complimentary", current_period_end=timezone.now())  # over
    join("d@example.org", status="canceled")
    join("e@example.org", status="past_due", past_due_since=timezone.now() - timedelta(days=1))
    join("f@example.org", status="past_due", past_due_since=timezone.now() - timedelta(days=30))

    response = client.get("/api/v1/supporters")
    assert response.json() == {"count": 3, "label": "3 supporters"}
    widget = client.get("/membership/supporters/embed/")
    assert "3 supporters" in widget.content.decode()
    assert "frame-ancestors 'self'" in widget["Content-Security-Policy"]


def test_the_supporter_label_groups_thousands():
    assert counts.supporters_label(12000) == "12,000 supporters"
    assert counts.supporters_label(1) == "1 supporter"


def test_a_drive_must_end_after_it_starts_and_count_something(drive):
    drive.ends_at = drive.starts_at
    with pytest.raises(ValidationError, match="ends after it starts"):
        drive.full_clean()
    drive.ends_at = drive.starts_at + timedelta(days=1)
    drive.counts_paid = drive.counts_gift = drive.counts_complimentary = False
    with pytest.raises(ValidationError, match="at least one kind"):
        drive.full_clean()


def test_access_by_query_agrees_with_access_by_row(db):
    now = timezone.now()
    cases = [
        join("a@example.org"),
        join("b@example.org", status="trialing"),
        join("c@example.org", source="gift", current_period_end=now - timedelta(seconds=1)),
        join("d@example.org", source="complimentary"),
        join("e@example.org", status="past_due", past_due_since=now - timedelta(days=13)),
        join("f@example.org", status="past_due", past_due_since=now - timedelta(days=15)),
        join("g@example.org", status="past_due"),
        join("h@example.org", status="unpaid", past_due_since=now),
        join("i@example.org", status="incomplete"),
        join("j@example.org", status="canceled"),
    ]
    with time_machine.travel(now):
        by_query = set(Membership.objects.giving_access().values_list("pk", flat=True))
        by_row = {m.pk for m in cases if m.gives_access()}
    assert by_query == by_row
    assert len(by_row) == 4
