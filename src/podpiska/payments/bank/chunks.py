"""Apply a chunk of a statement's payments: matched by invoice number, in one transaction.

Each incoming payment is matched to an invoice by the number in its purpose and by amount:
the exact amount pays it (and activates or renews), less part-pays it, more pays it and puts
the rest on the account's credit; no invoice found leaves it unmatched, for the review queue.
Payments are applied by the rules of any payment (`settlement.record_payment_rows`: the body
of `record_payment`) but written in bulk. A chunk's subscriptions, then invoices, are locked
and read in a few statements as plain records; each payment changes them in turn, in the
statement's order (a second payment to an invoice sees the first), and its rows (payment,
journal, credit, audit, events, license ledger, bank payment) are collected as values, then
encoded for COPY (executemany on SQLite); the changed invoices and subscriptions are written
by one UPDATE per set of changed columns. The rows are the ORM's own, to the byte and the id:
tests/payments/bank/test_equivalence.py imports statements both ways and compares every
table. A payment to a mid-term change invoice, whose application needs the ORM
(`change_apply.apply_paid_change`), goes through `record_payment` itself, with the other
payments of its chunk to the same subscription. `apply_chunk_one_by_one` is the path before
all this: each payment through `record_payment` and the ORM (the reference).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, cast, func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.db.base import Base
from podpiska.core.db.bulk import Encoded, encode_rows, insert_encoded, reserve_ids, update_encoded
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import TestClock
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.bank.domain import BankDocument
from podpiska.payments.bank.models import BankPayment
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.settlement import (
    PayableInvoice,
    PayableSubscription,
    PaymentRows,
    locked,
    needs_session,
    not_payable,
    record_payment,
    record_payment_rows,
)


def apply_chunk_one_by_one(
    session: Session, documents: list[BankDocument], *, source: str, actor: str, clock: Clock
) -> list[tuple[BankDocument, str]]:
    """Up to CHUNK payments in one transaction: the invoices they name are locked (their
    subscriptions first, the one lock order), each payment goes through `record_payment`
    (its rows written as it is recorded), the bank rows by the ORM. The reference of
    `apply_chunk`."""
    numbers = {n for d in documents for n in d.invoice_numbers()}
    outcomes: list[tuple[BankDocument, str]] = []
    with session.begin():
        named = select(Invoice.subscription_id).where(Invoice.number.in_(numbers))
        subscriptions = {
            s.id: s
            for s in session.scalars(
                locked(select(Subscription).where(Subscription.id.in_(named)), Subscription.id)
            )
        }
        invoices = {
            i.number: i
            for i in session.scalars(
                locked(select(Invoice).where(Invoice.number.in_(numbers)), Invoice.id)
            )
        }
        accounts = {
            a.id: a
            for a in session.scalars(
                select(Account).where(Account.id.in_({i.account_id for i in invoices.values()}))
            )
        }
        matched = [d for d in documents if any(n in invoices for n in d.invoice_numbers())]
        payment_ids = iter(reserve_ids(session, Payment, len(matched)))
        now = clock.now()
        for document in documents:
            invoice = next((invoices[n] for n in document.invoice_numbers() if n in invoices), None)
            status, payment_id, note = "unmatched", None, None
            if invoice is not None:
                subscription = subscriptions[invoice.subscription_id]
                reserved = next(payment_ids)
                problem = not_payable(invoice, subscription)
                if problem is not None:
                    note = DomainError(
                        "invoice_not_payable", number=invoice.number, status=problem
                    ).message("ru")
                else:
                    account = accounts[invoice.account_id]
                    due = invoice.total - invoice.amount_paid
                    note = _paid_or_refused(
                        session,
                        invoice,
                        partial(
                            record_payment,
                            session,
                            invoice=invoice,
                            subscription=subscription,
                            account=account,
                            amount=document.amount,
                            method="bank_transfer",
                            external_id=document.fingerprint,
                            actor=actor,
                            now=now,
                            today=today_for(session, account, clock),
                            payment_id=reserved,
                        ),
                    )
                    if note is None:
                        payment_id = reserved
                        status = (
                            "paid"
                            if document.amount == due
                            else "partial"
                            if document.amount < due
                            else "overpaid"
                        )
            session.add(
                BankPayment(
                    fingerprint=document.fingerprint,
                    source=source,
                    doc_number=document.number,
                    day=document.day,
                    amount=document.amount,
                    payer=document.payer[:500],
                    payer_inn=document.payer_inn[:12],
                    purpose=document.purpose[:2000],
                    status=status,
                    invoice_id=invoice.id if invoice is not None and payment_id else None,
                    payment_id=payment_id,
                    note=note,
                    imported_at=now,
                )
            )
            outcomes.append((document, status))
    return outcomes


@dataclass(slots=True)
class _InvoiceRecord:
    """An invoice's row as the payment rules read and change it (`settlement.PayableInvoice`)."""

    id: int
    number: str | None
    account_id: int
    subscription_id: int
    kind: str
    status: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    term_starts_on: date | None
    term_ends_on: date | None
    total: Decimal
    amount_paid: Decimal
    paid_at: datetime | None


