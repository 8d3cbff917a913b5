import hashlib
import secrets
from base64 import urlsafe_b64encode
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from membership.models.members import Member, Membership
from membership.money import format_amount
from membership.months import add_months, morning_of
from newsletters.tokens import TokenInvalid, make_token, read_token

PAGE_TOKEN_PURPOSE = "membership.gift-page"  # noqa: S105 - a signing salt, not a secret

MAX_GIFTS_PER_PURCHASE = 10
MESSAGE_MAX_LENGTH = 300
NAME_MAX_LENGTH = 100
# A gift delivered late in its year still gets this long to be redeemed.
MIN_DAYS_TO_REDEEM = 30
# Letters and digits nobody misreads on paper: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


class GiftPriceQuerySet(models.QuerySet["GiftPrice"]):
    def offered(self) -> "GiftPriceQuerySet":
        return self.filter(is_active=True)


class GiftPrice(models.Model):
    """What a gift of so many months costs; staff set one per duration."""

    class Months(models.IntegerChoices):
        ONE = 1, _("1 month")
        THREE = 3, _("3 months")
        SIX = 6, _("6 months")
        TWELVE = 12, _("12 months")

    months = models.PositiveSmallIntegerField(choices=Months.choices, unique=True)
    amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text=_("In the currency's smallest unit, as in Stripe: 1500 is £15.00."),
    )
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[a-z]{3}$", _("A three-letter code in lower case: gbp."))],
    )
    is_active = models.BooleanField(_("offered"), default=True)

    objects = GiftPriceQuerySet.as_manager()

    class Meta:
        ordering = ["months"]

    def __str__(self) -> str:
        return f"{self.get_months_display()}: {self.price_label}"

    @property
    def price_label(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def label(self) -> str:
        return str(
            _("%(duration)s for %(price)s")
            % {"duration": self.get_months_display(), "price": self.price_label}
        )

    def clean(self) -> None:
        # One Checkout session charges in one currency, and a purchase may mix durations.
        others = GiftPrice.objects.offered().exclude(pk=self.pk).exclude(currency=self.currency)
        if self.is_active and others.exists():
            raise ValidationError(
                {"currency": _("Every offered gift price must be in the same currency.")}
            )


def months_label(months: int) -> str:
    return ngettext("%(n)d month", "%(n)d months", months) % {"n": months}


class GiftPurchase(models.Model):
    """One buyer's order of up to ten gifts, paid in one Stripe Checkout session."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PROCESSING = "processing", _("Payment on its way")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        ABANDONED = "abandoned", _("Checkout abandoned")

    buyer_name = models.CharField(max_length=NAME_MAX_LENGTH)
    buyer_email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10, default="en")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_key = models.CharField(
        max_length=64, unique=True, help_text=_("One per submitted form: a double click is one.")
    )
    checkout_session_id = models.CharField(max_length=100, blank=True, db_index=True)
    payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    amount_total = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("gift purchase")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="gift_purchase_status")]

    def __str__(self) -> str:
        return f"gift purchase {self.pk} ({self.status})"

    @property
    def total_label(self) -> str:
        return format_amount(self.amount_total, self.currency)

    def page_url(self) -> str:
        """The buyer's gift page: a signed link, sent in the receipt."""
        from django.urls import reverse

        token = make_token(PAGE_TOKEN_PURPOSE, {"p": self.pk})
        return settings.SITE_URL + reverse("membership:gift_page", args=[token])

    @classmethod
    def for_page_token(cls, token: str) -> "GiftPurchase":
        """Raise TokenInvalid or TokenExpired, or GiftPurchase.DoesNotExist once forgotten."""
        max_age = timedelta(days=settings.GIFT_PAGE_LINK_DAYS)
        payload = read_token(PAGE_TOKEN_PURPOSE, token, max_age)
        if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
            raise TokenInvalid("not a gift page token")
        return cls.objects.get(pk=payload["p"], status=cls.Status.PAID)

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    def mark_paid(self, at: datetime, payment_intent_id: str = "") -> bool:
        """Stripe says the money arrived; False if we knew already."""
        if payment_intent_id and not self.payment_intent_id:
            self.payment_intent_id = payment_intent_id[:100]
        if self.status == self.Status.PAID:
            self.save(update_fields=["payment_intent_id"])
            return False
        self.status = self.Status.PAID
        self.paid_at = at
        self.save(update_fields=["status", "paid_at", "payment_intent_id"])
        return True

    def mark_processing(self, payment_intent_id: str = "") -> bool:
        if payment_intent_id and not self.payment_intent_id:
            self.payment_intent_id = payment_intent_id[:100]
        changed = self.status == self.Status.PENDING
        if changed:
            self.status = self.Status.PROCESSING
        self.save(update_fields=["status", "payment_intent_id"])
        return changed

    def mark_unpaid(self, status: str, at: datetime) -> bool:
        """A payment that failed, or a Checkout left to expire; never undoes a paid one."""
        if self.status not in (self.Status.PENDING, self.Status.PROCESSING):
            return False
        self.status = status
        self.failed_at = at
        self.save(update_fields=["status", "failed_at"])
        self.gifts.filter(status=Gift.Status.AWAITING_PAYMENT).update(status=Gift.Status.UNPAID)
        return True


def _hmac(purpose: str, value: str) -> bytes:
    return salted_hmac(f"membership.gift.{purpose}", value, algorithm="sha256").digest()


def normalise_code(typed: str) -> str:
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return _hmac("code-lookup", normalise_code(code)).hex()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class GiftQuerySet(models.QuerySet["Gift"]):
    def for_token(self, token: str) -> "Gift | None":
        if not 20 <= len(token) <= 100:
            return None
        return self.select_related("purchase").filter(token_hash=hash_token(token)).first()

    def for_code(self, typed: str) -> "Gift | None":
        if len(normalise_code(typed)) != CODE_LENGTH:
            return None
        return self.select_related("purchase").filter(code_hash=hash_code(typed)).first()

    def due(self, now: datetime) -> "GiftQuerySet":
        """Paid gifts whose delivery time has come."""
        return self.filter(status=Gift.Status.SCHEDULED, deliver_at__lte=now)

    def past_expiry(self, now: datetime) -> "GiftQuerySet":
        return self.filter(
            status__in=[Gift.Status.SCHEDULED, Gift.Status.DELIVERED], expires_at__lte=now
        )


class Gift(models.Model):
    """One gift membership: for one recipient, delivered on a date, redeemed once."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting", _("Waiting for payment")
        UNPAID = "unpaid", _("Not paid")
        SCHEDULED = "scheduled", _("Paid, waiting for its delivery date")
        DELIVERED = "delivered", _("Delivered, not yet redeemed")
        REDEEMED = "redeemed", _("Redeemed")
        EXPIRED = "expired", _("Expired unredeemed")
        REVOKED = "revoked", _("Revoked")

    class RevokeReason(models.TextChoices):
        REFUNDED = "refunded", _("Refunded")
        STAFF = "staff", _("Revoked by staff")
        ERASED = "erased", _("Recipient's data erased")

    class Redemption(models.TextChoices):
        STARTED = "started", _("Started a gift membership")
        EXTENDED_GIFT = "extended_gift", _("Extended a gift membership")
        EXTENDED_PAID = "extended_paid", _("Pushed back a paid membership's next payment")

    OPEN = (Status.SCHEDULED, Status.DELIVERED)

    purchase = models.ForeignKey(GiftPurchase, on_delete=models.CASCADE, related_name="gifts")
    months = models.PositiveSmallIntegerField(choices=GiftPrice.Months.choices)
    amount = models.PositiveIntegerField(help_text=_("What the buyer paid for this gift."))
    currency = models.CharField(max_length=3)
    recipient_name = models.CharField(max_length=NAME_MAX_LENGTH)
    recipient_email = models.EmailField(max_length=254)
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH, blank=True)
    deliver_on = models.DateField(
        null=True, blank=True, help_text=_("Empty: as soon as it is paid.")
    )
    deliver_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.AWAITING_PAYMENT
    )
    link_salt = models.CharField(max_length=32, default="", blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    link_sent_to = models.EmailField(
        max_length=254, blank=True, help_text=_("Where the working redemption link was sent.")
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="gifts_redeemed"
    )
    redemption = models.CharField(max_length=15, choices=Redemption.choices, blank=True)
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="gifts"
    )
    covers_from = models.DateTimeField(null=True, blank=True)
    covers_to = models.DateTimeField(null=True, blank=True)
    refund_requested_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=10, choices=RevokeReason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = GiftQuerySet.as_manager()

    class Meta:
        ordering = ["purchase", "pk"]
        indexes = [
            models.Index(
                fields=["deliver_at"], name="gift_waiting", condition=models.Q(status="scheduled")
            ),
            models.Index(fields=["status", "expires_at"], name="gift_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"gift {self.pk}: {self.months_label} ({self.status})"

    @property
    def months_label(self) -> str:
        return months_label(self.months)

    @property
    def amount_label(self) -> str:
        return format_amount(self.amount, self.currency)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def can_change_date(self) -> bool:
        return self.status in (self.Status.AWAITING_PAYMENT, self.Status.SCHEDULED)

    @property
    def can_change_address(self) -> bool:
        return self.status in (self.Status.AWAITING_PAYMENT, *self.OPEN)

    @property
    def can_resend(self) -> bool:
        return self.status == self.Status.DELIVERED

    def schedule(self, deliver_on: date | None) -> None:
        """Set the delivery day (None: at once); the time is the morning in the newsroom."""
        self.deliver_on = deliver_on
        self.deliver_at = morning_of(deliver_on) if deliver_on else None

    def mark_paid(self, paid_at: datetime) -> None:
        self.status = self.Status.SCHEDULED
        if self.deliver_at is None:
            self.deliver_at = paid_at
        self.set_expiry(paid_at)

    def set_expiry(self, paid_at: datetime) -> None:
        """A year after purchase, but never sooner than MIN_DAYS_TO_REDEEM after delivery."""
        delivery = max(self.deliver_at or paid_at, paid_at)
        self.expires_at = max(
            add_months(paid_at, 12), delivery + timedelta(days=MIN_DAYS_TO_REDEEM)
        )

    # Redemption credentials: a link and a code, derived from a salt with the secret key, so
    # the same link can be sent again and a new salt kills both. Only hashes are looked up.

    def credentials(self) -> tuple[str, str]:
        if not self.link_salt:
            raise ValueError("this gift has no redemption credentials yet")
        digest = _hmac("credentials", f"{self.pk}:{self.link_salt}")
        token = urlsafe_b64encode(digest).rstrip(b"=").decode()
        number = int.from_bytes(_hmac("code", f"{self.pk}:{self.link_salt}"), "big")
        code = []
        for _i in range(CODE_LENGTH):
            number, index = divmod(number, len(CODE_ALPHABET))
            code.append(CODE_ALPHABET[index])
        return token, "".join(code)

    def rotate_credentials(self) -> tuple[str, str]:
        """New link and code; whatever was sent before stops working."""
        self.link_salt = secrets.token_hex(16)
        token, code = self.credentials()
        self.token_hash = hash_token(token)
        self.code_hash = hash_code(code)
        return token, code

    def redeem_url(self, token: str) -> str:
        from django.urls import reverse

        return settings.SITE_URL + reverse("membership:gift_redeem_link", args=[token])


def format_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
