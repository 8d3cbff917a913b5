"""Sending an edition: snapshot, batches with merge data, headers, suppression at send time."""

import time
import warnings
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from newsletters import edition_delivery, editions, suppression
from newsletters.consent import Provenance
from newsletters.models import Edition, EditionRecipient, Subscriber, Subscription, Suppression
from newsletters.unsubscribe import unsubscribe
from tests.fakes import FlakyESP

pytestmark = pytest.mark.django_db

HTML = (
    '<h1>Monday</h1><p>Read <a href="https://news.example.org/story">the story</a>.</p>'
    '<script>alert("x")</script><p onclick="steal()">Bye</p>'
)


def make_readers(newsletter, count, status="active", prefix="reader"):
    readers = []
    for n in range(count):
        subscriber = Subscriber.objects.create(email=f"{prefix}{n}@example.org")
        Subscription.objects.create(
            subscriber=subscriber, newsletter=newsletter, status=status, confirmed_at=timezone.now()
        )
        readers.append(subscriber)
    return readers


@pytest.fixture
def daily(newsletters):
    return newsletters["daily-briefing"]


@pytest.fixture
def edition(daily):
    return Edition.objects.create(
        newsletter=daily, subject="Monday's briefing", preheader="Five stories", html_body=HTML
    )


def send(edition, capture):
    with capture(execute=True):
        editions.send_now(edition)
    edition.refresh_from_db()
    return edition


def test_an_edition_goes_once_to_every_active_unsuppressed_reader_in_one_batch(
    edition, daily, django_capture_on_commit_callbacks
):
    active = make_readers(daily, 3)
    make_readers(daily, 1, status="pending", prefix="pending")
    make_readers(daily, 1, status="unsubscribed", prefix="left")
    bounced = make_readers(daily, 1, prefix="bounced")[0]
    suppression.suppress(bounced.email, Suppression.Reason.BOUNCED, Provenance(source="esp"))

    edition = send(edition, django_capture_on_commit_callbacks)

    assert edition.status == Edition.Status.SENT
    assert (edition.recipients, edition.sent, edition.skipped, edition.failed) == (3, 3, 0, 0)
    (message,) = mail.outbox  # one ESP call for the whole batch
    assert sorted(message.to) == sorted(r.email for r in active)
    params = message.anymail_test_params
    assert params["is_batch_send"] is True
    assert message.subject == "Monday's briefing"
    assert "{{preferences_url}}" in message.body and "{{unsubscribe_url}}" in message.body
    html = message.alternatives[0][0]
    assert "{{unsubscribe_url}}" in html and "Five stories" in html
    assert "<script" not in html and "onclick" not in html and "the story</a>" in html

    rows = {r.email: r for r in EditionRecipient.objects.filter(edition=edition)}
    for reader in active:
        row = rows[reader.email]
        assert row.status == "sent" and row.sent_at is not None
        merge = params["merge_data"][reader.email]
        assert "/newsletters/preferences/" in merge["preferences_url"]
        assert "/newsletters/unsubscribe/" in merge["unsubscribe_url"]
        headers = params["merge_headers"][reader.email]
        assert headers["List-Unsubscribe"] == f"<{merge['unsubscribe_url']}>"
        assert headers["Message-ID"] == f"<edition-{edition.pk}.{row.pk}@localhost>"
        assert params["merge_metadata"][reader.email] == {"recipient": str(row.pk)}
    # Every reader's links are their own.
    assert len({params["merge_data"][r.email]["unsubscribe_url"] for r in active}) == 3
    assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert params["extra_headers"]["List-Id"] == '"The Daily Briefing" <daily-briefing.localhost>'
    assert params["metadata"] == {"kind": "edition", "edition": str(edition.pk)}
    assert params["tags"] == ["edition"]


def test_batches_are_no_bigger_than_the_batch_size(
    edition, daily, settings, django_capture_on_commit_callbacks
):
    settings.EDITION_BATCH_SIZE = 2
    make_readers(daily, 5)
    edition = send(edition, django_capture_on_commit_callbacks)
    assert [len(m.to) for m in mail.outbox] == [2, 2, 1]
    assert edition.sent == 5 and edition.status == Edition.Status.SENT


