import csv

import pytest
from django.core.files.base import ContentFile

from newsletters.importing.run import run
from newsletters.importing.stores import OrmStore, PostgresStore
from newsletters.models import SubscriberImport


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