@dataclass(slots=True)
class _SubscriptionRecord:
    """A subscription's row as the payment rules read and change it."""

    id: int
    account_id: int
    status: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    anchor_day: int | None
    started_on: date | None
    starts_on: date | None
    ends_on: date | None
    autopay: bool
    cancel_at_period_end: bool
    term_basis: Decimal | None
    term_carry: Decimal | None
    scheduled_plan: str | None
    scheduled_seats: int | None
    last_reminder_days: int | None
    renewal_invoice_id: int | None
    updated_at: datetime


class _Records:
    """Rows of one table read (and locked) as records; `encode_changes` gives what changed."""

    def __init__(self, session: Session, model: type[Base], record: type[Any], *where: Any) -> None:
        self.model = model
        self.table: Any = model.__table__
        self.names = [f.name for f in fields(record)]
        rows = (
            session.connection()
            .execute(
                locked(
                    select(*(self.table.c[name] for name in self.names)).where(*where),
                    self.table.c.id,
                )
            )
            .all()
        )
        self.loaded = [tuple(row) for row in rows]
        self.records = [record(*row) for row in self.loaded]
        self.values = attrgetter(*self.names)  # a record's values, in the order of names

    def encode_changes(self, session: Session) -> list[Encoded]:
        """The changed columns of the changed records, encoded for `update_encoded`: one
        per set of changed columns (as a rule one in all: every paid order changes the same
        ones)."""
        changes: dict[tuple[int, ...], list[list[Any]]] = {}
        for record, loaded in zip(self.records, self.loaded, strict=True):
            values = self.values(record)
            if values == loaded:
                continue
            changed = tuple(
                index
                for index, (before, after) in enumerate(zip(loaded, values, strict=True))
                if after != before
            )
            changes.setdefault(changed, []).append([record.id, *[values[i] for i in changed]])
        return [
            encode_rows(session, self.model, ("id", *[self.names[i] for i in changed]), rows)
            for changed, rows in changes.items()
        ]


@dataclass
class Chunk:
    """A chunk read, locked, computed and partly written in its open transaction: what
    remains is to write the payments' rows and the changed invoices and subscriptions
    (`write`), and to commit."""

    outcomes: list[tuple[BankDocument, str]]
    inserts: list[Encoded]  # the payments' rows, encoded (COPY data on PostgreSQL)
    updates: list[Encoded]  # the changed invoices and subscriptions

    def write(self, session: Session) -> None:
        """Only sending: `prepare` encoded them (and wrote the bank rows)."""
        for encoded in self.inserts:
            insert_encoded(session, encoded)
        for encoded in self.updates:
            update_encoded(session, encoded)


def apply_chunk(
    session: Session, documents: list[BankDocument], *, source: str, actor: str, clock: Clock
) -> list[tuple[BankDocument, str]]:
    """Up to CHUNK payments in one transaction: `prepare`, then the writes."""
    with session.begin():
        chunk = prepare(session, documents, source=source, actor=actor, clock=clock, orm=True)
        assert chunk is not None
        chunk.write(session)
    return chunk.outcomes


