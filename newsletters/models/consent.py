from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletters.models.indexes import PortableBrinIndex
from newsletters.models.newsletter import Newsletter
from newsletters.models.subscriber import Source, Subscriber


class ConsentEvent(models.Model):
    """One line of the append-only consent ledger: proof of consent (GDPR Art. 7(1))."""

    class Action(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        SUPPRESSED = "suppressed", _("Suppressed")
        IMPORTED = "imported", _("Imported")
        STAFF_CHANGED = "staff_changed", _("Changed by staff")
        PURGED = "purged", _("Purged unconfirmed")

    Source = Source

    # Served by the (subscriber, at) index; a second index would only slow imports.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="consent_events", db_index=False
    )
    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, choices=Source.choices)
    source_detail = models.CharField(
        max_length=500, blank=True, help_text=_("Page address, import file or staff user.")
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    wording = models.TextField(blank=True, help_text=_("What the reader agreed to, as shown."))
    wording_version = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["subscriber", "at"], name="consent_subscriber_at"),
            # The ledger is appended in time order: BRIN serves the growth chart's day windows.
            PortableBrinIndex(fields=["at"], name="consent_at_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("The consent ledger is append-only: add an event instead.")
        super().save(*args, **kwargs)
