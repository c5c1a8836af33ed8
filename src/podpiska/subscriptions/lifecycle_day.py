"""One day of the daily lifecycle run for one shard of accounts, inside one transaction.

A handful of set-based statements over the indexed (status, ends_on) of subscriptions —
every event date of a subscription (reminders, the autopay invoice, the end, the end of
grace) derives from its `ends_on`, so that index is the "next event" index: terms that ended
go to grace or end (`end_terms`), grace that ran out suspends (`suspend`), reminders are sent
(`remind`: only while it is still the latest one due by the run's day, so a run after
missed days never sends a stale 30-day notice next to a due 7-day one), and autopay renewal
invoices are issued and paid from credit (`autopay_invoices`). Subscriptions change BATCH at
a time, every statement guarded by the state it changes; the day's events, license ledger,
audit and journal rows are collected and written in bulk (`flush`). `DayCounts` is what a
day did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.prices import QuoteBook
from podpiska.core.db.bulk import bulk_insert
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import ONE_DAY, term_from
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.invoicing.invoices import NewInvoice, quote_lines, write_invoices
from podpiska.invoicing.models import CreditEntry, Invoice, JournalEntry
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription
from podpiska.subscriptions.renewal_prices import Renewal, renewal_quotes
from podpiska.subscriptions.settlement import use_credit

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
    planned: int = 0  # the month-end run: paid invoices planned into service periods
    closings: int = 0  # the month-end run: closing documents (УПД) made
    advances: int = 0  # the month-end run: advance счета-фактуры issued
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
        self.planned += other.planned
        self.closings += other.closings
        self.advances += other.advances

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
            "planned": self.planned,
            "closings": self.closings,
            "advances": self.advances,
        }


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


class DayWork:
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
