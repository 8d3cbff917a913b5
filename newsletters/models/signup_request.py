from datetime import datetime, timedelta
from functools import cache

import psycopg
from django.db import OperationalError, connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb


class SignupRequestQuerySet(models.QuerySet["SignupRequest"]):
    def unprocessed(self) -> "SignupRequestQuerySet":
        return self.filter(processed_at__isnull=True)

    def record(self, **values: object) -> int:
        """Insert a new request, the one write of every signup, and return its id.

        On PostgreSQL this is a prepared INSERT ... RETURNING id on the request's connection,
        without a model instance, the per-save work of Model.save (signals, pre_save hooks,
        the generic compiler, each field's conversion) or the client-side quoting of Django's
        cursors: together they cost two to three times the INSERT's own CPU, on the path that
        has to stay close to a bare INSERT. (Prepared statements live per connection; a
        pooler in transaction mode would need them off.)
        """
        values.setdefault("created_at", timezone.now())
        if connection.vendor != "postgresql":
            return int(self.create(**values).pk)
        if unknown := values.keys() - _column_names():
            raise TypeError(f"SignupRequest has no fields {sorted(unknown)}")
        return _insert([_parameter(field, values) for field in _insert_fields()])

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


def _insert(values: list[object]) -> int:
    """Run the INSERT, on a fresh connection once more if the kept one turns out dead.

    This stands in for Django's health check, a SELECT 1 round trip before the first query of
    every request, which on a busy two-core machine cost the signup as much as its INSERT: a
    dead connection shows up as an error here instead. Outside a transaction nothing was
    written, so trying again cannot write twice.
    """
    kept = connection.connection is not None
    try:
        return _execute_insert(values)
    except OperationalError:
        if not kept or connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
    return _execute_insert(values)


def _execute_insert(values: list[object]) -> int:
    connection.health_check_done = True  # type: ignore[attr-defined]
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_insert_sql(), values, prepare=True)
        return int(cursor.fetchone()[0])  # type: ignore[index]


def _parameter(field: models.Field[object, object], values: dict[str, object]) -> object:
    """A column's value as psycopg sends it: JSON wrapped, the rest as they are (the server
    casts text to the column's type); a column not given takes the field's default."""
    value = values[field.attname] if field.attname in values else field.get_default()
    return Jsonb(value) if isinstance(field, models.JSONField) else value


@cache
def _insert_fields() -> list[models.Field[object, object]]:
    return [f for f in SignupRequest._meta.concrete_fields if not f.primary_key]


@cache
def _column_names() -> frozenset[str]:
    return frozenset(f.attname for f in _insert_fields())


@cache
def _insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _insert_fields())
    placeholders = ", ".join(["%s"] * len(_insert_fields()))
    table = quote(SignupRequest._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
