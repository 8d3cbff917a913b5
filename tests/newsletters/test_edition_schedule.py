"""Scheduled editions: beat's tick starts them when due, and a schedule can be called back."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from newsletters import editions
from newsletters.models import Edition
from tests.newsletters.test_editions import make_readers

pytestmark = pytest.mark.django_db


def _next_monday_9am() -> datetime:
    """A Monday at least a day ahead of the real clock, which made the fixtures' rows."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 - today.weekday() + (7 if today.weekday() == 6 else 0))


MONDAY_9AM = _next_monday_9am()


@pytest.fixture
def edition(newsletters):
    daily = newsletters["daily-briefing"]
    make_readers(daily, 2)
    return Edition.objects.create(newsletter=daily, subject="Monday", html_body="<p>Hi</p>")


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    """Run a block at a frozen moment; what it queues after commit runs (or, if told, is lost)."""

    @contextlib.contextmanager
    def moment(when, queue_runs=True):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=queue_runs),
        ):
            yield

    return moment


def test_a_scheduled_edition_goes_out_at_the_first_tick_after_its_time(edition, at):
    with at(MONDAY_9AM - timedelta(days=1)):
        editions.schedule(edition, MONDAY_9AM)
    assert mail.outbox == []
    with at(MONDAY_9AM - timedelta(minutes=1)):
        assert editions.tick() == 0
    assert mail.outbox == []
    with at(MONDAY_9AM + timedelta(seconds=20)):
        assert editions.tick() == 1
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SENT and edition.sent == 2
    assert len(mail.outbox[0].to) == 2
    with at(MONDAY_9AM + timedelta(minutes=1)):
        assert editions.tick() == 0  # another tick changes nothing
    assert len(mail.outbox) == 1


def test_a_cancelled_schedule_sends_nothing_and_leaves_a_draft(edition, at):
    with at(MONDAY_9AM - timedelta(hours=2)):
        editions.schedule(edition, MONDAY_9AM)
        editions.cancel(edition)
    assert edition.status == Edition.Status.DRAFT and edition.send_at is None
    with at(MONDAY_9AM + timedelta(minutes=5)):
        assert editions.tick() == 0
    assert mail.outbox == []
    with pytest.raises(editions.NotAllowed):
        editions.cancel(edition)  # a draft has no schedule to cancel


def test_a_send_whose_workers_went_quiet_is_woken_by_the_tick(edition, settings, at):
    with at(MONDAY_9AM, queue_runs=False):  # the broker lost the tasks
        editions.send_now(edition)
        editions.start(edition.pk)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SENDING and mail.outbox == []
    with at(MONDAY_9AM + timedelta(seconds=60)):
        assert editions.tick() == 0  # not quiet for long enough yet
    with at(MONDAY_9AM + timedelta(seconds=settings.EDITION_STALL_SECONDS + 1)):
        assert editions.tick() == 1
    edition.refresh_from_db()
    assert edition.status == Edition.Status.SENT and edition.sent == 2
    assert len(mail.outbox) == 1
