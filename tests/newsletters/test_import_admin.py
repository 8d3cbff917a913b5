"""Uploading an import in the admin, watching it, downloading its report."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from newsletters.models import Subscriber, SubscriberImport

pytestmark = pytest.mark.django_db

ADD = "/admin/newsletters/subscriberimport/add/"
GHOST = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,"
    "deleted_at,labels,tiers\n"
    "6231a,member@example.org,Iryna,,true,false,,2022-03-16T08:03:11.000Z,,,\n"
    "6231b,quiet@example.org,,,false,false,,2022-03-17T09:00:00.000Z,,,\n"
)


def upload(client, content, name="members.csv", **fields):
    data = {
        "file": SimpleUploadedFile(name, content.encode(), content_type="text/csv"),
        "newsletters": fields.pop("newsletters", []),
        "consent_basis": fields.pop("consent_basis", "confirmed-elsewhere"),
        "consent_note": fields.pop("consent_note", "Signed up on our Ghost site"),
        **fields,
    }
    return client.post(ADD, data)


def test_staff_upload_a_file_and_land_on_its_progress_page(
    admin_client, media, newsletters, django_capture_on_commit_callbacks, admin_user
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, GHOST, newsletters=[newsletters["daily-briefing"].pk])
    run = SubscriberImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/newsletters/subscriberimport/{run.pk}/change/"
    assert (run.status, run.format, run.created_by, run.original_name) == (
        "done",
        "ghost",
        admin_user,
        "members.csv",
    )
    assert (run.added, run.skipped) == (1, 1)
    assert run.file.path.startswith(str(media))
    page = admin_client.get(response["Location"]).content.decode()
    assert 'value="100"' in page and "Ghost export" in page
    assert f"/admin/newsletters/subscriberimport/{run.pk}/report/" in page
    assert 'http-equiv="refresh"' not in page  # finished: nothing left to watch


def test_a_file_without_an_email_column_is_refused_and_nothing_is_imported(
    admin_client, media, newsletters
):
    response = upload(
        admin_client, "name,city\nAnn,Kyiv\n", newsletters=[newsletters["daily-briefing"].pk]
    )
    assert response.status_code == 200
    assert "include an email column" in response.content.decode()
    assert not SubscriberImport.objects.exists()


def test_confirmed_elsewhere_is_refused_for_a_file_without_consent_columns(
    admin_client, media, newsletters
):
    response = upload(
        admin_client, "email\nann@example.org\n", newsletters=[newsletters["daily-briefing"].pk]
    )
    assert "has no opt-in or confirmation times" in response.content.decode()
    assert not SubscriberImport.objects.exists() and not Subscriber.objects.exists()


def test_an_import_needs_at_least_one_list_and_a_consent_note(admin_client, media, newsletters):
    response = upload(admin_client, GHOST, consent_note="")
    page = response.content.decode()
    assert "Choose at least one list." in page and "This field is required." in page
    assert not SubscriberImport.objects.exists()


def test_an_oversized_or_empty_file_is_refused(admin_client, media, newsletters, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    big = "email\n" + "r@example.org\n" * 100_000
    assert (
        "Import it from the command line"
        in upload(
            admin_client, big, newsletters=[newsletters["daily-briefing"].pk]
        ).content.decode()
    )
    assert (
        "The submitted file is empty."
        in upload(admin_client, "", newsletters=[newsletters["daily-briefing"].pk]).content.decode()
    )


def test_a_running_import_reports_its_progress_as_json_and_refreshes_without_javascript(
    admin_client, media, newsletters
):
    with_file = upload(admin_client, GHOST, newsletters=[newsletters["daily-briefing"].pk])
    run = SubscriberImport.objects.get()  # not run: on_commit never fired
    assert with_file.status_code == 302
    SubscriberImport.objects.filter(pk=run.pk).update(
        status="running", bytes_done=run.file_size // 2
    )
    state = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/progress/").json()
    assert state["status"] == "running" and state["status_label"] == "Importing"
    assert 0 < state["percent"] < 100 and state["finished"] is False
    assert state["report_url"] is None
    page = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/change/").content
    assert b'<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert b"staff/import-progress.js" in page
    report = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/report/")
    assert report.status_code == 404


def test_the_report_and_the_original_file_download_once_done(
    admin_client, media, newsletters, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, GHOST, newsletters=[newsletters["daily-briefing"].pk])
    run = SubscriberImport.objects.get()
    report = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/report/")
    assert report["Content-Disposition"] == 'attachment; filename="members-report.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [(r["email"], r["outcome"], r["detail"]) for r in rows] == [
        ("member@example.org", "added", "Subscribed to The Daily Briefing."),
        ("quiet@example.org", "skipped", "Not subscribed to emails in the export."),
    ]
    original = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/file/")
    assert b"".join(original.streaming_content).decode() == GHOST


def test_an_import_is_a_record_that_cannot_be_edited(
    admin_client, media, newsletters, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, GHOST, newsletters=[newsletters["daily-briefing"].pk])
    run = SubscriberImport.objects.get()
    page = admin_client.get(f"/admin/newsletters/subscriberimport/{run.pk}/change/")
    assert page.context["has_change_permission"] is False
    admin_client.post(
        f"/admin/newsletters/subscriberimport/{run.pk}/change/", {"consent_note": "x"}
    )
    run.refresh_from_db()
    assert run.consent_note == "Signed up on our Ghost site"
