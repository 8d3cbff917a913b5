"""What Stripe's events do to gift purchases; entries in handlers.HANDLERS.

Checkout in payment mode pays for gifts. A session whose payment_status is "paid" is paid; one
completed "unpaid" waits for checkout.session.async_payment_succeeded or _failed.
"""

from datetime import datetime
from typing import Any

from membership import gift_purchase, gift_refunds
from membership.models import GiftPurchase


def _purchase(session: dict[str, Any]) -> GiftPurchase | None:
    """The purchase a session pays for: by our id in its metadata, else by the session id."""
    purchases = GiftPurchase.objects.select_for_update()
    purchase_id = str((session.get("metadata") or {}).get("gift_purchase_id", ""))
    if purchase_id.isdigit():
        return purchases.filter(pk=int(purchase_id)).first()
    session_id = session.get("id")
    if isinstance(session_id, str) and session_id:
        return purchases.filter(checkout_session_id=session_id).first()
    return None


def _payment_intent(session: dict[str, Any]) -> str:
    value = session.get("payment_intent")
    return value if isinstance(value, str) else ""


def checkout_completed(session: dict[str, Any], at: datetime) -> str:
    purchase = _purchase(session)
    if purchase is None:
        return "not one of our gift purchases"
    if session.get("payment_status") == "paid":
        return gift_purchase.paid(purchase, at, _payment_intent(session))
    return gift_purchase.processing(purchase, _payment_intent(session))


def async_payment_succeeded(session: dict[str, Any], at: datetime) -> str:
    purchase = _purchase(session)
    if purchase is None:
        return "not one of our gift purchases"
    return gift_purchase.paid(purchase, at, _payment_intent(session))


def async_payment_failed(session: dict[str, Any], at: datetime) -> str:
    purchase = _purchase(session)
    if purchase is None:
        return "not one of our gift purchases"
    return gift_purchase.failed(purchase, at)


def checkout_expired(session: dict[str, Any], at: datetime) -> str:
    if session.get("mode") != "payment":
        return "not a gift checkout"
    purchase = _purchase(session)
    if purchase is None:
        return "not one of our gift purchases"
    return gift_purchase.abandoned(purchase, at)


def charge_refunded(charge: dict[str, Any], at: datetime) -> str:
    return gift_refunds.charge_refunded(charge, at)
