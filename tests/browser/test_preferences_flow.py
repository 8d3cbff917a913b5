import pytest
from django.core import mail
from playwright.sync_api import expect

from newsletters.models import Subscriber
from tests.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def statuses():
    subscriber = Subscriber.objects.get()
    return dict(subscriber.subscriptions.values_list("newsletter__slug", "status"))


def ticked(page):
    boxes = page.get_by_role("group", name="Tick the newsletters you want").get_by_role("checkbox")
    return {box.get_attribute("value") for box in boxes.all() if box.is_checked()}


def test_a_reader_changes_their_newsletters_from_the_link_in_an_email(browser, site, newsletters):
    # No script at all: the pages must work without it.
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(site + "/newsletters/")
    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("Editors' Picks").check()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.goto(link_in(mail.outbox[-1].body, "/newsletters/confirm/"))
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    welcome = mail.outbox[-1]
    assert welcome.subject == "Welcome to The Ledger"

    # The link at the foot of the welcome email opens the reader's own page.
    page.goto(link_in(welcome.body, "/newsletters/preferences/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your newsletters")
    expect(page.get_by_text("Settings for reader@example.org.")).to_be_visible()
    assert ticked(page) == {"daily-briefing", "editors-picks"}

    # Add a list: it waits for the reader to confirm it by email.
    page.get_by_label("The Weekly Explainer").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_contain_text(
        "We've emailed you to confirm: The Weekly Explainer."
    )
    expect(page.get_by_text("Waiting for you to confirm by email.")).to_be_visible()
    assert statuses()["weekly-explainer"] == "pending"
    preferences_url = page.url
    page.goto(link_in(mail.outbox[-1].body, "/newsletters/confirm/"))
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    page.goto(preferences_url)
    assert ticked(page) == {"daily-briefing", "editors-picks", "weekly-explainer"}
    assert set(statuses().values()) == {"active"}

    # Drop one: it is left at once.
    page.get_by_label("Editors' Picks").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_contain_text("You've left: Editors' Picks.")
    assert ticked(page) == {"daily-briefing", "weekly-explainer"}
    assert statuses()["editors-picks"] == "unsubscribed"

    # Leave all.
    page.get_by_role("button", name="Unsubscribe from all newsletters").click()
    expect(page.get_by_role("status")).to_contain_text("You've left all our newsletters.")
    assert ticked(page) == set()
    assert set(statuses().values()) == {"unsubscribed"}
    context.close()


def test_a_reader_without_an_email_at_hand_asks_for_their_link(page, site, newsletters):
    Subscriber.objects.create(email="reader@example.org")
    page.goto(site + "/newsletters/")
    page.get_by_role("link", name="Your settings").click()
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Email me my link").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a valid email address.")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Email me my link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.goto(link_in(mail.outbox[-1].body, "/newsletters/preferences/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your newsletters")
