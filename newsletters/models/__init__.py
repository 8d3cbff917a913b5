from newsletters.models.consent import ConsentEvent
from newsletters.models.edition import Edition, EditionRecipient
from newsletters.models.newsletter import Newsletter
from newsletters.models.outbox import OutboundEmail
from newsletters.models.signup_request import SignupRequest
from newsletters.models.subscriber import Subscriber, Subscription
from newsletters.models.suppression import Suppression, address_hash

__all__ = [
    "ConsentEvent",
    "Edition",
    "EditionRecipient",
    "Newsletter",
    "OutboundEmail",
    "SignupRequest",
    "Subscriber",
    "Subscription",
    "Suppression",
    "address_hash",
]
