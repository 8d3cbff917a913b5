import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from newsletters.models import Subscription
from tests.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_subscribes_confirms_from_the_email_and_sees_success(page, site, newsletters):
    page.goto(site + "/")
    expect(page).to_have_url(re.compile(r"/newsletters/$"))
    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("The Weekly Explainer").check()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Almost there: we've sent you a confirmation email"
    )

    (message,) = mail.outbox
    link = link_in(message.body, "/newsletters/confirm/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    assert set(Subscription.objects.values_list("status", flat=True)) == {"pending"}
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    expect(page.locator("main li")).to_have_text(["The Daily Briefing", "The Weekly Explainer"])
    assert set(Subscription.objects.values_list("status", flat=True)) == {"active"}
    assert [m.subject for m in mail.outbox] == [
        "Confirm your subscription",
        "Welcome to The Ledger",
    ]


def test_mistakes_are_explained_next_to_the_fields_without_javascript(browser, site, newsletters):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/newsletters/")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Choose at least one newsletter.")
    expect(alert).to_contain_text("Please enter a valid email address.")
    expect(page.get_by_label("Email address")).to_have_value("not an address")
    context.close()
