from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletters.models.newsletter import Newsletter
from newsletters.models.subscriber import Subscriber


class EditionQuerySet(models.QuerySet["Edition"]):
    def due(self, now: datetime) -> "EditionQuerySet":
        """Scheduled editions whose time has come."""
        return self.filter(status=Edition.Status.SCHEDULED, send_at__lte=now)

    def stalled(self, quiet_since: datetime) -> "EditionQuerySet":
        """Editions sending with no batch finished since the given time (their worker died)."""
        return self.filter(status=Edition.Status.SENDING).filter(
            models.Q(heartbeat_at__lt=quiet_since) | models.Q(heartbeat_at__isnull=True)
        )

    def archived(self, newsletter: Newsletter) -> "EditionQuerySet":
        """Sent editions of a list that staff chose to show in its public archive."""
        return self.filter(
            newsletter=newsletter, status=Edition.Status.SENT, in_archive=True
        ).order_by("-started_at")


class Edition(models.Model):
    """One issue of a newsletter, written by staff and sent to the list's readers."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    newsletter = models.ForeignKey(Newsletter, on_delete=models.PROTECT, related_name="editions")
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The line mail apps show after the subject."),
    )
    html_body = models.TextField(_("HTML body"))
    text_body = models.TextField(
        _("text body"), blank=True, help_text=_("Left empty, it is made from the HTML body.")
    )
    in_archive = models.BooleanField(
        _("show in the public archive"),
        default=True,
        help_text=_("Once sent, readers can find it on the list's archive page."),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    send_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # When the next batch may go under EDITION_SEND_RATE; shared by every worker on the send.
    next_slot_at = models.DateTimeField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Counts kept as the send and the ESP's events go, so they outlive erased readers.
    recipients = models.PositiveIntegerField(default=0, editable=False)
    sent = models.PositiveIntegerField(default=0, editable=False)
    skipped = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("Suppressed or left the list after the send began.")
    )
    failed = models.PositiveIntegerField(default=0, editable=False)
    delivered = models.PositiveIntegerField(default=0, editable=False)
    opened = models.PositiveIntegerField(default=0, editable=False)
    clicked = models.PositiveIntegerField(default=0, editable=False)
    bounced = models.PositiveIntegerField(default=0, editable=False)
    complained = models.PositiveIntegerField(default=0, editable=False)
    unsubscribed = models.PositiveIntegerField(default=0, editable=False)

    objects = EditionQuerySet.as_manager()

    class Meta:
        verbose_name = _("edition")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["send_at"],
                name="edition_scheduled",
                condition=models.Q(status="scheduled"),
            )
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SCHEDULED}

    @property
    def in_public_archive(self) -> bool:
        """Shown on the list's archive page once sent: only lists any reader may join have one."""
        newsletter = self.newsletter
        return (
            self.in_archive
            and newsletter.is_public
            and newsletter.audience == Newsletter.Audience.EVERYONE
        )

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.failed

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SENT:
            return 100
        if not self.recipients:
            return 0
        return min(100, self.handled * 100 // self.recipients)


class RecipientQuerySet(models.QuerySet["EditionRecipient"]):
    def waiting(self, edition_id: int) -> "RecipientQuerySet":
        return self.filter(edition_id=edition_id, status=EditionRecipient.Status.PENDING)


class EditionRecipient(models.Model):
    """One reader an edition goes to: the unit of at-least-once delivery.

    Rows are written in one INSERT ... SELECT when the send starts (the list as it is then)
    and claimed in batches with SELECT ... FOR UPDATE SKIP LOCKED. The row lock is the claim:
    a worker that dies mid-batch drops its connection, PostgreSQL releases the rows, and any
    other worker sends them. The ESP's events are matched back to the row by metadata.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent: suppressed or left")
        FAILED = "failed", _("Refused by the email provider")

    # Both foreign keys are served by the indexes below, which lead with them.
    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    email = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("edition recipient")
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "edition"], name="edition_recipient_once"
            ),
        ]
        indexes = [
            # Workers walk an edition's rows in id order. No index names the status, so
            # marking a row sent is a HOT update (the table keeps room for it: fillfactor 50,
            # set in the migration), which touches no index at a million rows a send.
            models.Index(fields=["edition", "id"], name="edition_recipient_order"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"
