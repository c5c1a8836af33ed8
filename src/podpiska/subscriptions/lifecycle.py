"""The daily lifecycle run: reminders, autopay renewal invoices, grace, suspension.

`run_lifecycle(session, at=D)` runs every day since the last completed one, in order, up to
D. Each day is one transaction per shard of accounts and a handful of set-based statements
over the indexed (status, ends_on) of subscriptions — every event date of a subscription
(reminders, the autopay invoice, the end, the end of grace) derives from its `ends_on`, so
that index is the "next event" index. Running a day twice changes nothing (a day is
recorded when done, and every statement is guarded by the state it changes). A reminder is
sent only while it is still the latest one due by D: a run after missed days never sends a
stale 30-day notice next to a due 7-day one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.prices import QuoteBook, Renewal, renewal_quotes
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import FixedTime, check_advance, get_test_clock, move_test_clock
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.db.models import (
    AuditEntry,
    CreditEntry,
    Invoice,
    JournalEntry,
    LicenseLedgerEntry,
    LifecycleRun,
    OutboxEvent,
    Subscription,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.terms import ONE_DAY, term_from
from podpiska.core.records import SYSTEM_LIFECYCLE
from podpiska.invoicing.invoices import NewInvoice, quote_lines, write_invoices
from podpiska.ports import Clock
from podpiska.subscriptions.domain.lifecycle import Status
from podpiska.subscriptions.settlement import use_credit

MAX_CATCH_UP_DAYS = 400
BATCH = 5000  # subscriptions changed per statement: memory stays flat in N


@dataclass
class DayCounts:
    reminders: int = 0
    autopay_invoices: int = 0
    grace: int = 0
    suspended: int = 0
    cancelled: int = 0
    expired_changes: int = 0  # unpaid mid-term changes past their three days
    migration_notices: int = 0  # catalog migrations: notices before a cut-over
    version_moves: int = 0  # catalog migrations: subscriptions moved to a version on a date
    skipped: bool = False  # the day was done before

    def add(self, other: DayCounts) -> None:
        self.reminders += other.reminders
        self.autopay_invoices += other.autopay_invoices
        self.grace += other.grace
        self.suspended += other.suspended
        self.cancelled += other.cancelled
        self.expired_changes += other.expired_changes
        self.migration_notices += other.migration_notices
        self.version_moves += other.version_moves

    @property
    def changed(self) -> int:
        return self.reminders + self.autopay_invoices + self.grace + self.suspended + self.cancelled

    def as_dict(self) -> dict[str, int]:
        return {
            "reminders": self.reminders,
            "autopay_invoices": self.autopay_invoices,
            "grace": self.grace,
            "suspended": self.suspended,
            "cancelled": self.cancelled,
            "expired_changes": self.expired_changes,
            "migration_notices": self.migration_notices,
            "version_moves": self.version_moves,
        }


@dataclass
class RunReport:
    days: list[date] = field(default_factory=list)
    totals: DayCounts = field(default_factory=DayCounts)
    skipped_days: int = 0


def _plain_json(value: Any) -> Any:
    """A payload value as JSON: dates as ISO strings, amounts as strings (flat payloads)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _scope(shard: int, shards: int, clock_id: int) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Subscription.test_clock_id.is_(None)
        if clock_id == 0
        else Subscription.test_clock_id == clock_id
    ]
    if shards > 1:
        conditions.append(Subscription.account_id % shards == shard)
    return conditions


