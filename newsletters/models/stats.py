"""Aggregates the admin reads instead of counting millions of rows on every page."""

from datetime import date, datetime, time, timedelta

from django.db import models, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletters.models.consent import ConsentEvent
from newsletters.models.newsletter import Newsletter
from newsletters.models.subscriber import Subscription

# A reader joins a list when they confirm, or when an import brings them in already confirmed.
# Confirmations recorded by an import describe consent given elsewhere, not a join here.
JOINED = models.Q(action=ConsentEvent.Action.IMPORTED) | (
    models.Q(action=ConsentEvent.Action.CONFIRMED) & ~models.Q(source=ConsentEvent.Source.IMPORT)
)
LEFT = models.Q(action=ConsentEvent.Action.UNSUBSCRIBED)


class ListStatsQuerySet(models.QuerySet["ListStats"]):
    def refresh(self) -> None:
        """Count every list's subscriptions by status, in one pass over their index."""
        now = timezone.now()
        counts: dict[int, dict[str, int]] = {
            pk: {} for pk in Newsletter.objects.values_list("pk", flat=True)
        }
        for row in Subscription.objects.values("newsletter_id", "status").annotate(
            n=models.Count("*")
        ):
            counts.setdefault(row["newsletter_id"], {})[row["status"]] = row["n"]
        self.bulk_create(
            [
                ListStats(
                    newsletter_id=pk,
                    active=by_status.get(Subscription.Status.ACTIVE, 0),
                    pending=by_status.get(Subscription.Status.PENDING, 0),
                    unsubscribed=by_status.get(Subscription.Status.UNSUBSCRIBED, 0),
                    counted_at=now,
                )
                for pk, by_status in counts.items()
            ],
            update_conflicts=True,
            unique_fields=["newsletter"],
            update_fields=["active", "pending", "unsubscribed", "counted_at"],
        )


class ListStats(models.Model):
    """A list's subscriber counts as of counted_at, refreshed by a periodic task."""

    newsletter = models.OneToOneField(
        Newsletter, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    active = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    counted_at = models.DateTimeField()

    objects = ListStatsQuerySet.as_manager()

    class Meta:
        verbose_name = _("list counts")
        verbose_name_plural = _("list counts")

    def __str__(self) -> str:
        return f"{self.newsletter_id}: {self.active} active"


class GrowthDayQuerySet(models.QuerySet["GrowthDay"]):
    def refresh(self, since: date | None = None) -> int:
        """Recount the days from `since` (all of them when None) from the consent ledger.

        The ledger's BRIN index on `at` limits the scan to the window, so the periodic
        refresh of the last two days stays cheap however long the ledger grows.
        """
        events = ConsentEvent.objects.filter(newsletter__isnull=False).filter(JOINED | LEFT)
        if since is not None:
            start = timezone.make_aware(datetime.combine(since, time.min))
            events = events.filter(at__gte=start)
        rows = (
            events.annotate(day=TruncDate("at"))
            .values("newsletter_id", "day")
            .annotate(
                joined=models.Count("id", filter=JOINED), left=models.Count("id", filter=LEFT)
            )
        )
        days = [
            GrowthDay(
                newsletter_id=row["newsletter_id"],
                day=row["day"],
                subscribed=row["joined"],
                unsubscribed=row["left"],
            )
            for row in rows
        ]
        with transaction.atomic():
            stale = self.all() if since is None else self.filter(day__gte=since)
            stale.delete()
            self.bulk_create(days, batch_size=1000)
        return len(days)

    def refresh_recent(self) -> int:
        """Recount today and yesterday; on a first run, build the whole history."""
        if not self.exists():
            return self.refresh()
        return self.refresh(timezone.localdate() - timedelta(days=1))


class GrowthDay(models.Model):
    """How many readers joined and left one list on one day."""

    # Served by the unique (newsletter, day) index.
    newsletter = models.ForeignKey(
        Newsletter, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    subscribed = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)

    objects = GrowthDayQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["newsletter", "day"], name="growth_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.newsletter_id} {self.day}: +{self.subscribed} -{self.unsubscribed}"

    @property
    def net(self) -> int:
        return self.subscribed - self.unsubscribed
