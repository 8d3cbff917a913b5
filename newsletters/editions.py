"""An edition's life: scheduled or sent now, snapshotted into recipients, driven by beat.

Staff actions change one row and queue work after the commit; beat's tick() starts editions
that fell due and wakes sends whose workers went quiet, so nothing depends on a message that
the broker may have lost.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from newsletters.models import Edition, EditionRecipient, Subscriber, Subscription, Suppression
from newsletters.models.suppression import HASH_PREFIX

log = logging.getLogger(__name__)


class NotAllowed(Exception):
    """The edition is not in a state where that can be done."""


def _queue_start(edition: Edition) -> None:
    from config.celery import publish_on_commit
    from newsletters.tasks import start_edition

    publish_on_commit(start_edition, edition.pk)


def schedule(edition: Edition, when: datetime) -> Edition:
    """Send the edition at the given time (beat starts it); a draft or scheduled one only."""
    with transaction.atomic():
        updated = Edition.objects.filter(
            pk=edition.pk, status__in=[Edition.Status.DRAFT, Edition.Status.SCHEDULED]
        ).update(status=Edition.Status.SCHEDULED, send_at=when)
        if not updated:
            raise NotAllowed("only a draft or scheduled edition can be scheduled")
        if when <= timezone.now():
            _queue_start(edition)
    edition.refresh_from_db()
    return edition


def send_now(edition: Edition) -> Edition:
    """Start sending at once: the snapshot and the batches run in workers."""
    return schedule(edition, timezone.now())


def cancel(edition: Edition) -> Edition:
    """Take a scheduled edition back to a draft; one already sending cannot be called back."""
    updated = Edition.objects.filter(pk=edition.pk, status=Edition.Status.SCHEDULED).update(
        status=Edition.Status.DRAFT, send_at=None
    )
    if not updated:
        raise NotAllowed("only a scheduled edition can be cancelled")
    edition.refresh_from_db()
    return edition


def _snapshot(edition: Edition) -> int:
    """Write one recipient row per active, unsuppressed subscriber of the list, in one INSERT."""
    recipients = EditionRecipient._meta.db_table
    subscriptions = Subscription._meta.db_table
    subscribers = Subscriber._meta.db_table
    suppressions = Suppression._meta.db_table
    # Suppression is checked again at send time, in Python; here it only saves rows.
    # Table names come from the models; every value is a parameter.
    not_suppressed = (
        f" AND NOT EXISTS (SELECT 1 FROM {suppressions} AS x WHERE x.address_hash ="  # noqa: S608
        " encode(sha256(convert_to(%s || lower(s.email), 'UTF8')), 'hex'))"
    )
    params: list[int | str] = [edition.pk, edition.newsletter_id, Subscription.Status.ACTIVE]
    if connection.vendor == "postgresql":
        params.append(HASH_PREFIX)
    else:
        not_suppressed = ""
    sql = (
        f"INSERT INTO {recipients} (edition_id, subscriber_id, email, status, message_id, detail)"  # noqa: S608
        f" SELECT %s, s.id, s.email, 'pending', '', ''"
        f" FROM {subscriptions} AS sub JOIN {subscribers} AS s ON s.id = sub.subscriber_id"
        f" WHERE sub.newsletter_id = %s AND sub.status = %s{not_suppressed}"
        " ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = max(cursor.rowcount, 0)
        if connection.vendor == "postgresql":
            # A million new rows the planner has not seen: without fresh statistics it may
            # sort the whole edition for each batch instead of walking its index.
            cursor.execute(f"ANALYZE {recipients}")
    return count


def start(edition_id: int) -> bool:
    """Begin a due edition: snapshot its list and queue the workers. Safe to call twice."""
    from config.celery import publish_on_commit
    from newsletters.tasks import deliver_edition

    with transaction.atomic():
        edition = (
            Edition.objects.select_for_update().due(timezone.now()).filter(pk=edition_id).first()
        )
        if edition is None:
            return False
        count = _snapshot(edition)
        now = timezone.now()
        edition.status = Edition.Status.SENDING if count else Edition.Status.SENT
        edition.recipients = count
        edition.started_at = edition.heartbeat_at = now
        edition.finished_at = None if count else now
        edition.save(
            update_fields=["status", "recipients", "started_at", "heartbeat_at", "finished_at"]
        )
        for _ in range(settings.EDITION_SEND_TASKS if count else 0):
            publish_on_commit(deliver_edition, edition.pk)
    log.info("edition %s: sending to %d readers", edition_id, count)
    return True


def tick(now: datetime | None = None) -> int:
    """Start every edition that fell due and wake every send whose workers went quiet."""
    from config.celery import publish
    from newsletters.tasks import deliver_edition, start_edition

    now = now or timezone.now()
    woken = 0
    for pk in Edition.objects.due(now).values_list("pk", flat=True):
        publish(start_edition, pk)
        woken += 1
    quiet_since = now - timedelta(seconds=settings.EDITION_STALL_SECONDS)
    for pk in Edition.objects.stalled(quiet_since).values_list("pk", flat=True):
        log.warning("edition %s: no batch for a while; waking its workers", pk)
        for _ in range(settings.EDITION_SEND_TASKS):
            publish(deliver_edition, pk)
        woken += 1
    return woken