def _days_inside(session: Session) -> Callable[[Any, Any], ColumnElement[Any]]:
    """(a, b) → the number of days from date a to date b, in this database's SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return lambda a, b: func.julianday(b) - func.julianday(a)
    return lambda a, b: b - a


class _Day:
    """One day's work for one shard, inside one transaction."""

    def __init__(
        self,
        session: Session,
        *,
        day: date,
        today: date,
        shard: int,
        shards: int,
        clock_id: int,
        now: datetime,
        actor: str,
    ) -> None:
        self.session = session
        self.day = day
        self.today = today
        self.scope = _scope(shard, shards, clock_id)
        self.test = clock_id != 0  # a test clock's invoices have their own numbering
        self.now = now
        self.actor = actor
        self.counts = DayCounts()
        self.events: list[dict[str, Any]] = []
        self.ledger: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.journal: list[dict[str, Any]] = []

    def event(self, event_type: str, account_id: int, subscription_id: int, **payload: Any) -> None:
        self.events.append(
            {
                "type": event_type,
                "account_id": account_id,
                "subscription_id": subscription_id,
                "occurred_on": self.day,
                "payload": {key: _plain_json(value) for key, value in payload.items()},
                "created_at": self.now,
                "fanned_out": False,
            }
        )

    def flush(self) -> None:
        bulk_insert(self.session, OutboxEvent, self.events)
        bulk_insert(self.session, LicenseLedgerEntry, self.ledger)
        bulk_insert(self.session, AuditEntry, self.audit)
        bulk_insert(self.session, JournalEntry, self.journal)
        self.events, self.ledger, self.audit, self.journal = [], [], [], []

    def changed(
        self,
        conditions: list[ColumnElement[bool]],
        values: dict[str, Any],
        returning: list[Any],
    ) -> Iterator[Sequence[Any]]:
        """UPDATE the subscriptions that meet `conditions`, BATCH at a time, yielding the
        returned rows of each batch (the caller writes their events and then `flush`es), so
        memory stays flat however many are due. A batch ends when none is left: every
        update makes its rows stop meeting the conditions."""
        while True:
            batch = (
                select(Subscription.id)
                .where(*conditions, *self.scope)
                .order_by(Subscription.id)
                .limit(BATCH)
                .scalar_subquery()
            )
            rows = self.session.execute(
                update(Subscription)
                .where(Subscription.id.in_(batch), *conditions, *self.scope)
                .values(**values)
                .returning(*returning),
                execution_options={"synchronize_session": False},
            ).all()
            if rows:
                yield rows
            if len(rows) < BATCH:
                return

    # -- transitions -----------------------------------------------------------------------

    def end_terms(self, version: CatalogVersion) -> None:
        """Active subscriptions whose term is over: to grace, or cancelled when cancelled."""
        grace_days = version.lifecycle.grace_days
        batches = self.changed(
            [
                Subscription.catalog_version == version.version,
                Subscription.status == Status.ACTIVE.value,
                Subscription.ends_on <= self.day,
            ],
            {
                "status": case(
                    (Subscription.cancel_at_period_end, Status.CANCELLED.value),
                    else_=Status.GRACE.value,
                ),
                "autopay": case(
                    (Subscription.cancel_at_period_end, False), else_=Subscription.autopay
                ),
                "updated_at": self.now,
            },
            [
                Subscription.id,
                Subscription.account_id,
                Subscription.status,
                Subscription.plan,
                Subscription.seats,
                Subscription.starts_on,
                Subscription.ends_on,
            ],
        )
        for rows in batches:
            self._ended(rows, version, grace_days)
            self.flush()

    def _ended(self, rows: Sequence[Any], version: CatalogVersion, grace_days: int) -> None:
        for sub_id, account_id, status, plan, seats, starts_on, ends_on in rows:
            assert ends_on is not None  # an active subscription has a term
            if status == Status.CANCELLED.value:
                self.counts.cancelled += 1
                self.event(
                    "subscription.cancelled",
                    account_id,
                    sub_id,
                    reason="cancelled at the end of the term",
                    ends_on=ends_on,
                )
                event, before = "cancelled", Status.ACTIVE.value
            else:
                self.counts.grace += 1
                grace_until = ends_on + timedelta(days=grace_days) - ONE_DAY
                self.event(
                    "subscription.grace_started",
                    account_id,
                    sub_id,
                    grace_until=grace_until,
                    ends_on=ends_on,
                    paid_through=ends_on - ONE_DAY,
                    restricted=sorted(version.lifecycle.grace_restricts),
                )
                event, before = "grace_started", Status.ACTIVE.value
            self._record(sub_id, account_id, event, before, status, plan, seats, starts_on, ends_on)

    def suspend(self, version: CatalogVersion) -> None:
        """Grace is over: suspended."""
        last_end = self.day - timedelta(days=version.lifecycle.grace_days)
        for rows in self.changed(
            [
                Subscription.catalog_version == version.version,
                Subscription.status == Status.GRACE.value,
                Subscription.ends_on <= last_end,
            ],
            {"status": Status.SUSPENDED.value, "updated_at": self.now},
            [
                Subscription.id,
                Subscription.account_id,
                Subscription.plan,
                Subscription.seats,
                Subscription.starts_on,
                Subscription.ends_on,
            ],
        ):
            self._suspended(rows)
            self.flush()

    def _suspended(self, rows: Sequence[Any]) -> None:
        for sub_id, account_id, plan, seats, starts_on, ends_on in rows:
            self.counts.suspended += 1
            self.event("subscription.suspended", account_id, sub_id, ends_on=ends_on)
            self._record(
                sub_id,
                account_id,
                "suspended",
                Status.GRACE.value,
                Status.SUSPENDED.value,
                plan,
                seats,
                starts_on,
                ends_on,
            )

    def _record(
        self,
        sub_id: int,
        account_id: int,
        event: str,
        before: str,
        after: str,
        plan: str,
        seats: int,
        starts_on: date | None,
        ends_on: date | None,
    ) -> None:
        self.ledger.append(
            {
                "subscription_id": sub_id,
                "account_id": account_id,
                "event": event,
                "effective_on": self.day,
                "status": after,
                "plan": plan,
                "seats": seats,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "invoice_id": None,
                "recorded_at": self.now,
            }
        )
        self.audit.append(
            {
                "at": self.now,
                "actor": self.actor,
                "action": f"subscription.{event}",
                "object_type": "subscription",
                "object_id": str(sub_id),
                "account_id": account_id,
                "before": {"status": before},
                "after": {"status": after, "day": self.day.isoformat()},
            }
        )

    # -- reminders -------------------------------------------------------------------------

    def remind(self, version: CatalogVersion) -> None:
        """Each reminder once per term; only the latest one due (never a stale one). An
        autopay subscription also gets one the day before its autopay invoice is issued
        and charged (`autopay_invoice_days` + 1 before the end): its text names the day,
        the amount and the card while autopay can still be turned off."""
        offsets = set(version.lifecycle.reminder_days)
        before_charge = version.lifecycle.autopay_invoice_days + 1
        self._remind(sorted(offsets), version, autopay=False)
        self._remind(sorted(offsets | {before_charge}), version, autopay=True)

    def _remind(self, offsets: list[int], version: CatalogVersion, *, autopay: bool) -> None:
        days_between = _days_inside(self.session)
        for index, k in enumerate(offsets):
            # due by this day: ends_on − 1 − k ≤ day; still the latest due by today: the
            # next smaller offset is not due yet (or, for the smallest, the term not over).
            smaller = offsets[index - 1] if index else None
            fresh = self.today + timedelta(days=1 + smaller) if smaller is not None else self.today
            for rows in self.changed(
                [
                    Subscription.catalog_version == version.version,
                    Subscription.status == Status.ACTIVE.value,
                    Subscription.autopay.is_(autopay),
                    Subscription.cancel_at_period_end.is_(False),
                    Subscription.ends_on <= self.day + timedelta(days=1 + k),
                    Subscription.ends_on > fresh,
                    Subscription.ends_on > self.day,
                    or_(
                        Subscription.last_reminder_days.is_(None),
                        Subscription.last_reminder_days > k,
                    ),
                    # a term shorter than the offset gets no such reminder
                    days_between(Subscription.starts_on, Subscription.ends_on) > k + 1,
                ],
                {"last_reminder_days": k, "updated_at": self.now},
                [
                    Subscription.id,
                    Subscription.account_id,
                    Subscription.ends_on,
                    Subscription.renewal_invoice_id,
                ],
            ):
                self._reminded(rows, k)
                self.flush()

    def _reminded(self, rows: Sequence[Any], k: int) -> None:
        for sub_id, account_id, ends_on, renewal_invoice_id in rows:
            assert ends_on is not None  # an active subscription has a term
            self.counts.reminders += 1
            self.event(
                "subscription.reminder",
                account_id,
                sub_id,
                days_before=k,
                ends_on=ends_on,
                paid_through=ends_on - ONE_DAY,
                renewal_invoice_id=renewal_invoice_id,
            )

    # -- autopay renewal invoices ----------------------------------------------------------

    def autopay_invoices(self, catalog: Catalog, version: CatalogVersion) -> None:
        """Issue the renewal invoice of every autopay subscription due for it (charging it
        is the payment gateway's work)."""
        days = version.lifecycle.autopay_invoice_days
        book = QuoteBook(catalog)  # each distinct configuration is quoted once a run
        while True:
            rows = self.session.execute(
                select(
                    Subscription.id,
                    Subscription.account_id,
                    # a scheduled downgrade or seat reduction takes effect with the renewal
                    func.coalesce(Subscription.scheduled_plan, Subscription.plan).label("plan"),
                    Subscription.months,
                    func.coalesce(Subscription.scheduled_seats, Subscription.seats).label("seats"),
                    Subscription.add_ons,
                    Subscription.ends_on,
                    Subscription.anchor_day,
                )
                .where(
                    Subscription.catalog_version == version.version,
                    Subscription.status == Status.ACTIVE.value,
                    Subscription.autopay.is_(True),
                    Subscription.cancel_at_period_end.is_(False),
                    Subscription.renewal_invoice_id.is_(None),
                    Subscription.ends_on <= self.day + timedelta(days=1 + days),
                    Subscription.ends_on > self.day,
                    *self.scope,
                )
                .order_by(Subscription.id)
                .limit(BATCH)
                .with_for_update()
            ).all()
            if rows:
                self._issue_renewals(book, rows)
                self.flush()
            if len(rows) < BATCH:
                return

    def _issue_renewals(self, book: QuoteBook, rows: Sequence[Any]) -> None:
        quotes = renewal_quotes(
            self.session,
            book,
            (Renewal(r.id, r.plan, r.months, r.seats, tuple(r.add_ons or ())) for r in rows),
            self.day,
        )
        templates: dict[int, list[dict[str, Any]]] = {}  # the lines of each distinct quote
        invoices: list[NewInvoice] = []
        for sub_id, account_id, _plan, months, _seats, _add_ons, ends_on, anchor in rows:
            assert ends_on is not None  # an active subscription has a term
            q = quotes[sub_id]
            lines = templates.get(id(q))
            if lines is None:
                lines = templates[id(q)] = quote_lines(q)
            invoices.append(
                NewInvoice.of_quote(
                    q,
                    account_id=account_id,
                    subscription_id=sub_id,
                    test=self.test,
                    kind="renewal",
                    term=term_from(ends_on, months, anchor or ends_on.day),
                    lines=lines,
                    notes={"autopay": True},
                )
            )
        self.flush()  # what the run wrote before these invoices comes first
        ids = write_invoices(self.session, invoices, today=self.day, now=self.now, actor=self.actor)
        # Each subscription points at its new invoice: one statement for all of them.
        self.session.execute(
            update(Subscription)
            .where(
                Subscription.id == Invoice.subscription_id,
                Invoice.id.between(ids[0], ids[-1]),
                Invoice.issued_at == self.now,
                Invoice.kind == "renewal",
            )
            .values(renewal_invoice_id=Invoice.id),
            execution_options={"synchronize_session": False},
        )
        self.counts.autopay_invoices += len(rows)
        self._use_credit(ids)

    def _use_credit(self, ids: list[int]) -> None:
        """Accounts with credit pay their new invoices from it first (few: one by one)."""
        with_credit = (
            select(CreditEntry.account_id)
            .group_by(CreditEntry.account_id)
            .having(func.sum(CreditEntry.amount) > ZERO)
        )
        invoices = self.session.scalars(
            select(Invoice).where(
                Invoice.id.between(ids[0], ids[-1]),
                Invoice.issued_at == self.now,
                Invoice.account_id.in_(with_credit),
            )
        ).all()
        if not invoices:
            return
        self.flush()  # the rows the ORM path will read must be written first
        for invoice in invoices:
            subscription = self.session.get(
                Subscription, invoice.subscription_id, populate_existing=True
            )
            assert subscription is not None
            use_credit(
                self.session, invoice, subscription, today=self.day, now=self.now, actor=self.actor
            )


