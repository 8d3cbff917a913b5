from membership.models.demo import DemoEvent
from membership.models.drives import Drive, SupporterCount
from membership.models.events import StripeEvent
from membership.models.gifts import Gift, GiftPrice, GiftPurchase
from membership.models.members import Member, Membership
from membership.models.plans import Plan
from membership.models.signin import SignInLink

__all__ = [
    "DemoEvent",
    "Drive",
    "Gift",
    "GiftPrice",
    "GiftPurchase",
    "Member",
    "Membership",
    "Plan",
    "SignInLink",
    "StripeEvent",
    "SupporterCount",
]
