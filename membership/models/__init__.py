from membership.models.demo import DemoEvent
from membership.models.drives import Drive
from membership.models.events import StripeEvent
from membership.models.members import Member, Membership
from membership.models.plans import Plan
from membership.models.signin import SignInLink

__all__ = ["DemoEvent", "Drive", "Member", "Membership", "Plan", "SignInLink", "StripeEvent"]
