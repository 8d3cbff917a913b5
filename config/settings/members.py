"""Settings of the membership app: payments, memberships, sign-in links and gifts."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str
from config.settings.base import CELERY_BEAT_SCHEDULE, _required_in_production

# Payments: Stripe when a secret key is set; otherwise (development only) a local demo of
# Checkout and the customer portal that signs its events with the webhook secret.
STRIPE_SECRET_KEY = _required_in_production("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = _required_in_production(
    "STRIPE_WEBHOOK_SECRET", "whsec_development_only_not_a_secret"
)
# Past-due memberships keep access this many days when their plan does not say (staff set it
# per plan in the admin).
MEMBERSHIP_GRACE_DAYS = env_int("MEMBERSHIP_GRACE_DAYS", 14, minimum=0)
MEMBER_SIGN_IN_LINK_MINUTES = env_int("MEMBER_SIGN_IN_LINK_MINUTES", 60, minimum=1)
# A used sign-in link keeps working this long: a mail scanner that follows it first, or a
# second tap, does not lock the reader out.
MEMBER_SIGN_IN_REUSE_MINUTES = env_int("MEMBER_SIGN_IN_REUSE_MINUTES", 10, minimum=0)
# Drive progress and the supporter count are exact but cached this long.
MEMBERSHIP_COUNTS_CACHE_SECONDS = env_int("MEMBERSHIP_COUNTS_CACHE_SECONDS", 60, minimum=0)
# newsletters asks this callable whether an address may have members-only lists.
NEWSLETTERS_MEMBER_CHECK = "membership.access.has_access"
CELERY_BEAT_SCHEDULE["close-lapsed-member-lists"] = {
    "task": "membership.tasks.close_lapsed_member_lists",
    "schedule": env_int("MEMBERSHIP_LAPSE_SWEEP_SECONDS", 900, minimum=1),
}
CELERY_BEAT_SCHEDULE["purge-sign-in-links"] = {
    "task": "membership.tasks.purge_sign_in_links",
    "schedule": 86_400,
}
# newsletters.privacy.erase_subscriber also runs these, each given the address being erased.
NEWSLETTERS_EXTRA_ERASERS = ["membership.privacy.erase_reader"]

# Gift memberships: delivered on the chosen day at this hour in NEWSROOM_TIME_ZONE by beat,
# which also sends reminders, expires unredeemed gifts and forgets abandoned checkouts.
GIFT_DELIVERY_HOUR = env_int("GIFT_DELIVERY_HOUR", 8, minimum=0)
if GIFT_DELIVERY_HOUR > 23:
    raise ImproperlyConfigured(
        f"GIFT_DELIVERY_HOUR is an hour from 0 to 23, not {GIFT_DELIVERY_HOUR}"
    )
GIFT_REMINDER_DAYS = env_int("GIFT_REMINDER_DAYS", 7, minimum=1)
GIFT_PAGE_LINK_DAYS = env_int("GIFT_PAGE_LINK_DAYS", 400, minimum=1)
GIFT_ABANDONED_AFTER_DAYS = env_int("GIFT_ABANDONED_AFTER_DAYS", 2, minimum=1)
GIFT_CODE_RATE_PER_IP = env_str("GIFT_CODE_RATE_PER_IP", "10/10m")
GIFT_RESENDS_PER_DAY = env_int("GIFT_RESENDS_PER_DAY", 3, minimum=1)
CELERY_BEAT_SCHEDULE["deliver-gifts"] = {
    "task": "membership.tasks.deliver_due_gifts",
    "schedule": env_int("GIFT_DELIVERY_SWEEP_SECONDS", 300, minimum=1),
}
CELERY_BEAT_SCHEDULE["gift-housekeeping"] = {
    "task": "membership.tasks.gift_housekeeping",
    "schedule": env_int("GIFT_HOUSEKEEPING_SECONDS", 3600, minimum=1),
}
