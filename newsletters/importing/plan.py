"""What one chunk of rows does to the lists: decided in Python, written in bulk by a store.

The rules: an import never subscribes an address again once it unsubscribed here, never
touches a suppressed or erased address, and changes nothing for a reader already where the
file would put them, so importing a file twice changes nothing the second time.
"""

from dataclasses import dataclass, field

from newsletters.importing import report
from newsletters.importing.reader import DUPLICATE, Row
from newsletters.models import (
    ConsentEvent,
    Newsletter,
    SubscriberImport,
    Subscription,
    Suppression,
)

Basis = SubscriberImport.Basis
Status = Subscription.Status


@dataclass(frozen=True, slots=True)
class ListState:
    subscription_id: int
    status: str


@dataclass(slots=True)
class Found:
    """What the database holds for one row's address."""

    subscriber_id: int | None
    db_key: str
    suppressed: str | None = None
    lists: dict[int, ListState] = field(default_factory=dict)


@dataclass
class Plan:
    confirmed: bool
    new_subscribers: list[Row] = field(default_factory=list)
    new_subscriptions: list[tuple[Row, int]] = field(default_factory=list)
    activate: list[int] = field(default_factory=list)
    events: list[tuple[Row, int]] = field(default_factory=list)
    invitations: list[Row] = field(default_factory=list)
    outcomes: list[report.Outcome] = field(default_factory=list)

    @property
    def new_status(self) -> str:
        return Status.ACTIVE if self.confirmed else Status.PENDING


class Planner:
    """Decide chunk after chunk for one run; holds what stays the same across chunks."""

    def __init__(self, run: SubscriberImport, newsletters: list[Newsletter]) -> None:
        self.run = run
        self.confirmed = run.consent_basis == Basis.CONFIRMED_ELSEWHERE
        self.newsletters = newsletters
        self.names = {n.pk: n.name for n in newsletters}
        self.wording = report.Wording()
        self.suppression_reasons = dict(Suppression.Reason.choices)
        self.action = str(
            ConsentEvent.Action.IMPORTED if self.confirmed else ConsentEvent.Action.REQUESTED
        )
        self.wording_version = f"import-{run.pk}"
        self.detail_prefix = f"import {run.pk}: {run.original_name} ({run.format}), row "
        self.all_ids = [n.pk for n in newsletters]
        self.new_reader_detail = self.wording.say(
            "subscribed" if self.confirmed else "asked", lists=self._names(self.all_ids)
        )

    def needs_lookup(self, row: Row) -> report.Outcome | None:
        """Rows the file itself rules out, before asking the database anything."""
        if row.source.opted_out:
            return self._skip(row, row.source.opted_out)
        if self.confirmed and not row.source.has_proof:
            return self._skip(row, report.NO_PROOF)
        return None

    def decide(self, rows: list[Row], found: list[Found]) -> Plan:
        plan = Plan(confirmed=self.confirmed)
        keys_in_chunk: set[str] = set()
        for row, there in zip(rows, found, strict=True):
            if there.db_key in keys_in_chunk:
                # Equal to an earlier row only once lower-cased by the database.
                plan.outcomes.append(self._skip(row, DUPLICATE))
                continue
            keys_in_chunk.add(there.db_key)
            if there.suppressed:
                reason = str(self.suppression_reasons.get(there.suppressed, there.suppressed))
                plan.outcomes.append(self._skip(row, report.SUPPRESSED, reason=reason))
            elif there.subscriber_id is None:
                self._add_new_reader(plan, row)
            else:
                plan.outcomes.append(self._decide_row(plan, row, there))
        return plan

    def _add_new_reader(self, plan: Plan, row: Row) -> None:
        """The common case in a first import, kept short: a new address joins every list."""
        plan.new_subscribers.append(row)
        pairs = [(row, pk) for pk in self.all_ids]
        plan.new_subscriptions += pairs
        plan.events += pairs
        if not self.confirmed:
            plan.invitations.append(row)
        plan.outcomes.append(
            report.Outcome(row.number, row.email, report.ADDED, self.new_reader_detail)
        )

    def _decide_row(self, plan: Plan, row: Row, there: Found) -> report.Outcome:
        changed: list[int] = []
        left: list[int] = []
        waiting = False
        for newsletter in self.newsletters:
            state = there.lists.get(newsletter.pk)
            if state is None:
                plan.new_subscriptions.append((row, newsletter.pk))
                changed.append(newsletter.pk)
            elif state.status == Status.UNSUBSCRIBED:
                left.append(newsletter.pk)
            elif state.status == Status.PENDING and self.confirmed:
                plan.activate.append(state.subscription_id)
                changed.append(newsletter.pk)
            elif state.status == Status.PENDING:
                waiting = True
        if not changed:
            if left:
                return self._skip(row, report.UNSUBSCRIBED_HERE, lists=self._names(left))
            return self._skip(row, report.ALREADY_PENDING if waiting else report.ALREADY)
        row.subscriber_id = there.subscriber_id
        plan.events.extend((row, pk) for pk in changed)
        if not self.confirmed:
            plan.invitations.append(row)
        detail = self.wording.say(
            "subscribed" if self.confirmed else "asked", lists=self._names(changed)
        )
        if left:
            detail += " " + self.wording.say("also_unsubscribed", lists=self._names(left))
        return report.Outcome(row.number, row.email, report.UPDATED, detail)

    def _skip(self, row: Row, code: str, **params: str) -> report.Outcome:
        return report.Outcome(
            row.number, row.email, report.SKIPPED, self.wording.say(code, **params)
        )

    def _names(self, pks: list[int]) -> str:
        return ", ".join(self.names[pk] for pk in pks)

    def event_detail(self, row: Row) -> str:
        """The ledger's record of where the row came from and the proof the export carried."""
        detail = f"{self.detail_prefix}{row.number}"
        source = row.source
        if source.opted_in_at is not None:
            detail += f"; opted in {source.opted_in_at.isoformat(' ')}"
            if source.opted_in_ip:
                detail += f" from {source.opted_in_ip}"
        if source.confirmed_at is not None:
            detail += f"; confirmed {source.confirmed_at.isoformat(' ')}"
            if source.confirmed_ip:
                detail += f" from {source.confirmed_ip}"
        return detail[:500]
