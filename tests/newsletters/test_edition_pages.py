"""The public archive and the staff pages around an edition: preview, test, send, schedule."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Edition, OutboundEmail
from tests.newsletters.test_editions import make_readers, send

pytestmark = pytest.mark.django_db

HTML = (
    '<h1>Hello</h1><p style="color:red">Read <a href="https://news.example.org/a">this</a>.</p>'
    '<script>alert("x")</script><img src="x" onerror="alert(1)" alt="A chart">'
)


@pytest.fixture
def daily(newsletters):
    return newsletters["daily-briefing"]


@pytest.fixture
def draft(daily):
    return Edition.objects.create(
        newsletter=daily, subject="Monday & more", preheader="Five stories", html_body=HTML
    )


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def admin_url(name, edition):
    return reverse(f"admin:newsletters_edition_{name}", args=[edition.pk])


def test_the_archive_lists_sent_editions_and_shows_them_sanitised(
    client, draft, daily, django_capture_on_commit_callbacks
):
    make_readers(daily, 1)
    Edition.objects.create(newsletter=daily, subject="Still a draft", html_body="<p>x</p>")
    hidden = Edition.objects.create(
        newsletter=daily, subject="Not archived", html_body="<p>x</p>", in_archive=False
    )
    send(draft, django_capture_on_commit_callbacks)
    send(hidden, django_capture_on_commit_callbacks)

    page = client.get(reverse("newsletters:archive", args=[daily.slug]))
    assert page.status_code == 200
    assert "Monday &amp; more" in page.text
    assert "Still a draft" not in page.text and "Not archived" not in page.text

    page = client.get(reverse("newsletters:archive_edition", args=[daily.slug, draft.pk]))
    assert page.status_code == 200
    assert '<a href="https://news.example.org/a" rel="noopener noreferrer">this</a>' in page.text
    assert "<script" not in page.text.split("<main")[1]
    assert "onerror" not in page.text and 'style="' not in page.text
    assert "<h2>Hello</h2>" in page.text  # the page's one h1 is the subject
    not_archived = reverse("newsletters:archive_edition", args=[daily.slug, hidden.pk])
    assert client.get(not_archived).status_code == 404


def test_an_edition_of_a_members_only_list_links_to_no_archive(
    newsletters, django_capture_on_commit_callbacks
):
    members = newsletters["weekly-explainer"]
    members.audience = "members"
    members.save()
    make_readers(members, 1)
    edition = Edition.objects.create(newsletter=members, subject="Inside", html_body="<p>x</p>")
    send(edition, django_capture_on_commit_callbacks)
    assert "/archive/" not in mail.outbox[0].body
    assert "Read it in your browser" not in mail.outbox[0].alternatives[0][0]


def test_the_archive_of_a_hidden_or_members_only_list_is_not_public(client, newsletters):
    newsletters["editors-picks"].is_public = False
    newsletters["editors-picks"].save()
    newsletters["weekly-explainer"].audience = "members"
    newsletters["weekly-explainer"].save()
    for slug in ("editors-picks", "weekly-explainer", "no-such-list"):
        assert client.get(reverse("newsletters:archive", args=[slug])).status_code == 404


def test_the_email_link_to_the_archive_opens_the_edition(
    client, draft, daily, django_capture_on_commit_callbacks
):
    make_readers(daily, 1)
    send(draft, django_capture_on_commit_callbacks)
    path = reverse("newsletters:archive_edition", args=[daily.slug, draft.pk])
    assert f"http://testserver{path}" in mail.outbox[0].body


def test_staff_preview_shows_the_email_framed_safely_and_its_text(staff, draft):
    page = staff.get(admin_url("preview", draft))
    assert page.status_code == 200
    assert (
        "Monday &amp; more" in page.text and "Read this (https://news.example.org/a)." in page.text
    )
    frame = staff.get(admin_url("preview_email", draft))
    assert frame.status_code == 200
    assert "default-src 'none'" in frame["Content-Security-Policy"]
    assert "sandbox" in frame["Content-Security-Policy"]
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    body = frame.content.decode()
    assert "<script" not in body and "onerror" not in body
    assert 'style="color:red"' in body and "Five stories" in body
    assert "/newsletters/preferences/" in body  # the footer's links


def test_staff_previews_need_a_staff_login(client, draft):
    for name in ("preview", "preview_email", "progress"):
        response = client.get(admin_url(name, draft))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_test_send_goes_through_the_outbox_to_the_address_given(
    staff, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(admin_url("test", draft), {"to": "editor@example.org"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["editor@example.org"]
    assert message.subject == "[Test] Monday & more"
    assert OutboundEmail.objects.get().kind == "edition_test"
    draft.refresh_from_db()
    assert draft.status == Edition.Status.DRAFT


def test_a_test_send_to_a_bad_address_sends_nothing(staff, draft):
    response = staff.post(admin_url("test", draft), {"to": "not an address"}, follow=True)
    assert "Please enter a valid email address." in response.text
    assert mail.outbox == [] and not OutboundEmail.objects.exists()


def test_staff_send_now_and_watch_the_counts(
    staff, draft, daily, django_capture_on_commit_callbacks
):
    make_readers(daily, 3)
    change = staff.get(reverse("admin:newsletters_edition_change", args=[draft.pk]))
    assert "Send now to 3 readers" in change.text
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(admin_url("send", draft), follow=True)
    assert "Sending has started." in response.text
    progress = staff.get(admin_url("progress", draft)).json()
    assert (progress["status"], progress["recipients"], progress["sent"]) == ("sent", 3, 3)
    assert progress["percent"] == 100 and progress["status_label"] == "Sent"
    change = staff.get(reverse("admin:newsletters_edition_change", args=[draft.pk]))
    assert "Send now" not in change.text and 'name="_save"' not in change.text
    # Sending again is refused and changes nothing.
    response = staff.post(admin_url("send", draft), follow=True)
    assert "This edition has already been sent." in response.text
    assert len(mail.outbox) == 1


def test_staff_schedule_in_the_future_and_cancel(staff, draft):
    when = timezone.localtime() + timedelta(days=1)
    response = staff.post(
        admin_url("schedule", draft), {"send_at": when.strftime("%Y-%m-%dT%H:%M")}, follow=True
    )
    assert "Scheduled for" in response.text
    draft.refresh_from_db()
    assert draft.status == Edition.Status.SCHEDULED
    response = staff.post(admin_url("cancel", draft), follow=True)
    assert "the edition is a draft again" in response.text
    draft.refresh_from_db()
    assert draft.status == Edition.Status.DRAFT and draft.send_at is None


def test_a_schedule_in_the_past_or_unreadable_is_refused_and_changes_nothing(staff, draft):
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = staff.post(admin_url("schedule", draft), {"send_at": past}, follow=True)
    assert "Choose a time in the future, or send it now." in response.text
    response = staff.post(admin_url("schedule", draft), {"send_at": "tomorrow-ish"}, follow=True)
    assert "Enter a valid date/time." in response.text
    draft.refresh_from_db()
    assert draft.status == Edition.Status.DRAFT and draft.send_at is None
    assert staff.get(admin_url("send", draft)).status_code == 405  # actions are POST only
