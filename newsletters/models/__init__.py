from newsletters.models.consent import ConsentEvent
from newsletters.models.edition import Edition, EditionRecipient
from newsletters.models.imports import ImportInvitation, SubscriberImport
from newsletters.models.newsletter import Newsletter
from newsletters.models.outbox import OutboundEmail
from newsletters.models.signup_request import SignupRequest
from newsletters.models.stats import GrowthDay, ListStats
from newsletters.models.subscriber import Source, Subscriber, Subscription
from newsletters.models.suppression import Suppression, address_hash

__all__ = [
    "ConsentEvent",
    "Edition",
    "EditionRecipient",
    "GrowthDay",
    "ImportInvitation",
    "ListStats",
    "Newsletter",
    "OutboundEmail",
    "SignupRequest",
    "Source",
    "Subscriber",
    "SubscriberImport",
    "Subscription",
    "Suppression",
    "address_hash",
]