def run_day(
    session: Session,
    *,
    day: date,
    today: date,
    clock: Clock,
    shard: int = 0,
    shards: int = 1,
    clock_id: int = 0,
    actor: str = SYSTEM_LIFECYCLE,
    then: Callable[[Session], object] | None = None,
) -> DayCounts:
    """One day for one shard, in one transaction; a day already done is skipped.

    `then(session)` runs inside that transaction once the day is recorded (or found done):
    the queue defers the shard's next day there, so a day and the job for the next one are
    committed together or not at all."""
    with session.begin():
        done = session.scalars(
            select(LifecycleRun).where(
                LifecycleRun.clock_id == clock_id,
                LifecycleRun.shards == shards,
                LifecycleRun.shard == shard,
                LifecycleRun.day == day,
            )
        ).first()
        if done is not None:
            if then is not None:
                then(session)
            return DayCounts(skipped=True)
        catalog = catalog_in_force(session)
        now = clock.now()
        work = _Day(
            session,
            day=day,
            today=today,
            shard=shard,
            shards=shards,
            clock_id=clock_id,
            now=now,
            actor=actor,
        )
        versions = _versions_in_use(session, catalog)
        for version in versions:
            work.end_terms(version)
            work.suspend(version)
        for version in versions:
            work.remind(version)
            work.autopay_invoices(catalog, version)
        if catalog.migrations:
            from podpiska.catalog.moves import run_migrations_day

            work.flush()
            notices, moves = run_migrations_day(
                session, catalog, day=day, now=now, scope=work.scope, actor=actor
            )
            work.counts.migration_notices, work.counts.version_moves = notices, moves
        if shard == 0:
            work.counts.expired_changes = _expire_changes(session, clock_id, now, actor)
        work.flush()
        session.add(
            LifecycleRun(
                clock_id=clock_id,
                day=day,
                shard=shard,
                shards=shards,
                counts=work.counts.as_dict(),
                finished_at=now,
            )
        )
        if then is not None:
            session.flush()
            then(session)
    return work.counts


