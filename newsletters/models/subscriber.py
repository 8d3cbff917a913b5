from django.contrib.postgres.indexes import OpClass
from django.db import models
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

    def lock_for_email(self, email: str, source: str = "") -> "Subscriber":
        """Return the subscriber for a normalised address, created if new, locked for update.

        INSERT ... ON CONFLICT DO NOTHING followed by SELECT ... FOR UPDATE holds under
        concurrent signups for one address: the losers wait for the winner and then find its row.
        Call inside a transaction.
        """
        self.bulk_create([Subscriber(email=email, source=source)], ignore_conflicts=True)
        return self.select_for_update().for_email(email).get()


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
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} on {self.newsletter}: {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
