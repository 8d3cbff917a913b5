from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership.models.plans import Plan


class MemberQuerySet(models.QuerySet["Member"]):
    def for_email(self, email: str) -> "MemberQuerySet":
        """Match an address case-insensitively, through the unique index on lower(email)."""
        return self.alias(email_ci=Lower("email")).filter(email_ci=email.lower())

    def get_or_create_for_email(self, email: str) -> "Member":
        """Return the member for a normalised address, creating it if new; safe under races."""
        self.bulk_create([Member(email=email)], ignore_conflicts=True)
        return self.for_email(email).get()


class Member(models.Model):
    """A reader who joined, or was given a membership; known by email, never by password."""

    email = models.EmailField(max_length=254)
    stripe_customer_id = models.CharField(
        _("Stripe customer"), max_length=100, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MemberQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="member_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def has_access(self, now: datetime | None = None) -> bool:
        return self.memberships.giving_access(now).exists()

    def paying_membership(self) -> "Membership | None":
        """The running paid membership with a Stripe subscription, if any."""
        return (
            self.memberships.filter(
                source=Membership.Source.PAID,
                status__in=Membership.RUNNING,
                stripe_subscription_id__isnull=False,
            )
            .order_by("-started_at", "-pk")
            .first()
        )

    def gift_ends_at(self, now: datetime | None = None) -> datetime | None:
        """When the member's running gift memberships end; None without one."""
        ends = (
            self.memberships.giving_access(now)
            .filter(source=Membership.Source.GIFT, current_period_end__isnull=False)
            .values_list("current_period_end", flat=True)
        )
        return max((end for end in ends if end is not None), default=None)

    def current_membership(self, now: datetime | None = None) -> "Membership | None":
        """The membership to show: one that gives access now, else the latest."""
        now = now or timezone.now()
        memberships = list(self.memberships.select_related("plan").order_by("-started_at", "-pk"))
        for membership in memberships:
            if membership.gives_access(now):
                return membership
        return memberships[0] if memberships else None


class MembershipQuerySet(models.QuerySet["Membership"]):
    def giving_access(self, now: datetime | None = None) -> "MembershipQuerySet":
        """Memberships that let their member read members-only lists now (see gives_access)."""
        now = now or timezone.now()
        running = Q(status__in=Membership.RUNNING) & (
            Q(source=Membership.Source.PAID)
            | Q(current_period_end__isnull=True)
            | Q(current_period_end__gt=now)
        )
        default_grace = timedelta(days=settings.MEMBERSHIP_GRACE_DAYS)
        in_grace = Q(plan__isnull=True, past_due_since__gt=now - default_grace)
        for days in Plan.objects.values_list("grace_days", flat=True).distinct():
            in_grace |= Q(plan__grace_days=days, past_due_since__gt=now - timedelta(days=days))
        return self.filter(running | (Q(status=Membership.Status.PAST_DUE) & in_grace))

    def gifts_ending_between(self, start: datetime, end: datetime) -> "MembershipQuerySet":
        """Running gift memberships whose end falls in a window."""
        return self.filter(
            source=Membership.Source.GIFT,
            status__in=Membership.RUNNING,
            current_period_end__gt=start,
            current_period_end__lte=end,
        )

    def started_between(
        self, start: datetime, end: datetime, sources: list[str]
    ) -> "MembershipQuerySet":
        """New memberships in a window, leaving out checkouts that were never paid."""
        return self.filter(started_at__gte=start, started_at__lt=end, source__in=sources).exclude(
            status__in=[Membership.Status.INCOMPLETE, Membership.Status.INCOMPLETE_EXPIRED]
        )


class Membership(models.Model):
    """One membership of a member: paid (mirroring a Stripe subscription), a gift, or given."""

    class Source(models.TextChoices):
        PAID = "paid", _("Paid")
        GIFT = "gift", _("Gift")
        COMPLIMENTARY = "complimentary", _("Complimentary")

    class Status(models.TextChoices):
        # Stripe's subscription statuses; gifts and complimentary ones use active and canceled.
        INCOMPLETE = "incomplete", _("Waiting for the first payment")
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        UNPAID = "unpaid", _("Unpaid")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Ended")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("Never paid")

    RUNNING = (Status.ACTIVE, Status.TRIALING)
    # Stripe never brings these back: a later event cannot revive them.
    FINAL = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    source = models.CharField(max_length=15, choices=Source.choices, default=Source.PAID)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    stripe_subscription_id = models.CharField(
        _("Stripe subscription"), max_length=100, unique=True, null=True, blank=True
    )
    checkout_session_id = models.CharField(max_length=100, blank=True, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    current_period_end = models.DateTimeField(
        _("ends or renews"),
        null=True,
        blank=True,
        help_text=_("Paid: the next renewal. Others: when it ends; empty for no end."),
    )
    cancel_at_period_end = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    last_paid_at = models.DateTimeField(null=True, blank=True)
    failed_invoice_id = models.CharField(max_length=100, blank=True)
    stripe_event_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When Stripe created the event that set this state.")
    )
    welcomed_at = models.DateTimeField(null=True, blank=True)
    gift_trial_end = models.DateTimeField(
        _("next payment pushed to"),
        null=True,
        blank=True,
        help_text=_("Paid: the trial end that redeemed gifts ask Stripe for."),
    )
    gift_trial_end_sent_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When Stripe accepted that trial end.")
    )
    ending_reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Gifts: when the member was invited to continue.")
    )
    note = models.TextField(blank=True, help_text=_("Staff only: why it was given, by whom."))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["status", "source"], name="membership_status_source"),
            models.Index(fields=["started_at"], name="membership_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} membership of {self.member_id}: {self.status}"

    def grace(self) -> timedelta:
        days = self.plan.grace_days if self.plan else settings.MEMBERSHIP_GRACE_DAYS
        return timedelta(days=days)

    def gives_access(self, now: datetime | None = None) -> bool:
        """Running (and, unless paid, not past its end), or past due within the grace period."""
        now = now or timezone.now()
        if self.status in self.RUNNING:
            return (
                self.source == self.Source.PAID
                or self.current_period_end is None
                or self.current_period_end > now
            )
        if self.status == self.Status.PAST_DUE and self.past_due_since:
            return self.past_due_since > now - self.grace()
        return False

    @property
    def renews_at(self) -> datetime | None:
        if self.source == self.Source.PAID and self.status in self.RUNNING:
            return None if self.cancel_at_period_end else self.next_payment_at()
        return None

    @property
    def ends_at(self) -> datetime | None:
        if self.status in self.FINAL:
            return self.ended_at
        if self.source != self.Source.PAID or self.cancel_at_period_end:
            return self.current_period_end
        return None

    def accepts(self, event_at: datetime, status: str) -> bool:
        """Whether Stripe state from an event created at event_at may replace this row's.

        Events arrive out of order. A final status is never revived; an older event never
        overwrites a newer one; within the same second the further-along status wins, and so
        does a paid checkout over a subscription event that still says incomplete.
        """
        if self.status in self.FINAL and status not in self.FINAL:
            return False
        if self.stripe_event_at is not None and event_at != self.stripe_event_at:
            return event_at > self.stripe_event_at
        # Same second, or state our checkout set before any subscription event: never go back.
        return _progress(status) >= _progress(self.status)

    def end(self, now: datetime) -> bool:
        """End a gift or complimentary membership now; False for paid or already ended ones."""
        if self.source == self.Source.PAID or self.status in self.FINAL:
            return False
        self.status = self.Status.CANCELED
        self.ended_at = self.current_period_end = now
        self.save(update_fields=["status", "ended_at", "current_period_end", "updated_at"])
        return True

    def next_payment_at(self) -> datetime | None:
        """Paid: when Stripe bills next, counting gift time we have asked it for."""
        dates = [d for d in (self.current_period_end, self.gift_trial_end) if d]
        return max(dates) if dates else None

    def push_next_payment(self, to: datetime) -> None:
        """Ask Stripe (by a task) to bill next at this time; gifts move it."""
        self.gift_trial_end = to
        self.gift_trial_end_sent_at = None

    def mark_past_due(self, since: datetime) -> None:
        if self.past_due_since is None:
            self.past_due_since = since


def _progress(status: str) -> int:
    if status == Membership.Status.INCOMPLETE:
        return 0
    if status in Membership.FINAL:
        return 2
    return 1