def _expire_changes(session: Session, clock_id: int, now: datetime, actor: str) -> int:
    from podpiska.subscriptions.changes import expire_pending

    return expire_pending(session, now=now, actor=actor, clock_id=clock_id)


def _versions_in_use(session: Session, catalog: Catalog) -> list[CatalogVersion]:
    used = set(
        session.scalars(
            select(Subscription.catalog_version)
            .where(Subscription.status.in_(("active", "grace")))
            .distinct()
        )
    )
    return [v for v in catalog.versions if v.version in used]


def shard_progress(session: Session, *, shards: int, clock_id: int) -> dict[int, date]:
    """The last day each shard of this cut has completed (a shard never run is absent)."""
    with session.begin():
        rows = session.execute(
            select(LifecycleRun.shard, func.max(LifecycleRun.day))
            .where(LifecycleRun.clock_id == clock_id, LifecycleRun.shards == shards)
            .group_by(LifecycleRun.shard)
        ).all()
    return {shard: day for shard, day in rows}  # noqa: C416 - rows, not pairs, for mypy


def last_run_day(session: Session, *, shards: int, clock_id: int = 0) -> date | None:
    """The latest day any shard of this cut has completed (None: never run)."""
    return max(shard_progress(session, shards=shards, clock_id=clock_id).values(), default=None)


