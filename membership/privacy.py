"""Erasing a reader from the membership app, run by newsletters.privacy.erase_subscriber.

newsletters cannot import this app, so the setting NEWSLETTERS_EXTRA_ERASERS names
erase_reader. It runs in the erasure's transaction and keeps what the books need (amounts,
dates, Stripe ids, which memberships existed) while the person's details go:

- the member is anonymised (the address replaced), staff notes on their memberships cleared,
  their sign-in links deleted;
- gifts they bought lose the buyer's name and address, the messages, and the recipients'
  names; a recipient's address is kept only while their gift is still open (to be delivered
  or redeemed), since that gift is theirs;
- gifts they received lose the name, address and message, and an open one is revoked;
- the address, and the names and phones beside it, are scrubbed from stored Stripe events
  and the demo's events, and from sent gift emails that quoted the buyer.

Stripe holds its own copy of a paying member's details: erase the customer there too.
"""

import re
from typing import Any

from django.db.models import CharField, Q, TextField, Value
from django.db.models.functions import Cast, Concat

from membership.models import DemoEvent, Gift, GiftPurchase, Member, SignInLink, StripeEvent
from newsletters.models import OutboundEmail

ERASED = "[erased]"
ERASED_DOMAIN = "erased.invalid"
# Fields that sit beside an address in Stripe's objects and name the same person.
_BESIDE_ADDRESS = {"name", "phone", "address", "individual_name", "business_name"}


def _placeholder(kind: str) -> Concat:
    return Concat(Value(f"erased-{kind}-"), Cast("pk", CharField()), Value(f"@{ERASED_DOMAIN}"))


def erase_reader(email: str, erased_by: str = "") -> dict[str, int]:
    """Erase or anonymise everything the membership app holds on an address; report counts."""
    members = list(Member.objects.for_email(email))
    for member in members:
        member.memberships.update(note="")
    SignInLink.objects.filter(member__in=members).delete()
    Member.objects.filter(pk__in=[m.pk for m in members]).update(email=_placeholder("member"))

    bought = GiftPurchase.objects.filter(buyer_email__iexact=email)
    purchase_ids = list(bought.values_list("pk", flat=True))
    bought.update(buyer_name="", buyer_email=_placeholder("buyer"))
    gifts_bought = Gift.objects.filter(purchase_id__in=purchase_ids)
    gifts_bought.update(recipient_name="", message="")
    open_statuses = [Gift.Status.AWAITING_PAYMENT, *Gift.OPEN]
    gifts_bought.exclude(status__in=open_statuses).update(
        recipient_email=_placeholder("recipient"), link_sent_to=""
    )

    received = Gift.objects.filter(Q(recipient_email__iexact=email) | Q(link_sent_to__iexact=email))
    received_ids = list(received.values_list("pk", flat=True))
    Gift.objects.filter(pk__in=received_ids, status__in=open_statuses).update(
        status=Gift.Status.REVOKED, revoke_reason=Gift.RevokeReason.ERASED
    )
    Gift.objects.filter(pk__in=received_ids).update(
        recipient_name="",
        message="",
        recipient_email=_placeholder("recipient"),
        link_sent_to="",
        token_hash=None,
        code_hash=None,
    )

    quoted = OutboundEmail.objects.filter(
        metadata__gift_purchase__in=[str(pk) for pk in purchase_ids]
    ).exclude(status=OutboundEmail.Status.PENDING)
    emails_scrubbed = quoted.update(text_body=ERASED, html_body="")

    counts = {
        "members_anonymised": len(members),
        "gift_purchases_anonymised": len(purchase_ids),
        "gifts_received_anonymised": len(received_ids),
        "gift_emails_scrubbed": emails_scrubbed,
        "stripe_events_scrubbed": _scrub_events(StripeEvent, email),
        "demo_events_scrubbed": _scrub_events(DemoEvent, email),
    }
    return {name: count for name, count in counts.items() if count}  # only what was found


def _scrub_events(model: type[StripeEvent] | type[DemoEvent], email: str) -> int:
    mentioning = model.objects.alias(text=Cast("payload", TextField())).filter(
        text__icontains=email
    )
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    scrubbed = 0
    for event in mentioning.only("pk", "payload"):
        event.payload = _scrub(event.payload, pattern)
        event.save(update_fields=["payload"])
        scrubbed += 1
    return scrubbed


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """The value with the address replaced, and the name and phone beside it dropped."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub(item, pattern) for item in value]
    if isinstance(value, dict):
        mentions = any(isinstance(v, str) and pattern.search(v) for v in value.values())
        return {
            key: None if mentions and key in _BESIDE_ADDRESS else _scrub(item, pattern)
            for key, item in value.items()
        }
    return value
