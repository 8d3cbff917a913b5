"""Staff upload an import in the admin and watch its progress bar move, without reloading."""

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from playwright.sync_api import expect

from newsletters.importing import run as running
from newsletters.models import SubscriberImport
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued_only():
    """Publish tasks to the broker without running them: the test plays the worker."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)


@pytest.fixture
def stepped_worker(monkeypatch):
    """Run an import in a thread that commits one chunk each time the test says so."""
    permits = threading.Semaphore(0)
    commit_chunk = running.Runner._commit_chunk

    def one_chunk_at_a_time(self, chunk, out):
        assert permits.acquire(timeout=30), "the test never let the next chunk through"
        return commit_chunk(self, chunk, out)

    monkeypatch.setattr(running.Runner, "_commit_chunk", one_chunk_at_a_time)
    threads = []

    def start(import_id):
        def work():
            try:
                running.run(import_id)
            finally:
                connection.close()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)
        return permits

    yield start
    for _ in range(10):
        permits.release()
    for thread in threads:
        thread.join(timeout=30)


def test_an_editor_uploads_a_file_and_the_progress_bar_moves_to_the_report(
    page, site, newsletters, media, settings, queued_only, stepped_worker
):
    settings.IMPORT_CHUNK_ROWS = 2
    editor = User.objects.create_user("editor", password="a-long-pass-phrase", is_staff=True)
    editor.groups.add(Group.objects.get(name="Audience editors"))
    rows = "".join(f"reader{i}@example.org,Reader {i}\r\n" for i in range(5))
    content = ("email,name\r\n" + rows + "not-an-address,Oops\r\n").encode()

    page.goto(site + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(site + "/admin/newsletters/subscriberimport/add/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "readers.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("Needs confirmation").check()
    page.get_by_label("How the readers gave consent").fill("Asked at our festival stand")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("The import has started.")).to_be_visible()
    bar = page.locator("progress")
    expect(bar).to_have_attribute("value", "0")
    expect(page.get_by_role("status")).to_contain_text("Waiting for a worker")
    page.evaluate("window.stillTheSamePage = true")

    run = SubscriberImport.objects.get()
    permits = stepped_worker(run.pk)
    permits.release()
    wait_for(lambda: SubscriberImport.objects.get(pk=run.pk).last_row == 3)
    page.wait_for_function(
        "() => { const v = document.querySelector('progress').value; return v > 0 && v < 100; }"
    )
    expect(page.get_by_role("status")).to_contain_text("Importing")
    expect(page.get_by_role("status")).to_contain_text("2 added")
    report_link = page.get_by_role("link", name="Download the report")
    expect(report_link).to_be_hidden()

    permits.release()
    permits.release()
    expect(bar).to_have_attribute("value", "100", timeout=15_000)
    expect(page.get_by_role("status")).to_contain_text("Done")
    expect(page.get_by_role("status")).to_contain_text("5 added, 0 updated, 1 skipped")
    assert page.evaluate("window.stillTheSamePage") is True  # moved without a reload

    with page.expect_download() as download:
        report_link.click()
    report = download.value.path().read_text(encoding="utf-8").splitlines()
    assert report[0] == "row,email,outcome,detail"
    assert report[-1] == "7,not-an-address,skipped,Not a valid email address."


def test_without_javascript_the_progress_page_refreshes_itself(
    browser, site, newsletters, media, settings, queued_only
):
    User.objects.create_superuser("boss", password="a-long-pass-phrase")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(site + "/admin/newsletters/subscriberimport/add/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "one.csv", "mimeType": "text/csv", "buffer": b"email\none@example.org\n"}]
    )
    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("Needs confirmation").check()
    page.get_by_label("How the readers gave consent").fill("Asked in person")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("progress")).to_have_attribute("value", "0")
    run = SubscriberImport.objects.get()
    running.run(run.pk)
    # The <noscript> refresh brings the finished state within a few seconds.
    expect(page.locator("progress")).to_have_attribute("value", "100", timeout=10_000)
    expect(page.get_by_role("link", name="Download the report")).to_be_visible()
    context.close()
