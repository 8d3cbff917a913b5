from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEmailQuerySet(models.QuerySet["OutboundEmail"]):
    def due(self, now: datetime, stale_after: timedelta) -> "OutboundEmailQuerySet":
        """Rows a sweep should queue again: waiting and due, or claimed by a worker long gone."""
        waiting = models.Q(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now)
        abandoned = models.Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - stale_after)
        return self.filter(waiting | abandoned)

    def claimable(self, now: datetime, stale_after: timedelta) -> "OutboundEmailQuerySet":
        """Rows a worker may take now: waiting (whatever their due time), or abandoned."""
        abandoned = models.Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - stale_after)
        return self.filter(models.Q(status=OutboundEmail.Status.PENDING) | abandoned)

    def sent_to_since(self, to: str, kind: str, since: datetime) -> "OutboundEmailQuerySet":
        return self.filter(to=to, kind=kind, created_at__gte=since)


class OutboundEmail(models.Model):
    """One email the service owes someone, written in the same transaction as its cause.

    Workers claim a row, hand it to the email backend and mark it sent; a periodic sweep queues
    rows that were never picked up (the broker was down) or whose worker died mid-send.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    key = models.CharField(
        max_length=120, unique=True, help_text=_("One per message, for retries.")
    )
    kind = models.CharField(max_length=40, help_text=_("Which email this is, e.g. confirmation."))
    to = models.CharField(max_length=254)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    is_list_email = models.BooleanField(
        _("list email"),
        default=False,
        help_text=_("About a list the reader chose; never sent to a suppressed address."),
    )
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    esp_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbound email")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_waiting",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["to", "kind", "created_at"], name="outbox_to_kind_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
