import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from membership.demo_data import seed_membership
from membership.models import Membership
from newsletters.models import Subscription
from tests.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(site, settings):
    """The live server in demo payment mode, with the demo plans and members' newsletter."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    seed_membership()
    return site


def test_a_reader_joins_signs_in_by_link_and_joins_a_members_newsletter(page, demo_site):
    page.goto(demo_site + "/membership/")
    expect(page.get_by_role("note")).to_have_text(
        "Payments demo: this is not Stripe, and no money moves."
    )
    page.get_by_label("Monthly: £5 a month").check()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Demo checkout")
    expect(page.get_by_role("note")).to_contain_text("Payments demo")
    page.get_by_role("button", name="Pay £5 a month (demo)").click()

    expect(page).to_have_url(re.compile(r"/membership/welcome/\?session_id=cs_demo_"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: you're a member")
    assert [m.subject for m in mail.outbox] == ["Welcome, member of The Ledger"]
    assert Membership.objects.get().status == "active"

    page.get_by_role("link", name="Sign in to your account").click()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    sign_in = link_in(mail.outbox[-1].body, "/membership/sign-in/")
    page.goto(sign_in)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your membership")
    expect(page.locator("dl.facts")).to_contain_text("Active")
    expect(page.locator("dl.facts")).to_contain_text("Next renewal")
    expect(page.locator("dl.facts")).to_contain_text("Monthly: £5 a month")
    page.get_by_role("button", name="Join The Members' Dispatch").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Almost there: we've sent you a confirmation email"
    )
    confirm = link_in(mail.outbox[-1].body, "/newsletters/confirm/")
    page.goto(confirm)
    expect(page.get_by_role("listitem").filter(has_text="The Members' Dispatch")).to_be_visible()
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    assert Subscription.objects.get().status == "active"

    page.goto(demo_site + "/membership/account/")
    expect(page.get_by_text("You get this newsletter.")).to_be_visible()


def test_the_join_form_explains_mistakes_without_javascript(browser, demo_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo_site + "/membership/")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Continue to payment").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Choose monthly or yearly.")
    expect(alert).to_contain_text("Please enter a valid email address.")
    expect(page.get_by_label("Email address")).to_have_value("not an address")
    context.close()
