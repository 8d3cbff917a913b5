"""axe-core on every public page, and the main forms used with the keyboard alone."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from membership.demo_data import seed_membership
from tests.browser.conftest import assert_accessible
from tests.conftest import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(site, settings, newsletters):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    seed_membership()
    return site


def test_every_newsletter_page_passes_axe(page, demo_site):
    for path in ["/newsletters/", "/newsletters/embed/", "/newsletters/preferences/", "/nowhere/"]:
        page.goto(demo_site + path)
        assert_accessible(page)

    page.goto(demo_site + "/newsletters/")
    page.get_by_role("button", name="Subscribe").click()  # the error state
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    assert_accessible(page)  # almost there

    page.goto(link_in(mail.outbox[-1].body, "/newsletters/confirm/"))
    assert_accessible(page)
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    assert_accessible(page)  # confirmed

    welcome = mail.outbox[-1].body
    page.goto(link_in(welcome, "/newsletters/preferences/"))
    assert_accessible(page)
    page.goto(link_in(welcome, "/newsletters/unsubscribe/"))
    assert_accessible(page)
    page.goto(demo_site + "/newsletters/confirm/not-a-token/")
    assert_accessible(page)


def test_every_membership_page_passes_axe(page, demo_site):
    for path in [
        "/membership/",
        "/membership/sign-in/",
        "/membership/supporters/embed/",
        "/membership/cancelled/",
    ]:
        page.goto(demo_site + path)
        assert_accessible(page)

    page.goto(demo_site + "/membership/")
    page.get_by_label("Monthly: £5 a month").check()
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Continue to payment").click()
    assert_accessible(page)  # the demo checkout
    page.get_by_role("button", name="Pay £5 a month (demo)").click()
    assert_accessible(page)  # welcome

    page.goto(demo_site + "/membership/sign-in/")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    assert_accessible(page)
    page.goto(link_in(mail.outbox[-1].body, "/membership/sign-in/"))
    assert_accessible(page)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your membership")
    assert_accessible(page)  # the account


def test_a_reader_can_subscribe_with_the_keyboard_alone(page, demo_site):
    page.goto(demo_site + "/newsletters/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.name || document.activeElement.textContent")
        )
        if focused[-1] == "newsletters":
            break
    expect(page.get_by_label("The Daily Briefing")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Subscribe")).to_be_focused()  # the honeypot is skipped
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Almost there: we've sent you a confirmation email"
    )


def tab_to(page, target, presses=40):
    """Press Tab until the target has the focus, as a keyboard user would reach it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_a_reader_can_become_a_member_with_the_keyboard_alone(page, demo_site):
    page.goto(demo_site + "/membership/")
    yearly = page.get_by_label("Yearly", exact=False)
    tab_to(page, page.get_by_label("Monthly: £5 a month"))
    page.keyboard.press("ArrowDown")  # arrows move through a group of radio buttons
    expect(yearly).to_be_checked()
    tab_to(page, page.get_by_label("Email address"))
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Enter")
    pay = page.get_by_role("button", name="(demo)")
    tab_to(page, pay)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: you're a member")


def test_a_reader_can_change_their_lists_with_the_keyboard_alone(page, demo_site):
    page.goto(demo_site + "/newsletters/")
    page.get_by_label("The Daily Briefing").check()
    page.get_by_label("Email address").fill("keys@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.goto(link_in(mail.outbox[-1].body, "/newsletters/confirm/"))
    page.get_by_role("button", name="Yes, subscribe me to these newsletters.").click()
    welcome = mail.outbox[-1].body
    page.goto(link_in(welcome, "/newsletters/preferences/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your newsletters")

    picks = page.get_by_label("Editors' Picks")
    tab_to(page, picks)
    page.keyboard.press("Space")
    expect(picks).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Save my choices"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_label("Editors' Picks")).to_be_checked()
    from newsletters.models import Subscription

    added = Subscription.objects.get(newsletter__slug="editors-picks")
    assert added.subscriber.email == "keys@example.org"
    assert added.status == "pending"  # waits for the reader's confirmation, as at signup


def test_every_gift_page_passes_axe(page, demo_site):
    from tests.browser.test_gift_flow import fill_gift

    page.goto(demo_site + "/gifts/")
    assert_accessible(page)
    page.get_by_role("button", name="Continue to payment").click()  # the error state
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)

    fill_gift(page, 1, "Ann", "ann@example.org", "3 months for £15", "Enjoy")
    page.get_by_label("Your name").fill("Cleo")
    page.get_by_label("Your email address").fill("cleo@example.org")
    page.get_by_role("button", name="Continue to payment").click()
    assert_accessible(page)  # the demo checkout
    page.get_by_role("button", name="Pay £15 (demo)").click()
    assert_accessible(page)  # thanks

    receipt = next(m for m in mail.outbox if m.to == ["cleo@example.org"])
    page.goto(link_in(receipt.body, "/gifts/manage/"))
    assert_accessible(page)  # the buyer's gift page

    gift_email = next(m for m in mail.outbox if m.to == ["ann@example.org"])
    page.goto(link_in(gift_email.body, "/gifts/redeem/"))
    assert_accessible(page)  # redeem
    page.get_by_role("button", name="Start my membership").click()
    assert_accessible(page)  # redeemed
    page.goto(demo_site + "/gifts/redeem/")
    assert_accessible(page)  # typing a code
