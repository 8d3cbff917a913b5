import math
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership.models.members import Membership


class Drive(models.Model):
    """A membership drive: a goal in new members between a start and an end."""

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120, help_text=_("e.g. Our birthday drive"))
    goal = models.PositiveIntegerField(help_text=_("New members wanted."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    counts_paid = models.BooleanField(_("count paid memberships"), default=True)
    counts_gift = models.BooleanField(_("count gift memberships"), default=True)
    counts_complimentary = models.BooleanField(_("count complimentary memberships"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A drive ends after it starts.")})
        if not (self.counts_paid or self.counts_gift or self.counts_complimentary):
            raise ValidationError(_("Choose at least one kind of membership to count."))

    @property
    def sources(self) -> list[str]:
        chosen = [
            (self.counts_paid, Membership.Source.PAID),
            (self.counts_gift, Membership.Source.GIFT),
            (self.counts_complimentary, Membership.Source.COMPLIMENTARY),
        ]
        return [str(source) for counted, source in chosen if counted]

    def count_new_members(self) -> int:
        """Members whose membership of a counted kind started in the window (exact)."""
        return (
            Membership.objects.started_between(self.starts_at, self.ends_at, self.sources)
            .values("member")
            .distinct()
            .count()
        )

    def days_left(self, now: datetime) -> int:
        """Whole days until the end, counting a part day as one; 0 once it has ended."""
        if now >= self.ends_at:
            return 0
        return math.ceil((self.ends_at - now).total_seconds() / 86_400)


class SupporterCount(models.Model):
    """What the public supporter count counts, as staff choose: one row."""

    counts_paid = models.BooleanField(_("count paid memberships"), default=True)
    counts_gift = models.BooleanField(_("count gift memberships"), default=True)
    counts_complimentary = models.BooleanField(_("count complimentary memberships"), default=True)

    class Meta:
        verbose_name = _("supporter count")

    def __str__(self) -> str:
        return str(_("What the supporter count counts"))

    def clean(self) -> None:
        if not (self.counts_paid or self.counts_gift or self.counts_complimentary):
            raise ValidationError(_("Choose at least one kind of membership to count."))

    @classmethod
    def current(cls) -> "SupporterCount":
        """The one row; every kind counts until staff say otherwise."""
        return cls.objects.order_by("pk").first() or cls()

    @property
    def sources(self) -> list[str]:
        chosen = [
            (self.counts_paid, Membership.Source.PAID),
            (self.counts_gift, Membership.Source.GIFT),
            (self.counts_complimentary, Membership.Source.COMPLIMENTARY),
        ]
        return [str(source) for counted, source in chosen if counted]
