"""An import uploaded in the admin, run by a real Celery worker on the Redis broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from newsletters.models import Subscriber, SubscriberImport
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_imports_an_uploaded_file_while_the_page_reports_progress(
    admin_client, newsletters, media, redis_worker, settings
):
    settings.IMPORT_CHUNK_ROWS = 50
    content = "email\n" + "".join(f"reader{i}@example.org\n" for i in range(400))
    response = admin_client.post(
        "/admin/newsletters/subscriberimport/add/",
        {
            "file": SimpleUploadedFile("readers.csv", content.encode()),
            "newsletters": [newsletters["daily-briefing"].pk],
            "consent_basis": "needs-confirmation",
            "consent_note": "Asked at our festival stand",
        },
    )
    assert response.status_code == 302
    run = SubscriberImport.objects.get()
    progress = f"/admin/newsletters/subscriberimport/{run.pk}/progress/"
    wait_for(lambda: admin_client.get(progress).json()["finished"], timeout=30)
    state = admin_client.get(progress).json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["added"] == "400" and state["report_url"]
    assert Subscriber.objects.count() == 400