def prepare(
    session: Session,
    documents: list[BankDocument],
    *,
    source: str,
    actor: str,
    clock: Clock,
    orm: bool,
) -> Chunk | None:
    """In the caller's transaction: the invoices the payments name are locked (their
    subscriptions first, the one lock order) and read as records; each payment applies
    `record_payment`'s rules to them in turn and its rows are collected (see the module's
    docstring). The payments to a subscription with a change invoice go through
    `record_payment` here and now when `orm`; without it such a chunk answers None."""
    numbers_of = [d.invoice_numbers() for d in documents]
    numbers = {n for found in numbers_of for n in found}
    outcomes: list[tuple[BankDocument, str]] = []
    numbered = among(session, Invoice.number, numbers)
    # An invoice's subscription never changes: its id can be read before the locks (one
    # index lookup each, where a join would scan every subscription).
    named = set(
        session.connection().execute(select(Invoice.subscription_id).where(numbered)).scalars()
    )
    subscription_rows = _Records(
        session, Subscription, _SubscriptionRecord, among(session, Subscription.id, named)
    )
    invoice_rows = _Records(session, Invoice, _InvoiceRecord, numbered)
    subscriptions: dict[int, _SubscriptionRecord] = {s.id: s for s in subscription_rows.records}
    invoices: dict[str | None, _InvoiceRecord] = {i.number: i for i in invoice_rows.records}
    # A change invoice is applied by the ORM: its subscription's payments go that way.
    by_session = {i.subscription_id for i in invoices.values() if needs_session(i)}
    if by_session and not orm:
        return None
    now = clock.now()
    today = _Today(session, {i.account_id for i in invoices.values()}, now)
    orm_rows = _OrmRows(session, clock)
    targets = [next((invoices[n] for n in ns if n in invoices), None) for ns in numbers_of]
    matched = sum(invoice is not None for invoice in targets)
    payment_ids = iter(reserve_ids(session, Payment, matched))
    rows = PaymentRows()
    bank_rows: list[list[Any]] = []
    for document, invoice in zip(documents, targets, strict=True):
        fingerprint = document.fingerprint
        status, payment_id, note = "unmatched", None, None
        if invoice is not None:
            reserved = next(payment_ids)
            if invoice.subscription_id in by_session:
                rows.write(session)  # what came before goes first: the statement's order
                status, note = orm_rows.pay(document, invoice, actor=actor, now=now,
                                            payment_id=reserved)  # fmt: skip
            else:
                subscription = subscriptions[invoice.subscription_id]
                status, note = _outcome(invoice, subscription, document.amount)
                if note is None:
                    record_payment_rows(
                        rows,
                        invoice=invoice,
                        subscription=subscription,
                        amount=document.amount,
                        method="bank_transfer",
                        external_id=fingerprint,
                        actor=actor,
                        now=now,
                        today=today(invoice.account_id),
                        payment_id=reserved,
                    )
            if note is None:
                payment_id = reserved
        bank_rows.append(
            [
                fingerprint,
                source,
                document.number,
                document.day,
                document.amount,
                document.payer[:500],
                document.payer_inn[:12],
                document.purpose[:2000],
                status,
                invoice.id if invoice is not None and payment_id else None,
                payment_id,
                note,
                now,
            ]
        )
        outcomes.append((document, status))
    # The bank rows are written here and now: with two connections taking chunks in turn,
    # this one would be idle while the other still writes the chunk before (measured: a
    # little faster than leaving them, or the updates too, to the writing thread).
    insert_encoded(session, encode_rows(session, BankPayment, _BANK, bank_rows))
    changed = subscription_rows.encode_changes(session) + invoice_rows.encode_changes(session)
    return Chunk(outcomes, rows.encode(session), changed)


def _outcome(
    invoice: PayableInvoice, subscription: PayableSubscription, amount: Decimal
) -> tuple[str, str | None]:
    """(what the payment does to the invoice, why it cannot be paid: None when it can)."""
    problem = not_payable(invoice, subscription)
    if problem is not None:
        error = DomainError("invoice_not_payable", number=invoice.number, status=problem)
        return "unmatched", error.message("ru")
    due = invoice.total - invoice.amount_paid
    return ("paid" if amount == due else "partial" if amount < due else "overpaid"), None


