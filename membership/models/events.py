from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StripeEvent(models.Model):
    """A webhook event from Stripe, stored once by its id with what became of it."""

    class Status(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (type not handled)")
        FAILED = "failed", _("Failed")

    stripe_id = models.CharField(_("Stripe event"), max_length=100, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(
        max_length=100, blank=True, db_index=True, help_text=_("The id of the object it is about.")
    )
    created_at = models.DateTimeField(help_text=_("When Stripe created the event."))
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices)
    outcome = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="stripe_event_failed",
                condition=models.Q(status="failed"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"