def shard_days(
    session: Session,
    *,
    at: date,
    shards: int,
    clock_id: int,
    since: date | None = None,
    only_shard: int | None = None,
) -> dict[int, list[date]]:
    """Each shard's days to run up to `at`: the days after the last one IT completed.

    Progress is per shard and day: one shard being ahead (its job ran first, or the others
    crashed) never makes another skip a day. A shard with no day of its own while others
    have some (its first day failed) starts at the first day the others ran. Never run at
    all: `at` alone (or the days after `since`, a test clock's previous time). A shard that
    has already completed `at` gets `[at]` (run_day skips it); one past `at` gets nothing —
    the daily run never goes back to a day before one it has done."""
    with session.begin():
        rows = session.execute(
            select(LifecycleRun.shard, func.max(LifecycleRun.day), func.min(LifecycleRun.day))
            .where(LifecycleRun.clock_id == clock_id, LifecycleRun.shards == shards)
            .group_by(LifecycleRun.shard)
        ).all()
    last = {shard: latest for shard, latest, _ in rows}
    first_ever = min((earliest for _, _, earliest in rows), default=None)
    result: dict[int, list[date]] = {}
    for shard in range(shards) if only_shard is None else [only_shard]:
        if shard in last:
            start: date | None = last[shard]
        elif first_ever is not None:
            start = first_ever - ONE_DAY
        else:
            start = since
        result[shard] = _days_after(start, at)
    return result


def _days_after(start: date | None, at: date) -> list[date]:
    if start is None or start == at:
        return [at]
    if start > at:
        return []
    first = max(start + ONE_DAY, at - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=n) for n in range((at - first).days + 1)]


def days_to_run(
    session: Session,
    *,
    at: date,
    shards: int,
    clock_id: int,
    since: date | None = None,
    only_shard: int | None = None,
) -> list[date]:
    """Every day some shard still has to run up to `at`, in order (see `shard_days`)."""
    plan = shard_days(
        session, at=at, shards=shards, clock_id=clock_id, since=since, only_shard=only_shard
    )
    return sorted({day for days in plan.values() for day in days})


