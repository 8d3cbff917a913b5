"""An import uploaded in the admin, run by a real Celery worker on the Redis broker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from newsletters.models import GrowthDay, ListStats, Subscriber, SubscriberImport
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_imports_an_uploaded_file_while_the_page_reports_progress(
    admin_client, newsletters, media, redis_worker, settings
):
    settings.IMPORT_CHUNK_ROWS = 50
    content = "Email Address,OPTIN_TIME,CONFIRM_TIME\n" + "".join(
        f"reader{i}@example.org,2021-03-14 10:22:01,2021-03-14 10:25:40\n" for i in range(400)
    )
    daily = newsletters["daily-briefing"]
    response = admin_client.post(
        "/admin/newsletters/subscriberimport/add/",
        {
            "file": SimpleUploadedFile("readers.csv", content.encode()),
            "newsletters": [daily.pk],
            "consent_basis": "confirmed-elsewhere",
            "consent_note": "Double opt-in on our Mailchimp form",
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
    # The run's end queues a recount; the list page and the chart then show the newcomers.
    wait_for(lambda: GrowthDay.objects.filter(newsletter=daily, subscribed=400).exists())
    assert ListStats.objects.get(newsletter=daily).active == 400
