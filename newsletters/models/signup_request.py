from datetime import datetime, timedelta

from django.db import connection, models
from django.utils import timezone


class SignupRequestQuerySet(models.QuerySet["SignupRequest"]):
    def unprocessed(self) -> "SignupRequestQuerySet":
        return self.filter(processed_at__isnull=True)

    def record(self, request: "SignupRequest") -> "SignupRequest":
        """Insert a new request: the one write of every signup, so on PostgreSQL a plain
        INSERT ... RETURNING id, without the per-save work of Model.save (signals, field
        pre_save hooks, the generic compiler), which cost as much CPU as the INSERT itself."""
        if connection.vendor != "postgresql":
            request.save(force_insert=True)
            return request
        fields = [f for f in SignupRequest._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        values = [f.get_db_prep_save(getattr(request, f.attname), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(SignupRequest._meta.db_table)}"  # noqa: S608
                f" ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",
                values,
            )
            request.pk = cursor.fetchone()[0]
        request._state.adding = False
        return request

    def due(self, now: datetime, grace: timedelta) -> "SignupRequestQuerySet":
        """Requests still waiting after the grace their on-commit queueing had."""
        return self.unprocessed().filter(created_at__lte=now - grace)


class SignupRequest(models.Model):
    """A reader's signup exactly as submitted, committed before anything else happens.

    The request itself does one INSERT; a worker turns the row into subscriptions, ledger lines
    and the confirmation email. If the broker is down the row waits for the sweep, so no signup
    is lost and the reader's answer never waits on the queue.
    """

    email = models.CharField(max_length=254)
    newsletter_ids = models.JSONField()
    source = models.CharField(max_length=20)
    source_detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    wording = models.TextField(blank=True)
    wording_version = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = SignupRequestQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="signup_request_waiting",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"signup {self.pk} ({'done' if self.processed_at else 'waiting'})"
