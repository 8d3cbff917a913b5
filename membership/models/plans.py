from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from membership.money import format_amount


class PlanQuerySet(models.QuerySet["Plan"]):
    def offered(self) -> "PlanQuerySet":
        return self.filter(is_active=True)


class Plan(models.Model):
    """A way to pay for membership: one Stripe Price, monthly or yearly."""

    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    name = models.CharField(max_length=80)
    stripe_price_id = models.CharField(
        _("Stripe price"),
        max_length=100,
        unique=True,
        validators=[RegexValidator(r"^price_[A-Za-z0-9_]+$", _("A Stripe price id: price_…"))],
        help_text=_("The Price in Stripe this plan charges, e.g. price_1PgafmB7WZ01zgkW."),
    )
    interval = models.CharField(max_length=5, choices=Interval.choices)
    amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text=_("In the currency's smallest unit, as in Stripe: 500 is £5.00."),
    )
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[a-z]{3}$", _("A three-letter code in lower case: gbp."))],
    )
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("Retired plans keep their members.")
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=14,
        help_text=_("How long a member keeps access while a renewal payment is failing."),
    )
    position = models.PositiveIntegerField(default=0, help_text=_("Lower comes first."))

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["position", "amount"]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_label})"

    @property
    def price_label(self) -> str:
        """The price as readers see it, e.g. "£5 a month"."""
        amount = format_amount(self.amount, self.currency)
        if self.interval == self.Interval.YEAR:
            return str(_("%(amount)s a year") % {"amount": amount})
        return str(_("%(amount)s a month") % {"amount": amount})
