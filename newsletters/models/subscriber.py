from datetime import datetime

from django.contrib.postgres.indexes import OpClass
from django.db import connection, models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletters.models.indexes import PortableBrinIndex, PortableUniqueConstraint
from newsletters.models.newsletter import Newsletter


class Source(models.TextChoices):
    """Where a reader or a change came from."""

    FORM = "form", _("Signup page")
    EMBED = "embed", _("Embedded form")
    API = "api", _("JSON API")
    EMAIL_LINK = "email_link", _("Link in an email")
    IMPORT = "import", _("Import")
    STAFF = "staff", _("Staff")
    ESP = "esp", _("Email provider")
    SYSTEM = "system", _("Automatic")


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def for_email(self, email: str) -> "SubscriberQuerySet":
        """Match an address case-insensitively, through the unique index on lower(email)."""
        return self.alias(email_ci=Lower("email")).filter(email_ci=email.lower())

    def matching(self, term: str) -> "SubscriberQuerySet":
        """Staff search: a whole address, or the start of one, case-insensitively.

        Both forms are answered by the unique index on lower(email), whose text_pattern_ops
        operator class serves equality and LIKE 'prefix%' alike.
        """
        term = term.strip().lower()
        if "@" in term and "." in term.rpartition("@")[2]:
            return self.alias(email_ci=Lower("email")).filter(email_ci=term)
        return self.alias(email_ci=Lower("email")).filter(email_ci__startswith=term)

    def claim_for_email(self, email: str, source: str = "") -> tuple["Subscriber", bool]:
        """The subscriber for a normalised address, locked for update, and whether it is new.

        INSERT ... ON CONFLICT DO NOTHING holds under concurrent signups for one address: the
        losers wait for the winner's commit and then lock its row. On PostgreSQL a new row
        comes back from the INSERT itself (a row this transaction inserted is already its
        own), which saves the SELECT on the busiest path. Call inside a transaction.
        """
        if connection.vendor == "postgresql":
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {Subscriber._meta.db_table}"  # noqa: S608 - our own table
                    " (email, source, created_at, updated_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    [email, source, now, now],
                )
                row = cursor.fetchone()
            if row is not None:
                fresh = Subscriber(
                    pk=row[0], email=email, source=source, created_at=now, updated_at=now
                )
                fresh._state.adding = False
                return fresh, True
        else:
            self.bulk_create([Subscriber(email=email, source=source)], ignore_conflicts=True)
        return self.select_for_update().for_email(email).get(), False

    def delivered(self, email: str, at: datetime) -> int:
        """A message reached the address: a run of soft bounces before it is broken."""
        return (
            self.for_email(email)
            .filter(soft_bounces__gt=0, soft_bounced_at__lt=at)
            .update(soft_bounces=0, soft_bounced_at=None)
        )


class Subscriber(models.Model):
    email = models.EmailField(max_length=254)
    source = models.CharField(
        max_length=20,
        choices=Source.choices,
        blank=True,
        help_text=_("How the reader first reached us."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # A database default too, so bulk COPYs (imports) that do not name it get 0.
    soft_bounces = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text=_("Soft bounces in a row, since the last delivery.")
    )
    soft_bounced_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        constraints = [
            PortableUniqueConstraint(
                OpClass(Lower("email"), name="text_pattern_ops"), name="subscriber_email_ci_unique"
            ),
        ]
        indexes = [
            # Rows arrive in created_at order, so a BRIN index serves the date filter for
            # almost nothing; a b-tree here cost bulk imports more than any other index.
            PortableBrinIndex(fields=["created_at"], name="subscriber_created_brin"),
            # Imports are the common source and are found by walking the primary key; leaving
            # them out keeps this index off the bulk import's path.
            models.Index(
                fields=["source", "id"],
                name="subscriber_source",
                condition=~models.Q(source="import"),
            ),
        ]
        permissions = [("export_subscribers", _("Can export subscribers as CSV"))]

    def __str__(self) -> str:
        return self.email

    def count_soft_bounce(self, at: datetime) -> int:
        """Add a soft bounce to the run and return its length; call with the row locked.

        An event no newer than the last one counted is a repeat (ESPs retry webhooks) or
        arrived out of order, and is not counted again.
        """
        if self.soft_bounced_at is None or at > self.soft_bounced_at:
            self.soft_bounces += 1
            self.soft_bounced_at = at
            self.save(update_fields=["soft_bounces", "soft_bounced_at", "updated_at"])
        return self.soft_bounces

    def end_soft_bounce_run(self) -> None:
        self.soft_bounces = 0
        self.save(update_fields=["soft_bounces", "updated_at"])


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def current(self) -> "SubscriptionQuerySet":
        """Lists a reader is on or has asked to join, including a list left and asked for again.

        Asking again after leaving keeps the row unsubscribed until the reader confirms, so
        nothing is sent on the strength of the request alone.
        """
        return self.filter(
            models.Q(status__in=[Subscription.Status.ACTIVE, Subscription.Status.PENDING])
            | models.Q(
                status=Subscription.Status.UNSUBSCRIBED,
                requested_at__gt=models.F("unsubscribed_at"),
            )
        )

    def never_confirmed(self, before: datetime) -> "SubscriptionQuerySet":
        """Signups still pending that the reader last asked for before the given time."""
        return self.filter(status=Subscription.Status.PENDING, requested_at__lt=before)


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        ACTIVE = "active", _("Active")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    # Both foreign keys are served by the indexes below; their own would only slow imports.
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.PROTECT, related_name="subscriptions", db_index=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    requested_at = models.DateTimeField(
        default=timezone.now, help_text=_("When the reader last asked for this list.")
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "newsletter"], name="subscription_once_per_list"
            ),
        ]
        indexes = [
            # A list and status filter, read in subscriber order: the admin's filtered view
            # walks this index backwards and stops after one page.
            models.Index(
                fields=["newsletter", "status", "subscriber"], name="subscription_list_status"
            ),
            # The purge looks for old pending rows only; a partial index keeps that cheap.
            models.Index(
                fields=["requested_at"],
                name="subscription_pending_requested",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} on {self.newsletter}: {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def awaiting_confirmation(self) -> bool:
        """Pending, or left and asked for again: either way the reader has yet to confirm."""
        if self.status == self.Status.PENDING:
            return True
        return bool(
            self.status == self.Status.UNSUBSCRIBED
            and self.unsubscribed_at
            and self.requested_at > self.unsubscribed_at
        )
