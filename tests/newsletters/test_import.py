"""Importing readers from CSV files, on both the PostgreSQL and the ORM path."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from newsletters import suppression
from newsletters.consent import Provenance
from newsletters.models import (
    ConsentEvent,
    ImportInvitation,
    OutboundEmail,
    Subscriber,
    SubscriberImport,
    Subscription,
    Suppression,
)
from tests.newsletters.conftest import report_rows

pytestmark = pytest.mark.django_db

NEEDS_CONFIRMATION = SubscriberImport.Basis.NEEDS_CONFIRMATION
MAILCHIMP = (
    "\ufeffEmail Address,First Name,Last Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP\r\n"
    'olena@example.org,Olena,"Kovalenko, Dr",2021-03-14 10:22:01,203.0.113.7,'
    "2021-03-14 10:25:40,198.51.100.23\r\n"
    " Petro@Example.ORG ,Petro,Melnyk,2020-01-02 09:00:00,,,\r\n"
    "petro@example.org,Petro,Again,2020-01-02 09:00:00,,,\r\n"
    "no-at-sign,Broken,Row,2020-01-02 09:00:00,,,\r\n"
    "noproof@example.org,Nobody,Knows,,,,\r\n"
)


def outcomes(imported):
    return [(r["row"], r["email"], r["outcome"]) for r in report_rows(imported)]


def snapshot():
    return (
        sorted(Subscriber.objects.values_list("email", flat=True)),
        sorted(Subscription.objects.values_list("subscriber__email", "newsletter__slug", "status")),
        ConsentEvent.objects.count(),
    )


def test_a_mailchimp_file_subscribes_its_readers_with_their_proof_in_the_ledger(
    import_csv, newsletters
):
    imported = import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    assert imported.status == "done" and imported.percent == 100
    assert (imported.added, imported.updated, imported.skipped) == (2, 0, 3)
    assert outcomes(imported) == [
        ("2", "olena@example.org", "added"),
        ("3", "Petro@example.org", "added"),
        ("4", "petro@example.org", "skipped"),
        ("5", "no-at-sign", "skipped"),
        ("6", "noproof@example.org", "skipped"),
    ]
    details = [r["detail"] for r in report_rows(imported)]
    assert details[2] == "The same address appears earlier in the file."
    assert details[3] == "Not a valid email address."
    assert details[4].startswith("No opt-in or confirmation time in the file")
    olena = Subscriber.objects.get(email="olena@example.org")
    assert olena.source == "import"
    assert olena.subscriptions.get().status == "active"
    (event,) = olena.consent_events.all()
    assert event.action == "imported" and event.source == "import"
    assert event.ip == "198.51.100.23"
    assert event.wording == "Double opt-in on our old signup form"
    assert event.wording_version == f"import-{imported.pk}"
    assert "opted in 2021-03-14 10:22:01+00:00 from 203.0.113.7" in event.source_detail
    assert "confirmed 2021-03-14 10:25:40+00:00 from 198.51.100.23" in event.source_detail
    assert "export.csv (mailchimp), row 2" in event.source_detail
    assert mail.outbox == []


def test_importing_the_same_file_twice_changes_nothing(import_csv, newsletters):
    import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    before = snapshot()
    again = import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    assert snapshot() == before
    assert (again.added, again.updated, again.skipped) == (0, 0, 5)
    assert report_rows(again)[0]["detail"] == "Already subscribed."


def test_an_unsubscribed_reader_is_never_subscribed_again(import_csv, newsletters):
    reader = Subscriber.objects.create(email="olena@example.org")
    Subscription.objects.create(
        subscriber=reader,
        newsletter=newsletters["daily-briefing"],
        status="unsubscribed",
        unsubscribed_at=timezone.now(),
    )
    imported = import_csv(MAILCHIMP, [newsletters["daily-briefing"], newsletters["editors-picks"]])
    statuses = dict(reader.subscriptions.values_list("newsletter__slug", "status"))
    assert statuses == {"daily-briefing": "unsubscribed", "editors-picks": "active"}
    row = report_rows(imported)[0]
    assert row["outcome"] == "updated"
    assert row["detail"] == (
        "Subscribed to Editors' Picks. Not subscribed again to The Daily Briefing (unsubscribed)."
    )
    only_that_list = import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    assert report_rows(only_that_list)[0]["detail"] == (
        "Unsubscribed from The Daily Briefing: imports never subscribe anyone again."
    )


def test_suppressed_and_erased_addresses_are_skipped_and_never_created(import_csv, newsletters):
    suppression.suppress("OLENA@example.org", Suppression.Reason.BOUNCED, Provenance("esp"))
    # An erased reader leaves only the hash of their address behind.
    suppression.suppress("petro@example.org", Suppression.Reason.ERASED, Provenance("staff"))
    imported = import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    rows = report_rows(imported)
    assert rows[0]["detail"] == "Suppressed (Hard bounce): imports never mail this address."
    assert rows[1]["detail"] == "Suppressed (Erased on request): imports never mail this address."
    assert not Subscriber.objects.exists()
    assert imported.added == 0


def test_a_pending_reader_is_made_active_by_an_import_with_proof(import_csv, newsletters):
    reader = Subscriber.objects.create(email="olena@example.org")
    Subscription.objects.create(subscriber=reader, newsletter=newsletters["daily-briefing"])
    imported = import_csv(MAILCHIMP, [newsletters["daily-briefing"]])
    assert report_rows(imported)[0]["outcome"] == "updated"
    subscription = reader.subscriptions.get()
    assert subscription.status == "active" and subscription.confirmed_at is not None


def test_broken_rows_are_reported_and_the_rest_go_in(import_csv, newsletters):
    content = (
        "email,name\n"
        "first@example.org,First\n"
        "\n"
        "bad@@example.org,Bad\n"
        '"unclosed@example.org,' + "x" * 1_100_000 + "\n"
    )
    imported = import_csv(content, [newsletters["daily-briefing"]], basis=NEEDS_CONFIRMATION)
    assert [(r["row"], r["outcome"], r["detail"]) for r in report_rows(imported)] == [
        ("2", "added", "Asked to confirm The Daily Briefing."),
        ("3", "skipped", "No email address in this row."),
        ("4", "skipped", "Not a valid email address."),
        ("5", "skipped", "This row could not be read as CSV (check its quotes)."),
    ]
    assert Subscriber.objects.get().email == "first@example.org"


def test_a_plain_file_without_a_header_is_imported(import_csv, newsletters):
    imported = import_csv(
        "reader@example.org,Reader\r\nother@example.org\r\n",
        [newsletters["daily-briefing"]],
        basis=NEEDS_CONFIRMATION,
    )
    assert [(r["row"], r["outcome"]) for r in report_rows(imported)] == [
        ("1", "added"),
        ("2", "added"),
    ]


def test_needs_confirmation_asks_readers_a_few_at_a_time_within_the_signup_limits(
    import_csv, newsletters, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_CONFIRMATIONS_PER_MINUTE = 2
    content = "email\n" + "".join(f"reader{i}@example.org\n" for i in range(5))
    with django_capture_on_commit_callbacks(execute=True):
        imported = import_csv(
            content,
            [newsletters["daily-briefing"], newsletters["editors-picks"]],
            NEEDS_CONFIRMATION,
        )
    assert imported.added == 5
    assert set(Subscription.objects.values_list("status", flat=True)) == {"pending"}
    assert set(ConsentEvent.objects.values_list("action", "source")) == {("requested", "import")}
    # The run's end sent the first minute's worth; the rest wait for the periodic task.
    assert len(mail.outbox) == 2
    assert ImportInvitation.objects.count() == 3
    assert "The Daily Briefing" in mail.outbox[0].body and "Editors' Picks" in mail.outbox[0].body

    from newsletters.tasks import send_import_confirmations

    with django_capture_on_commit_callbacks(execute=True):
        assert send_import_confirmations() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert send_import_confirmations() == 1
    assert len(mail.outbox) == 5 and not ImportInvitation.objects.exists()
    # Importing again asks nobody twice.
    again = import_csv(content, [newsletters["daily-briefing"]], NEEDS_CONFIRMATION)
    assert report_rows(again)[0]["detail"] == "Already waiting for confirmation."
    assert not ImportInvitation.objects.exists()


def test_an_import_never_mails_an_address_past_the_daily_confirmation_limit(
    import_csv, newsletters, settings, django_capture_on_commit_callbacks
):
    settings.CONFIRMATION_EMAILS_PER_DAY = 1
    OutboundEmail.objects.create(
        key="confirmation.earlier", kind="confirmation", to="busy@example.org", subject="x",
        text_body="x", from_email="x", status="sent",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        import_csv("email\nbusy@example.org\n", [newsletters["daily-briefing"]], NEEDS_CONFIRMATION)
    assert mail.outbox == []
    assert not ImportInvitation.objects.exists()


def test_a_reader_confirmed_by_the_imports_email_joins_the_list(
    import_csv, newsletters, client, django_capture_on_commit_callbacks
):
    from tests.conftest import link_in

    with django_capture_on_commit_callbacks(execute=True):
        import_csv(
            "email\nreader@example.org\n", [newsletters["daily-briefing"]], NEEDS_CONFIRMATION
        )
    client.post(link_in(mail.outbox[0].body, "/newsletters/confirm/"))
    assert Subscription.objects.get().status == "active"


def test_addresses_that_differ_only_in_case_are_one_reader(import_csv, newsletters):
    imported = import_csv(
        "email\nReader@Example.org\nREADER@example.org\n",
        [newsletters["daily-briefing"]],
        NEEDS_CONFIRMATION,
    )
    assert Subscriber.objects.count() == 1
    assert [r["outcome"] for r in report_rows(imported)] == ["added", "skipped"]


def test_an_interrupted_import_resumes_after_its_last_committed_chunk(
    media, newsletters, settings, monkeypatch
):
    from django.core.files.base import ContentFile

    from newsletters.importing import run as running

    settings.IMPORT_CHUNK_ROWS = 2
    content = "email\n" + "".join(f"r{i}@example.org\n" for i in range(4)) + "r0@example.org\n"
    imported = SubscriberImport(
        original_name="big.csv", file_size=len(content), consent_basis=NEEDS_CONFIRMATION
    )
    imported.file.save("big.csv", ContentFile(content.encode()), save=False)
    imported.save()
    imported.newsletters.set([newsletters["daily-briefing"]])

    class WorkerDied(BaseException):
        pass

    commit_chunk = running.Runner._commit_chunk
    calls = []

    def die_on_the_second_chunk(self, chunk, out):
        calls.append(chunk)
        if len(calls) == 2:
            raise WorkerDied
        return commit_chunk(self, chunk, out)

    monkeypatch.setattr(running.Runner, "_commit_chunk", die_on_the_second_chunk)
    with pytest.raises(WorkerDied):
        running.run(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.added, imported.last_row) == ("running", 2, 3)
    assert 0 < imported.percent < 100

    monkeypatch.setattr(running.Runner, "_commit_chunk", commit_chunk)
    assert running.run(imported.pk) is False  # its lease still holds
    SubscriberImport.objects.filter(pk=imported.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert running.run(imported.pk) is True
    imported.refresh_from_db()
    assert imported.status == "done"
    assert [(r["row"], r["outcome"]) for r in report_rows(imported)] == [
        ("2", "added"),
        ("3", "added"),
        ("4", "added"),
        ("5", "added"),
        ("6", "skipped"),  # a repeat of row 2, recognised across the resume
    ]
    assert Subscriber.objects.count() == 4


def test_a_run_that_fails_says_why(media, newsletters):
    from django.core.files.base import ContentFile

    from newsletters.importing.run import run

    imported = SubscriberImport(
        original_name="x.csv", file_size=9, consent_basis=NEEDS_CONFIRMATION
    )
    imported.file.save("x.csv", ContentFile(b"no,emails\n"), save=False)
    imported.save()
    imported.newsletters.set([newsletters["daily-briefing"]])
    run(imported.pk)
    imported.refresh_from_db()
    assert imported.status == "failed"
    assert "email column" in imported.error


def test_an_upload_whose_task_never_reached_a_worker_is_picked_up_by_the_sweep(
    media, newsletters, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile

    from newsletters.tasks import resume_imports

    content = b"email\nlate@example.org\n"
    imported = SubscriberImport(
        original_name="late.csv", file_size=len(content), consent_basis=NEEDS_CONFIRMATION
    )
    imported.file.save("late.csv", ContentFile(content), save=False)
    imported.save()
    imported.newsletters.set([newsletters["daily-briefing"]])
    assert resume_imports() == 0  # just uploaded: its own task may still be on its way
    SubscriberImport.objects.filter(pk=imported.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert resume_imports() == 1
    imported.refresh_from_db()
    assert imported.status == "done" and imported.added == 1
    assert resume_imports() == 0
