from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from newsletters.models.newsletter import Newsletter
from newsletters.models.subscriber import Subscriber


class SubscriberImportQuerySet(models.QuerySet["SubscriberImport"]):
    def claim(self, pk: int, token: str, now: datetime, lease: timedelta) -> bool:
        """Take the run for one worker until the lease ends; False if another worker holds it."""
        free = (
            models.Q(lease_until__isnull=True)
            | models.Q(lease_until__lt=now)
            | models.Q(lease_token=token)
        )
        unfinished = models.Q(
            status__in=[SubscriberImport.Status.QUEUED, SubscriberImport.Status.RUNNING]
        )
        return bool(
            self.filter(free, unfinished, pk=pk).update(lease_token=token, lease_until=now + lease)
        )

    def stalled(self, now: datetime) -> "SubscriberImportQuerySet":
        """Runs that no worker is on: never picked up (broker down) or whose worker died."""
        return self.filter(
            models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now),
            status__in=[SubscriberImport.Status.QUEUED, SubscriberImport.Status.RUNNING],
        )


class SubscriberImport(models.Model):
    """One CSV file imported into some lists, with its progress and its report."""

    class Basis(models.TextChoices):
        CONFIRMED_ELSEWHERE = "confirmed-elsewhere", _("Confirmed elsewhere")
        NEEDS_CONFIRMATION = "needs-confirmation", _("Needs confirmation")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    format = models.CharField(max_length=20, blank=True)
    header = models.JSONField(default=list, blank=True)
    newsletters = models.ManyToManyField(Newsletter, related_name="+")
    consent_basis = models.CharField(max_length=20, choices=Basis.choices)
    consent_note = models.TextField(
        max_length=500, help_text=_("How the readers in the file gave their consent.")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    bytes_done = models.PositiveBigIntegerField(default=0)
    last_row = models.PositiveIntegerField(
        default=0, help_text=_("The last row read, counting the header as row 1.")
    )
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    report = models.FileField(upload_to="imports/reports/", max_length=300, blank=True)
    report_bytes = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = SubscriberImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscriber import")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.file_size:
            return 0
        return min(99, self.bytes_done * 100 // self.file_size)

    @property
    def rows_read(self) -> int:
        return self.added + self.updated + self.skipped


class ImportInvitation(models.Model):
    """A reader an import asked to confirm, waiting for the throttled confirmation email."""

    run = models.ForeignKey(SubscriberImport, on_delete=models.CASCADE, related_name="+")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.subscriber_id} from import {self.run_id}"