def _paid_or_refused(
    session: Session, invoice: PayableInvoice, pay: Callable[[], object]
) -> str | None:
    """`pay()`: None, or why the invoice refused the money (a change invoice whose change no
    longer fits the subscription, or expired before the daily run voided it): the payment
    then waits in the review queue and the rest of the statement is imported. Only a change
    invoice can refuse once `not_payable` has let it through, so only its payment runs in a
    savepoint (flushed; a savepoint per payment would flush each one alone, three times
    slower). Any other error stops the import, as before."""
    if not needs_session(invoice):
        pay()
        return None
    try:
        with session.begin_nested():
            pay()
            session.flush()
    except DomainError as error:
        if error.code != "invoice_not_payable":
            raise
        return error.message("ru")
    return None


class _Today:
    """The business day of each account of the chunk (`clocks.today_for`: its time zone,
    and its test clock's time if it has one), read in two statements."""

    def __init__(self, session: Session, account_ids: set[int], now: datetime) -> None:
        accounts = (
            session.connection()
            .execute(
                select(Account.id, Account.timezone, Account.test_clock_id).where(
                    among(session, Account.id, account_ids)
                )
            )
            .all()
        )
        clock_ids = {clock_id for _, _, clock_id in accounts if clock_id is not None}
        clocks: dict[int, datetime] = {}
        if clock_ids:
            found = session.execute(
                select(TestClock.id, TestClock.now).where(TestClock.id.in_(clock_ids))
            ).all()
            clocks = dict(found)
        self.days: dict[int, date] = {}
        zones: dict[str, ZoneInfo] = {}
        for account_id, timezone, clock_id in accounts:
            instant = clocks.get(clock_id, now) if clock_id is not None else now
            zone = zones.get(timezone) or zones.setdefault(timezone, ZoneInfo(timezone))
            self.days[account_id] = instant.astimezone(zone).date()

    def __call__(self, account_id: int) -> date:
        return self.days[account_id]


class _OrmRows:
    """The payments of a chunk that go through `record_payment` itself, on ORM objects of
    rows the chunk has locked (loaded once each, flushed after every payment)."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def pay(
        self, document: BankDocument, record: _InvoiceRecord, *, actor: str, now: datetime,
        payment_id: int,
    ) -> tuple[str, str | None]:  # fmt: skip
        invoice = self.session.get(Invoice, record.id)
        assert invoice is not None
        subscription = self.session.get(Subscription, invoice.subscription_id)
        account = self.session.get(Account, invoice.account_id)
        assert subscription is not None and account is not None
        status, note = _outcome(invoice, subscription, document.amount)
        if note is None:
            note = _paid_or_refused(
                self.session,
                invoice,
                partial(
                    record_payment,
                    self.session,
                    invoice=invoice,
                    subscription=subscription,
                    account=account,
                    amount=document.amount,
                    method="bank_transfer",
                    external_id=document.fingerprint,
                    actor=actor,
                    now=now,
                    today=today_for(self.session, account, self.clock),
                    payment_id=payment_id,
                ),
            )
            if note is not None:
                status = "unmatched"
        return status, note


_BANK = ("fingerprint", "source", "doc_number", "day", "amount", "payer", "payer_inn",
         "purpose", "status", "invoice_id", "payment_id", "note", "imported_at")  # fmt: skip


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`: one parameter however many
    the values (a thousand placeholders cost more to build and send than the lookup)."""
    result: ColumnElement[bool]
    if session.get_bind().dialect.name != "postgresql":
        result = column.in_(values)
        return result
    texts = [str(value) for value in values]
    joined = ",".join(texts)
    if "" in texts or joined.count(",") != max(len(texts) - 1, 0):  # not plain: an array
        result = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:  # invoice numbers, fingerprints, ids: one string, split by the server (cheaper)
        result = column == any_(cast(func.string_to_array(joined, ","), ARRAY(column.type)))
    return result