def run_lifecycle(
    session: Session,
    *,
    at: date,
    clock: Clock,
    shards: int = 1,
    only_shard: int | None = None,
    clock_id: int = 0,
    since: date | None = None,
    every_day_lived: bool = False,
    progress: Callable[[date, int, DayCounts], None] | None = None,
) -> RunReport:
    """Every day since the last run, up to `at`, in order; each shard of accounts in turn
    (workers on several machines run `run_day` for one shard each instead).

    A real run after missed days catches up as of `at`: a reminder that a later one has
    made stale is not sent. A test clock's days are lived one by one
    (`every_day_lived`): each day's run is what would have happened on that day."""
    report = RunReport()
    plan = {
        shard: set(days)
        for shard, days in shard_days(
            session, at=at, shards=shards, clock_id=clock_id, since=since, only_shard=only_shard
        ).items()
    }
    # Day by day, each day's shards in order: the same order (and so the same invoice
    # numbers) as the queue's jobs, which also finish a day on every shard before the next.
    for day in sorted(set().union(*plan.values())):
        report.days.append(day)
        for shard in sorted(plan):
            if day not in plan[shard]:
                continue
            counts = run_day(
                session,
                day=day,
                today=day if every_day_lived else at,
                clock=clock,
                shard=shard,
                shards=shards,
                clock_id=clock_id,
            )
            if counts.skipped:
                report.skipped_days += 1
            report.totals.add(counts)
            if progress is not None:
                progress(day, shard, counts)
    return report


@dataclass(frozen=True, slots=True)
class Advance:
    clock_id: int
    was: datetime
    now: datetime
    report: RunReport


def advance_test_clock(
    session: Session,
    *,
    clock_id: int,
    to: datetime | None = None,
    days: int | None = None,
    actor: str,
    clock: Clock,
    after_day: Callable[[int, Clock], object] | None = None,
) -> Advance:
    """Move a test clock forward; every daily run in between happens, in order, for the
    accounts on that clock (and only for them). With `after_day` (autopay charges), the
    clock moves one day at a time and `after_day(clock_id, clock_of_that_day)` runs after
    each day's run, as the worker would run it on that day."""
    current = get_test_clock(session, clock_id)
    if (to is None) == (days is None):
        raise _bad_advance("укажите либо to, либо days", "give either `to` or `days`")
    check_advance(current.now, to=to, days=days)  # bounded work, before any arithmetic
    if days is not None:
        if days < 0:
            raise _bad_advance("days не может быть отрицательным", "`days` must not be negative")
        to = current.now + timedelta(days=days)
    assert to is not None
    if to.tzinfo is None:
        raise _bad_advance("у to нужен часовой пояс", "`to` needs a timezone")
    if to < current.now:  # refused on both paths (day by day would silently do nothing)
        raise DomainError("test_clock_backwards", id=clock_id, now=current.now.isoformat())
    if after_day is not None:
        return _advance_day_by_day(
            session, clock_id=clock_id, to=to, actor=actor, clock=clock, after_day=after_day
        )
    _, was = move_test_clock(session, clock_id=clock_id, to=to, actor=actor, clock=clock)
    with session.begin():
        zone = catalog_in_force(session).timezone
    start = was.astimezone(ZoneInfo(zone)).date()
    end = to.astimezone(ZoneInfo(zone)).date()
    report = RunReport()
    if end > start:
        report = run_lifecycle(
            session,
            at=end,
            clock=FixedTime(to),
            clock_id=clock_id,
            since=start,
            every_day_lived=True,
        )
    return Advance(clock_id, was, to, report)


def _advance_day_by_day(
    session: Session,
    *,
    clock_id: int,
    to: datetime,
    actor: str,
    clock: Clock,
    after_day: Callable[[int, Clock], object],
) -> Advance:
    current = get_test_clock(session, clock_id)
    with session.begin():
        zone = ZoneInfo(catalog_in_force(session).timezone)
    was = current.now
    report = RunReport()
    instant = was
    while instant < to:
        # The next midnight in the catalog's timezone, or `to` if that comes first.
        local = instant.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), zone)
        step = min(to, midnight.astimezone(to.tzinfo))
        move_test_clock(session, clock_id=clock_id, to=step, actor=actor, clock=clock)
        start = instant.astimezone(zone).date()
        end = step.astimezone(zone).date()
        if end > start:
            day_report = run_lifecycle(
                session,
                at=end,
                clock=FixedTime(step),
                clock_id=clock_id,
                since=start,
                every_day_lived=True,
            )
            report.days.extend(day_report.days)
            report.totals.add(day_report.totals)
            report.skipped_days += day_report.skipped_days
            after_day(clock_id, FixedTime(step))
        instant = step
    return Advance(clock_id, was, to, report)


def _bad_advance(ru: str, en: str) -> DomainError:
    return DomainError("invalid_field", field="advance", problem_ru=ru, problem_en=en)
