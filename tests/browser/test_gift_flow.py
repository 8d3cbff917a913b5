import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from membership.demo_data import seed_membership
from membership.models import Gift, Membership
from tests.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(site, settings):
    """The live server in demo payment mode, with the demo plans and gift prices."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    seed_membership()
    return site


def fill_gift(page, number, name, email, months, message=""):
    gift = page.get_by_role("group", name=f"Gift {number}")
    gift.get_by_label("Their name").fill(name)
    gift.get_by_label("Their email address").fill(email)
    gift.get_by_label("How long").select_option(label=months)
    if message:
        gift.get_by_label("Your message (optional)").fill(message)


def test_a_supporter_gives_two_memberships_and_a_recipient_redeems_one(page, demo_site):
    page.goto(demo_site + "/gifts/")
    expect(page.get_by_role("note")).to_have_text(
        "Payments demo: this is not Stripe, and no money moves."
    )
    fill_gift(page, 1, "Ann", "ann@example.org", "3 months for £15", "For the long winter <3")
    page.get_by_role("button", name="Add another person").click()
    fill_gift(page, 2, "Bob", "bob@example.org", "12 months for £50")
    page.get_by_label("Your name").fill("Cleo")
    page.get_by_label("Your email address").fill("cleo@example.org")
    expect(page.get_by_role("group", name="Gift 1").get_by_label("Their name")).to_have_value("Ann")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Demo checkout")
    page.get_by_role("button", name="Pay £65 (demo)").click()
    expect(page).to_have_url(re.compile(r"/gifts/thanks/\?session_id=cs_demo_"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your gifts are paid for")

    receipt = next(m for m in mail.outbox if m.to == ["cleo@example.org"])
    assert "ann@example.org (£15): sent today" in receipt.body
    page.goto(link_in(receipt.body, "/gifts/manage/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your gifts")
    expect(page.get_by_role("heading", name="3 months for ann@example.org")).to_be_visible()
    expect(page.get_by_role("heading", name="12 months for bob@example.org")).to_be_visible()
    bob = page.get_by_role("listitem").filter(has_text="12 months for bob@example.org")
    bob.get_by_label("Their email address").fill("robert@example.org")
    bob.get_by_role("button", name="Save the address").click()
    expect(page.get_by_role("status")).to_contain_text("Address saved.")
    expect(page.get_by_role("heading", name="12 months for robert@example.org")).to_be_visible()
    assert any(m.to == ["robert@example.org"] for m in mail.outbox)

    gift_email = next(m for m in mail.outbox if m.to == ["ann@example.org"])
    assert "Cleo has given you a membership of The Ledger for 3 months." in gift_email.body
    assert "For the long winter &lt;3" in gift_email.alternatives[0][0]
    page.goto(link_in(gift_email.body, "/gifts/redeem/"))
    page.get_by_role("button", name="Start my membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Welcome: your gift membership has started"
    )

    page.get_by_role("link", name="Go to your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your membership")
    expect(page.locator("dl.facts")).to_contain_text("Gift")
    expect(page.locator("dl.facts")).to_contain_text("Ends on")
    expect(page.get_by_role("link", name="Carry on as a member")).to_be_visible()
    assert Membership.objects.get().member.email == "ann@example.org"
    assert list(Gift.objects.order_by("pk").values_list("status", flat=True)) == [
        "redeemed",
        "delivered",
    ]
    assert any(m.subject == "Your gift has been redeemed" for m in mail.outbox)


def test_the_gift_form_explains_mistakes_without_javascript(browser, demo_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(demo_site + "/gifts/")
    gift = page.get_by_role("group", name="Gift 1")
    gift.get_by_label("Their name").fill("Ann")
    gift.get_by_label("Their email address").fill("not an address")
    gift.get_by_label("Delivery date (optional)").fill("2001-01-01")
    page.get_by_role("button", name="Continue to payment").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Gift 1: Please enter a valid email address.")
    expect(alert).to_contain_text("Gift 1: Choose today or a day ahead.")
    expect(alert).to_contain_text("Please enter your name.")
    expect(gift.get_by_label("Their name")).to_have_value("Ann")
    expect(gift.get_by_label("Their email address")).to_have_attribute("aria-invalid", "true")
    context.close()
