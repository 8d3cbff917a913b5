"""Each email the membership app sends: one function, one template set under templates/emails/."""

from django.conf import settings
from django.urls import reverse

from membership.models import Member, Membership
from newsletters import outbox
from newsletters.models import OutboundEmail


def _url(name: str) -> str:
    return settings.SITE_URL + reverse(name)


def member_welcome(member: Member, membership: Membership) -> OutboundEmail:
    return outbox.queue(
        "member_welcome",
        member.email,
        "member_welcome",
        {
            "plan": membership.plan,
            "account_url": _url("membership:account"),
            "sign_in_url": _url("membership:sign_in"),
        },
        metadata={"member": str(member.pk)},
    )


def sign_in_link(member: Member, url: str) -> OutboundEmail:
    return outbox.queue(
        "member_sign_in",
        member.email,
        "member_sign_in",
        {"sign_in_url": url, "minutes": settings.MEMBER_SIGN_IN_LINK_MINUTES},
        metadata={"member": str(member.pk)},
    )


def payment_failed(member: Member, membership: Membership, fix_url: str) -> OutboundEmail:
    return outbox.queue(
        "payment_failed",
        member.email,
        "payment_failed",
        {
            "fix_url": fix_url,
            "account_url": _url("membership:account"),
            "grace_days": membership.grace().days,
        },
        metadata={"member": str(member.pk)},
    )
