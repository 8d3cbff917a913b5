import pytest
from django.core import mail
from playwright.sync_api import expect

from newsletters.models import Edition
from tests.newsletters.test_editions import make_readers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_write_preview_test_and_send_an_edition(
    page, site, newsletters, django_user_model, tmp_path
):
    screenshots = tmp_path
    make_readers(newsletters["daily-briefing"], 2)
    django_user_model.objects.create_superuser("editor", "editor@example.org", "a-long-password")
    page.goto(site + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()

    # Write.
    page.goto(site + "/admin/newsletters/edition/add/")
    page.get_by_label("Newsletter").select_option(label="The Daily Briefing")
    page.get_by_label("Subject").fill("Monday's briefing")
    page.get_by_label("Preheader").fill("Five stories before breakfast")
    page.get_by_label("HTML body").fill(
        '<h1>Good morning</h1><p>Read <a href="https://news.example.org/a">the lead story</a>.</p>'
        "<script>document.title = 'owned'</script>"
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    # Preview, as a reader sees it: the HTML in a sandboxed frame, and the text part.
    page.get_by_role("link", name="Preview").click()
    frame = page.frame_locator("iframe[title='The email as readers see it']")
    expect(frame.get_by_role("heading", name="Good morning")).to_be_visible()
    expect(frame.get_by_role("link", name="Unsubscribe")).to_be_visible()
    expect(page.get_by_text("Read the lead story (https://news.example.org/a).")).to_be_visible()
    page.get_by_role("link", name="Back to the edition").click()

    # A test to the editor's own address.
    expect(page.get_by_label("Send a test to")).to_have_value("editor@example.org")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("A test is on its way to editor@example.org.")).to_be_visible()
    (test,) = mail.outbox
    assert test.subject == "[Test] Monday's briefing" and test.to == ["editor@example.org"]

    # Send to the list, and see the final counts.
    page.get_by_role("button", name="Send now to 2 readers").click()
    expect(page.get_by_text("Sending has started.")).to_be_visible()
    expect(page.locator("[data-field=status_label]")).to_have_text("Sent")
    expect(page.locator("[data-field=sent]")).to_have_text("2")
    page.screenshot(path=str(screenshots / "edition-sent.png"), full_page=True)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    edition = Edition.objects.get()
    assert (edition.status, edition.sent) == ("sent", 2)
    assert sorted(mail.outbox[1].to) == ["reader0@example.org", "reader1@example.org"]
