from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.html import strip_tags

from newsletters import suppression
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, OutboundEmail, Subscriber, Subscription
from newsletters.tokens import make_token
from tests.conftest import link_in
from tests.newsletters.conftest import statuses

pytestmark = pytest.mark.django_db

BOTH_ACTIVE = {"daily-briefing": "active", "editors-picks": "active"}


@pytest.fixture
def page_path(welcomed):
    _, message = welcomed
    return link_in(message.body, "/newsletters/preferences/").removeprefix("http://testserver")


@pytest.fixture
def reader(welcomed):
    return welcomed[0]


@pytest.fixture
def post(client, page_path, django_capture_on_commit_callbacks):
    def post(path=page_path, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data, HTTP_USER_AGENT="Reader's browser")

    return post


def text(response):
    """What a reader sees: the page without its tags, one space between words."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def checked(response):
    """The slugs whose boxes are ticked on the page."""
    html = response.content.decode()
    boxes = html.split('type="checkbox" name="newsletters" value="')[1:]
    return {box.split('"')[0] for box in boxes if "checked" in box.split(">")[0]}


def test_the_link_in_a_list_email_opens_the_readers_lists_and_changes_nothing(
    client, reader, page_path
):
    response = client.get(page_path)
    assert response.status_code == 200
    assert "Reader@example.org" in text(response)
    assert checked(response) == {"daily-briefing", "editors-picks"}
    assert "The Weekly Explainer" in text(response)  # offered, not ticked
    assert "no-cache" in response["Cache-Control"]
    assert statuses(reader) == BOTH_ACTIVE
    assert ConsentEvent.objects.count() == 0


def test_unticking_a_list_leaves_it_at_once_and_the_ledger_says_how(post, reader):
    response = post(newsletters=["daily-briefing"])
    assert response.status_code == 200
    assert "You've left: Editors' Picks." in text(response)
    assert checked(response) == {"daily-briefing"}
    assert statuses(reader) == {"daily-briefing": "active", "editors-picks": "unsubscribed"}
    (event,) = ConsentEvent.objects.all()
    assert (event.action, event.source, event.source_detail) == (
        "unsubscribed",
        "email_link",
        "preferences page",
    )
    assert event.user_agent == "Reader's browser"
    assert mail.outbox == []


def test_ticking_a_new_list_asks_the_reader_to_confirm_it_by_email(client, post, reader):
    response = post(newsletters=["daily-briefing", "editors-picks", "weekly-explainer"])
    assert "We've emailed you to confirm: The Weekly Explainer." in text(response)
    assert statuses(reader) == {**BOTH_ACTIVE, "weekly-explainer": "pending"}
    (confirmation,) = mail.outbox
    assert confirmation.subject == "Confirm your subscription"
    assert "The Weekly Explainer" in confirmation.body
    assert "The Daily Briefing" not in confirmation.body
    (requested,) = ConsentEvent.objects.filter(action="requested")
    assert requested.wording_version.startswith("signup-")
    assert requested.source_detail == "preferences page"
    client.post(link_in(confirmation.body, "/newsletters/confirm/"))
    assert statuses(reader)["weekly-explainer"] == "active"


def test_a_list_waiting_for_confirmation_shows_as_such_and_stays_ticked(client, post, page_path):
    post(newsletters=["daily-briefing", "editors-picks", "weekly-explainer"])
    response = client.get(page_path)
    assert checked(response) == {"daily-briefing", "editors-picks", "weekly-explainer"}
    assert "Waiting for you to confirm by email." in text(response)


def test_saving_without_a_change_says_so_and_sends_nothing(post, reader):
    response = post(newsletters=["daily-briefing", "editors-picks"])
    assert "Nothing has changed" in text(response)
    assert ConsentEvent.objects.count() == 0
    assert mail.outbox == []


def test_leaving_all_unsubscribes_from_every_list(post, reader, page_path):
    response = post(page_path + "leave-all/")
    assert response.status_code == 200
    assert "You've left all our newsletters." in text(response)
    assert checked(response) == set()
    assert set(statuses(reader).values()) == {"unsubscribed"}
    assert ConsentEvent.objects.filter(action="unsubscribed").count() == 2


def test_a_reader_on_a_hidden_list_sees_it_and_can_drop_it(client, post, reader, newsletters):
    hidden = newsletters["weekly-explainer"]
    hidden.is_public = False
    hidden.save()
    Subscription.objects.create(subscriber=reader, newsletter=hidden, status="active")
    response = post(newsletters=["daily-briefing", "editors-picks"])
    assert "You've left: The Weekly Explainer." in text(response)
    assert "The Weekly Explainer" not in text(client.get(response.request["PATH_INFO"]))


@pytest.mark.parametrize("slug", ["weekly-explainer", "no-such-list"])
def test_a_list_that_is_not_offered_cannot_be_added_and_nothing_changes(
    post, reader, newsletters, slug
):
    newsletters["weekly-explainer"].audience = "members"
    newsletters["weekly-explainer"].save()
    response = post(newsletters=["daily-briefing", slug])
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert f"There is no newsletter called “{slug}” to choose here." in text(response)
    assert statuses(reader) == BOTH_ACTIVE
    assert ConsentEvent.objects.count() == 0
    assert OutboundEmail.objects.filter(kind="confirmation").count() == 0


@pytest.mark.parametrize("mangle", ["truncate", "tamper", "wrong-purpose", "garbage"])
def test_a_broken_preferences_link_is_refused_and_changes_nothing(
    client, reader, page_path, mangle
):
    token = page_path.split("/")[3]
    bad = {
        "truncate": token[:-4],
        "tamper": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "wrong-purpose": make_token("unsubscribe", {"s": reader.pk}),
        "garbage": "%3Cscript%3E",
    }[mangle]
    base = f"/newsletters/preferences/{bad}/"
    for response in (
        client.get(base),
        client.post(base, {"newsletters": []}),
        client.post(base + "leave-all/"),
        client.post(base + "resume/"),
    ):
        assert response.status_code == 400
        assert "This link doesn't work" in text(response)
    assert statuses(reader) == BOTH_ACTIVE
    assert ConsentEvent.objects.count() == 0


def test_an_expired_link_changes_nothing_and_offers_a_fresh_one_by_email(
    client, reader, page_path, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        response = client.get(page_path)
        assert response.status_code == 410
        assert "This link has expired" in text(response)
        assert client.post(page_path + "leave-all/").status_code == 410
        assert statuses(reader) == BOTH_ACTIVE
        with django_capture_on_commit_callbacks(execute=True):
            renewed = client.post(page_path + "renew/")
        assert renewed.status_code == 302
        assert renewed["Location"] == "/newsletters/preferences/sent/"
        (message,) = mail.outbox
        assert message.to == ["Reader@example.org"]
        fresh = link_in(message.body, "/newsletters/preferences/")
        assert client.get(fresh).status_code == 200


def test_a_link_for_an_erased_reader_is_refused(client, page_path):
    Subscriber.objects.all().delete()
    assert client.get(page_path).status_code == 400


def ask_for_link(client, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/newsletters/preferences/", {"email": email})


def test_asking_for_the_link_gives_one_answer_whether_the_address_is_known_or_not(
    client, reader, django_capture_on_commit_callbacks
):
    known = ask_for_link(client, " READER@example.org ", django_capture_on_commit_callbacks)
    unknown = ask_for_link(client, "stranger@example.org", django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/newsletters/preferences/sent/"
    assert "If we know this address, we've sent you a link" in text(client.get(known["Location"]))
    (message,) = mail.outbox
    assert message.to == ["Reader@example.org"]
    assert message.subject == "Your The Ledger newsletter settings"
    assert "List-Unsubscribe" not in message.extra_headers
    html = unescape(message.alternatives[0][0])
    link = link_in(message.body, "/newsletters/preferences/")
    assert link in html
    assert client.get(link).status_code == 200


def test_the_request_page_has_a_labelled_field(client):
    response = client.get("/newsletters/preferences/")
    assert response.status_code == 200
    assert '<label for="id_email">Email address</label>' in response.content.decode()


@pytest.mark.parametrize("email", ["", "not an address", "a" * 250 + "@example.org"])
def test_asking_with_a_malformed_address_is_explained_and_sends_nothing(client, reader, email):
    response = client.post("/newsletters/preferences/", {"email": email})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert "Please enter" in text(response)
    assert OutboundEmail.objects.count() == 1  # only the welcome


def test_asking_for_the_link_is_rate_limited_per_address(client, reader, settings):
    settings.PREFERENCES_LINK_RATE_PER_ADDRESS = "2/h"
    codes = [
        client.post("/newsletters/preferences/", {"email": e}).status_code
        for e in ["reader@example.org", "READER@example.org", "reader@example.org"]
    ]
    assert codes == [302, 302, 429]
    # Unknown addresses are limited alike, so the limit reveals nothing either.
    codes = [
        client.post("/newsletters/preferences/", {"email": "who@example.org"}).status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]


def test_asking_for_the_link_is_rate_limited_per_ip(client, reader, settings):
    settings.PREFERENCES_LINK_RATE_PER_IP = "3/m"
    codes = [
        client.post("/newsletters/preferences/", {"email": f"r{i}@example.org"}).status_code
        for i in range(4)
    ]
    assert codes == [302, 302, 302, 429]
    assert "Too many attempts" in text(
        client.post("/newsletters/preferences/", {"email": "x@example.org"})
    )


def test_a_few_links_a_day_at_most_reach_one_address(
    client, reader, settings, django_capture_on_commit_callbacks
):
    settings.PREFERENCES_LINK_EMAILS_PER_DAY = 2
    for _ in range(4):
        ask_for_link(client, "reader@example.org", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_a_suppressed_reader_is_told_and_can_start_again_by_confirming_afresh(
    client, post, reader, page_path
):
    suppression.suppress("reader@example.org", "bounced", Provenance(source="esp"))
    page = client.get(page_path)
    assert "We've stopped sending newsletters to this address" in text(page)
    # Signing up again for a list they are still on asks them to confirm too.
    response = post(page_path + "resume/")
    assert "We've emailed you to confirm: The Daily Briefing, Editors' Picks." in text(response)
    (confirmation,) = mail.outbox  # transactional: it goes although the address is suppressed
    assert statuses(reader) == BOTH_ACTIVE
    client.post(link_in(confirmation.body, "/newsletters/confirm/"))
    assert not suppression.is_suppressed("reader@example.org")
    assert ConsentEvent.objects.filter(action="confirmed").count() == 2
    assert "We've stopped sending" not in text(client.get(page_path))


def test_resuming_when_not_suppressed_sends_nothing(post, page_path):
    response = post(page_path + "resume/")
    assert response.status_code == 200
    assert mail.outbox == []


def test_a_list_left_and_ticked_again_waits_for_confirmation_and_unticking_withdraws_it(
    client, post, reader, page_path
):
    post(newsletters=["daily-briefing"])
    mail.outbox.clear()
    response = post(newsletters=["daily-briefing", "editors-picks"])
    assert "We've emailed you to confirm: Editors' Picks." in text(response)
    assert checked(response) == {"daily-briefing", "editors-picks"}
    assert "Waiting for you to confirm by email." in text(response)
    assert statuses(reader)["editors-picks"] == "unsubscribed"  # nothing sent until confirmed
    (confirmation,) = mail.outbox
    response = post(newsletters=["daily-briefing"])
    assert "You've left: Editors' Picks." in text(response)
    # The confirmation already in the inbox can no longer bring the list back.
    assert "Nothing to confirm" in text(
        client.post(link_in(confirmation.body, "/newsletters/confirm/"))
    )
    assert statuses(reader) == {"daily-briefing": "active", "editors-picks": "unsubscribed"}


def test_leaving_and_asking_again_within_a_second_still_confirms(client, reader, page_path):
    # After the fixture made the reader (real time), 100 ms into a second.
    moment = timezone.now().replace(microsecond=100_000) + timedelta(seconds=1)
    with time_machine.travel(moment, tick=False):
        client.post(page_path, {"newsletters": ["daily-briefing"]})
    with time_machine.travel(moment + timedelta(milliseconds=500), tick=False):
        client.post(page_path, {"newsletters": ["daily-briefing", "editors-picks"]})
    confirm = OutboundEmail.objects.get(kind="confirmation")
    with time_machine.travel(moment + timedelta(seconds=30), tick=False):
        client.post(link_in(confirm.text_body, "/newsletters/confirm/"))
    assert statuses(reader) == BOTH_ACTIVE
