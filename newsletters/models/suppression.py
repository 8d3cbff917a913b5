import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Computed in SQL too, by imports and by the edition snapshot (newsletters.editions): sha256
# of this prefix and the lower-cased address. Keep them in step.
HASH_PREFIX = "newsroom-suppression:"


def address_hash(email: str) -> str:
    """A stable digest of an address, compared case-insensitively; kept after erasure."""
    return hashlib.sha256(f"{HASH_PREFIX}{email.strip().lower()}".encode()).hexdigest()


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def for_email(self, email: str) -> "SuppressionQuerySet":
        return self.filter(address_hash=address_hash(email))


class Suppression(models.Model):
    """An address the service must not mail list email to until it confirms afresh.

    Keyed by a hash, so it outlives the erasure of everything else about the reader.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Hard bounce")
        SOFT_BOUNCES = "soft_bounces", _("Repeated soft bounces")
        COMPLAINED = "complained", _("Spam complaint")
        ERASED = "erased", _("Erased on request")
        STAFF = "staff", _("Suppressed by staff")

    address_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuppressionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.created_at:%Y-%m-%d}"
