"""Member sign-in by emailed link: survives mail scanners, expires, never says who is a member."""

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from membership.models import SignInLink
from membership.signin import SESSION_KEY
from tests.conftest import link_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_in_url(client, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/membership/sign-in/", {"email": " READER@example.org "})
    assert response.status_code == 302
    (message,) = mail.outbox
    mail.outbox.clear()
    return link_in(message.body, "/membership/sign-in/").removeprefix("http://testserver")


def signed_in_member_id(client):
    return client.session.get(SESSION_KEY)


def test_the_email_has_both_parts_with_the_same_link(client, member, sign_in_url):
    from newsletters.models import OutboundEmail

    email = OutboundEmail.objects.get(kind="member_sign_in")
    assert email.to == "reader@example.org"
    assert email.subject == "Your sign-in link for The Ledger"
    assert sign_in_url in email.text_body
    assert sign_in_url in unescape(email.html_body)
    assert "works for 60 minutes" in email.text_body


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    client, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/membership/sign-in/", {"email": "reader@example.org"}, follow=True)
        unknown = client.post("/membership/sign-in/", {"email": "nobody@example.org"}, follow=True)
    assert known.content == unknown.content
    assert len(mail.outbox) == 1


def test_a_bad_address_is_explained(client, member):
    response = client.post("/membership/sign-in/", {"email": "reader at example"})
    assert response.status_code == 400
    assert "Please enter a valid email address." in response.content.decode()
    assert SignInLink.objects.count() == 0


def test_opening_the_link_shows_a_button_and_signs_nobody_in(client, sign_in_url):
    response = client.get(sign_in_url)
    assert response.status_code == 200
    assert '<button type="submit">Sign in</button>' in response.content.decode()
    assert signed_in_member_id(client) is None
    assert SignInLink.objects.get().first_used_at is None


def test_the_button_signs_in_with_a_fresh_session_and_shows_the_account(
    client, member, sign_in_url
):
    client.get("/membership/")
    before = client.session.session_key
    response = client.post(sign_in_url)

    assert response.status_code == 302
    assert response["Location"] == "/membership/account/"
    assert signed_in_member_id(client) == member.pk
    assert client.session.session_key != before
    account = client.get("/membership/account/")
    assert "Signed in as reader@example.org" in account.content.decode()


def test_a_link_a_scanner_used_first_still_works_for_a_short_while(
    client, member, sign_in_url, settings
):
    scanner = type(client)()
    scanner.post(sign_in_url)
    with time_machine.travel(timezone.now() + timedelta(minutes=9)):
        assert client.post(sign_in_url).status_code == 302
    assert signed_in_member_id(client) == member.pk


def test_a_used_link_stops_working_after_the_reuse_window(client, sign_in_url):
    client.post(sign_in_url)
    other = type(client)()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = other.post(sign_in_url)
    assert response.status_code == 410
    assert "This sign-in link has expired" in unescape(response.content.decode())
    assert signed_in_member_id(other) is None


def test_an_unused_link_expires_after_an_hour(client, sign_in_url):
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert client.get(sign_in_url).status_code == 410
        assert client.post(sign_in_url).status_code == 410
    assert signed_in_member_id(client) is None


@pytest.mark.parametrize("token", ["x" * 43, "short", "%3Cscript%3E", "a" * 200])
def test_a_made_up_link_is_refused(client, sign_in_url, token):
    for method in (client.get, client.post):
        response = method(f"/membership/sign-in/{token}/")
        assert response.status_code == 400
        assert "This link doesn't work" in unescape(response.content.decode())
    assert signed_in_member_id(client) is None


def test_asking_for_links_again_and_again_is_rate_limited(client, member, settings):
    settings.SIGNUP_RATE_PER_ADDRESS = "3/h"
    statuses = [
        client.post("/membership/sign-in/", {"email": "reader@example.org"}).status_code
        for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    assert SignInLink.objects.count() == 3


def test_the_account_page_needs_a_signed_in_member(client):
    response = client.get("/membership/account/")
    assert response.status_code == 302
    assert response["Location"] == "/membership/sign-in/"


def test_signing_out_forgets_the_member(client, member, sign_in_url):
    client.post(sign_in_url)
    response = client.post("/membership/sign-out/")
    assert "You've signed out" in unescape(response.content.decode())
    assert client.get("/membership/account/").status_code == 302


def test_old_expired_links_are_purged(client, sign_in_url):
    from membership.tasks import purge_sign_in_links

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert purge_sign_in_links() == 0
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert purge_sign_in_links() == 1
    assert SignInLink.objects.count() == 0
