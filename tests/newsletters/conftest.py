import csv

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from newsletters import emails
from newsletters.importing.run import run
from newsletters.importing.stores import OrmStore, PostgresStore
from newsletters.models import Subscriber, SubscriberImport, Subscription


@pytest.fixture
def welcomed(newsletters, django_capture_on_commit_callbacks):
    """A reader on two lists, and the welcome email (a list email) they got for them."""
    subscriber = Subscriber.objects.create(email="Reader@example.org")
    lists = [newsletters["daily-briefing"], newsletters["editors-picks"]]
    for newsletter in lists:
        Subscription.objects.create(
            subscriber=subscriber,
            newsletter=newsletter,
            status="active",
            confirmed_at=timezone.now(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        emails.welcome(subscriber, lists)
    (message,) = mail.outbox
    mail.outbox.clear()
    return subscriber, message


def statuses(subscriber):
    return dict(subscriber.subscriptions.values_list("newsletter__slug", "status"))


@pytest.fixture(params=["postgres", "orm"])
def store(request):
    """The PostgreSQL (COPY) path, and the ORM path SQLite uses in development."""
    return PostgresStore() if request.param == "postgres" else OrmStore()


@pytest.fixture
def import_csv(media, store):
    """Upload a file as the admin does, run the import to the end, return the run."""

    def start(
        content,
        newsletters,
        basis=SubscriberImport.Basis.CONFIRMED_ELSEWHERE,
        name="export.csv",
        note="Double opt-in on our old signup form",
    ):
        data = content.encode("utf-8") if isinstance(content, str) else content
        imported = SubscriberImport(
            original_name=name, file_size=len(data), consent_basis=basis, consent_note=note
        )
        imported.file.save(name, ContentFile(data), save=False)
        imported.save()
        imported.newsletters.set(newsletters)
        run(imported.pk, store)
        imported.refresh_from_db()
        return imported

    return start


def report_rows(imported):
    with open(imported.report.path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def confirmed_elsewhere_import(addresses, newsletter):
    """A Mailchimp export of these addresses, each with its opt-in and confirmation times,
    uploaded for one list as confirmed elsewhere (the test's `media` fixture keeps the file)."""
    content = "Email Address,OPTIN_TIME,CONFIRM_TIME\n" + "".join(
        f"{address},2021-03-14 10:22:01,2021-03-14 10:25:40\n" for address in addresses
    )
    imported = SubscriberImport(
        original_name="readers.csv",
        file_size=len(content),
        consent_basis=SubscriberImport.Basis.CONFIRMED_ELSEWHERE,
        consent_note="Double opt-in on our Mailchimp form",
    )
    imported.file.save("readers.csv", ContentFile(content.encode()), save=False)
    imported.save()
    imported.newsletters.set([newsletter])
    return imported