def test_without_batch_sending_each_reader_gets_a_message_with_their_own_links(
    edition, daily, settings, django_capture_on_commit_callbacks
):
    settings.EDITION_BATCH_SENDING = "off"
    readers = make_readers(daily, 2)
    edition = send(edition, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2 and edition.sent == 2
    by_reader = {m.to[0]: m for m in mail.outbox}
    first = by_reader[readers[0].email]
    unsubscribe_url = first.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url in first.body and unsubscribe_url in first.alternatives[0][0]
    assert "__NEWSROOM_" not in first.body + first.alternatives[0][0]
    assert unsubscribe_url not in by_reader[readers[1].email].body
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = EditionRecipient.objects.get(edition=edition, subscriber=readers[0])
    assert first.extra_headers["Message-ID"] == f"<edition-{edition.pk}.{row.pk}@localhost>"
    assert first.anymail_test_params["metadata"] == {
        "kind": "edition",
        "edition": str(edition.pk),
        "recipient": str(row.pk),
    }

    # The one-click unsubscribe in the header works with no cookie and counts against the edition.
    response = Client(enforce_csrf_checks=True).post(
        urlsplit(unsubscribe_url).path, {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert Subscription.objects.get(subscriber=readers[0]).status == "unsubscribed"
    edition.refresh_from_db()
    assert edition.unsubscribed == 1


def test_the_text_part_is_made_from_the_html_when_staff_leave_it_empty(
    edition, daily, django_capture_on_commit_callbacks
):
    make_readers(daily, 1)
    send(edition, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert "Read the story (https://news.example.org/story)." in message.body
    assert "alert" not in message.body and "<p>" not in message.body


def test_a_text_part_written_by_staff_is_used_as_written(
    edition, daily, django_capture_on_commit_callbacks
):
    edition.text_body = "Our own words for the text part."
    edition.save()
    make_readers(daily, 1)
    send(edition, django_capture_on_commit_callbacks)
    assert "Our own words for the text part." in mail.outbox[0].body
    assert "Read the story" not in mail.outbox[0].body


def test_suppression_and_leaving_are_checked_again_when_the_batch_is_sent(
    edition, daily, django_capture_on_commit_callbacks
):
    stays, bounces, leaves = make_readers(daily, 3)
    with django_capture_on_commit_callbacks(execute=False):  # snapshot now, deliver later
        editions.send_now(edition)
        editions.start(edition.pk)
    assert EditionRecipient.objects.filter(edition=edition).count() == 3

    suppression.suppress(bounces.email, Suppression.Reason.COMPLAINED, Provenance(source="esp"))
    unsubscribe(leaves, [daily], Provenance(source="form"))
    assert edition_delivery.deliver(edition.pk) is False

    (message,) = mail.outbox
    assert message.to == [stays.email]
    edition.refresh_from_db()
    assert (edition.sent, edition.skipped, edition.status) == (1, 2, Edition.Status.SENT)
    details = dict(EditionRecipient.objects.filter(edition=edition).values_list("email", "detail"))
    assert details == {stays.email: "", bounces.email: "suppressed", leaves.email: "left the list"}


def test_a_failing_esp_leaves_the_batch_waiting_and_the_next_try_sends_it_once(
    edition, daily, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    FlakyESP.reset(failures=1)
    make_readers(daily, 3)
    with django_capture_on_commit_callbacks(execute=False):
        editions.send_now(edition)
        editions.start(edition.pk)

    with pytest.raises(Exception, match="ESP API response"):
        edition_delivery.deliver(edition.pk)
    assert EditionRecipient.objects.waiting(edition.pk).count() == 3
    assert mail.outbox == []

    assert edition_delivery.deliver(edition.pk) is False
    (message,) = mail.outbox
    assert len(message.to) == 3
    edition.refresh_from_db()
    assert edition.sent == 3 and edition.status == Edition.Status.SENT


def test_an_address_the_esp_refuses_is_marked_failed_and_the_rest_go(
    edition, daily, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.fakes.FlakyESP"
    FlakyESP.reset(refuse=True)
    make_readers(daily, 2)
    edition = send(edition, django_capture_on_commit_callbacks)
    assert (edition.sent, edition.failed, edition.status) == (0, 2, Edition.Status.SENT)
    assert set(EditionRecipient.objects.values_list("status", flat=True)) == {"failed"}


def test_an_edition_for_an_empty_list_is_sent_to_nobody_and_finished(
    edition, django_capture_on_commit_callbacks
):
    edition = send(edition, django_capture_on_commit_callbacks)
    assert edition.status == Edition.Status.SENT and edition.recipients == 0
    assert mail.outbox == []


def test_starting_twice_snapshots_once(edition, daily, django_capture_on_commit_callbacks):
    make_readers(daily, 2)
    with django_capture_on_commit_callbacks(execute=False):
        editions.send_now(edition)
        assert editions.start(edition.pk) is True
        assert editions.start(edition.pk) is False
    assert EditionRecipient.objects.filter(edition=edition).count() == 2


def test_a_sent_edition_cannot_be_sent_again(edition, daily, django_capture_on_commit_callbacks):
    make_readers(daily, 1)
    edition = send(edition, django_capture_on_commit_callbacks)
    with pytest.raises(editions.NotAllowed):
        editions.send_now(edition)
    with pytest.raises(editions.NotAllowed):
        editions.cancel(edition)
    assert len(mail.outbox) == 1


def test_the_send_rate_books_each_batch_a_slot_after_the_last(edition, settings):
    settings.EDITION_SEND_RATE = 1000
    edition.status = Edition.Status.SENDING
    edition.save()
    began = time.monotonic()
    edition_delivery._pace(edition.pk, 300)  # the first slot is now
    edition_delivery._pace(edition.pk, 300)  # the next starts 0.3 s later
    assert 0.25 <= time.monotonic() - began < 2
    edition.refresh_from_db()
    assert edition.next_slot_at > timezone.now()


def test_a_send_rate_keeps_batches_within_a_second_of_sending(settings):
    settings.EDITION_SEND_RATE = 50
    assert edition_delivery.batch_size(None) == 50
    settings.EDITION_SEND_RATE = 0
    assert edition_delivery.batch_size(None) == settings.EDITION_BATCH_SIZE


def test_an_export_lists_the_editions_sent_and_erasure_removes_them_but_keeps_the_counts(
    edition, daily, django_capture_on_commit_callbacks
):
    from newsletters.privacy import erase_subscriber, export_subscriber

    reader, _ = make_readers(daily, 2)
    edition = send(edition, django_capture_on_commit_callbacks)
    (delivery,) = export_subscriber(reader)["editions"]
    assert delivery["subject"] == "Monday's briefing" and delivery["status"] == "sent"
    assert delivery["sent_at"] and delivery["opened_at"] is None
    assert erase_subscriber(reader, erased_by="staff")["edition_deliveries"] == 1
    assert not EditionRecipient.objects.filter(email=reader.email).exists()
    edition.refresh_from_db()
    assert edition.sent == 2


def test_an_esp_the_table_does_not_know_batches_with_the_merge_field_from_the_settings(
    edition, daily, settings, django_capture_on_commit_callbacks
):
    settings.EDITION_MERGE_FIELD = "%recipient.NAME%"
    make_readers(daily, 2)
    send(edition, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert "%recipient.unsubscribe_url%" in message.body
    assert "%recipient.preferences_url%" in message.alternatives[0][0]


def test_batch_sending_follows_what_each_esp_can_merge():
    from django.core.mail import get_connection

    from newsletters.edition_esps import batch_support

    with warnings.catch_warnings():  # anymail no longer supports SendGrid officially
        warnings.simplefilter("ignore")
        sendgrid_connection = get_connection("anymail.backends.sendgrid.EmailBackend", api_key="k")
    sendgrid = batch_support(sendgrid_connection)
    assert sendgrid.field("unsubscribe_url") == "-unsubscribe_url-"
    assert sendgrid.esp_extra == {"merge_field_format": "-{}-"}
    mailgun = get_connection("anymail.backends.mailgun.EmailBackend", api_key="k")
    assert batch_support(mailgun).field("x") == "%recipient.x%"
    # Postmark merges only into stored templates; Django's own backends do not merge at all.
    postmark = get_connection("anymail.backends.postmark.EmailBackend", server_token="k")
    assert batch_support(postmark) is None
    assert batch_support(get_connection("django.core.mail.backends.locmem.EmailBackend")) is None
