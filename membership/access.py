"""Members-only newsletters: open while a membership gives access, closed when it ends."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership.models import Member, Membership
from newsletters.consent import Provenance, Wording
from newsletters.models import ConsentEvent, Newsletter, Subscriber, Subscription
from newsletters.unsubscribe import unsubscribe

log = logging.getLogger(__name__)

MEMBERSHIP_ENDED = Provenance(source=ConsentEvent.Source.SYSTEM, detail="membership ended")
MEMBER_LIST_WORDING = Wording(
    version="member-list-2026-11",
    text=_(
        "Send me this members' newsletter while I am a member. I can leave at any time "
        "with one click, and my address is never shared or sold."
    ),
)


def has_access(email: str) -> bool:
    """Whether the address belongs to a member with access now (NEWSLETTERS_MEMBER_CHECK)."""
    # The member first, by its unique index: most readers are not members and stop here, and
    # the memberships are then read by member id, a plan no table statistics can spoil.
    member_id = Member.objects.for_email(email).values_list("pk", flat=True).first()
    if member_id is None:
        return False
    return Membership.objects.giving_access().filter(member_id=member_id).exists()


def members_only_lists() -> list[Newsletter]:
    return list(Newsletter.objects.filter(audience=Newsletter.Audience.MEMBERS))


@dataclass(frozen=True)
class MemberList:
    newsletter: Newsletter
    status: str | None  # the reader's subscription: pending, active, unsubscribed, or none


def member_lists(member: Member) -> list[MemberList]:
    """Every members-only newsletter, with where the member stands on it."""
    lists = members_only_lists()
    subscriber = Subscriber.objects.for_email(member.email).first()
    statuses: dict[int, str] = {}
    if subscriber is not None:
        statuses = dict(
            subscriber.subscriptions.filter(newsletter__in=lists).values_list(
                "newsletter_id", "status"
            )
        )
    return [MemberList(newsletter, statuses.get(newsletter.pk)) for newsletter in lists]


def close_member_lists(email: str) -> list[Newsletter]:
    """Take the address off every members-only list it is on or waiting for."""
    subscriber = Subscriber.objects.for_email(email).first()
    if subscriber is None:
        return []
    return unsubscribe(subscriber, members_only_lists(), MEMBERSHIP_ENDED)


def sync(member: Member) -> None:
    """Close the member's members-only lists once no membership gives access."""
    if not member.has_access():
        closed = close_member_lists(member.email)
        if closed:
            log.info(
                "member %s: membership ended; left %d members-only lists", member.pk, len(closed)
            )


def close_lapsed(now: datetime | None = None) -> int:
    """Close members-only lists for everyone whose access has ended; return how many readers.

    Memberships end by the clock too (a complimentary end date, a grace period running out),
    with no event to say so: beat runs this periodically.
    """
    now = now or timezone.now()
    with_access = set(
        Member.objects.filter(memberships__in=Membership.objects.giving_access(now))
        .annotate(email_ci=Lower("email"))
        .values_list("email_ci", flat=True)
    )
    on_member_lists = Subscriber.objects.filter(
        subscriptions__newsletter__audience=Newsletter.Audience.MEMBERS,
        subscriptions__status__in=[Subscription.Status.PENDING, Subscription.Status.ACTIVE],
    ).distinct()
    lists = members_only_lists()
    closed = 0
    for subscriber in list(on_member_lists):
        if subscriber.email.lower() not in with_access:
            unsubscribe(subscriber, lists, MEMBERSHIP_ENDED)
            closed += 1
    return closed
