"""Each email the membership app sends: one function, one template set under templates/emails/."""

from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse

from membership.models import Gift, GiftPurchase, Member, Membership
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


# Gifts. The buyer's emails never show the recipients' names or messages: those are for the
# gift email alone. Subjects carry no text a buyer typed (names are a spam vector, and a
# subject is a header).


def _gift_metadata(purchase: GiftPurchase, gift: Gift | None = None) -> dict[str, str]:
    metadata = {"gift_purchase": str(purchase.pk)}
    if gift is not None:
        metadata["gift"] = str(gift.pk)
    return metadata


def gift_receipt(purchase: GiftPurchase, gifts: Sequence[Gift]) -> OutboundEmail:
    return outbox.queue(
        "gift_receipt",
        purchase.buyer_email,
        "gift_receipt",
        {"purchase": purchase, "gifts": gifts, "page_url": purchase.page_url()},
        metadata=_gift_metadata(purchase),
        language=purchase.language,
    )


def gift_for_recipient(gift: Gift, redeem_url: str, code: str) -> OutboundEmail:
    """The gift itself, to its recipient: the only email with the names and the message."""
    purchase = gift.purchase
    return outbox.queue(
        "gift",
        gift.recipient_email,
        "gift",
        {
            "gift": gift,
            "buyer_name": purchase.buyer_name,
            "redeem_url": redeem_url,
            "code": code,
            "code_url": _url("membership:gift_redeem_code"),
            "zone": settings.NEWSROOM_TIME_ZONE,
        },
        metadata=_gift_metadata(purchase, gift),
        language=purchase.language,
    )


def gifts_delivered(purchase: GiftPurchase, gifts: Sequence[Gift]) -> OutboundEmail:
    return outbox.queue(
        "gifts_delivered",
        purchase.buyer_email,
        "gifts_delivered",
        {"gifts": gifts, "page_url": purchase.page_url()},
        metadata=_gift_metadata(purchase),
        language=purchase.language,
    )


def gift_redeemed(purchase: GiftPurchase, gift: Gift) -> OutboundEmail:
    return outbox.queue(
        "gift_redeemed",
        purchase.buyer_email,
        "gift_redeemed",
        {"gift": gift, "page_url": purchase.page_url()},
        metadata=_gift_metadata(purchase, gift),
        language=purchase.language,
    )


def gift_payment_failed(purchase: GiftPurchase, retry_url: str) -> OutboundEmail:
    return outbox.queue(
        "gift_payment_failed",
        purchase.buyer_email,
        "gift_payment_failed",
        {"purchase": purchase, "retry_url": retry_url},
        metadata=_gift_metadata(purchase),
        language=purchase.language,
    )


def gift_claim_link(gift: Gift, to: str, claim_url: str) -> OutboundEmail:
    return outbox.queue(
        "gift_claim_link",
        to,
        "gift_claim_link",
        {"gift": gift, "claim_url": claim_url},
        metadata=_gift_metadata(gift.purchase, gift),
    )


def gift_ending(member: Member, membership: Membership, join_url: str) -> OutboundEmail:
    return outbox.queue(
        "gift_ending",
        member.email,
        "gift_ending",
        {
            "membership": membership,
            "join_url": join_url,
            "account_url": _url("membership:account"),
            "zone": settings.NEWSROOM_TIME_ZONE,
        },
        metadata={"member": str(member.pk)},
    )
