"""Use-cases: import a bank statement (1C exchange format) and match its payments.

Each incoming payment is matched to an invoice by the number in its purpose and by amount:
the exact amount pays it (and activates or renews), less part-pays it, more pays it and puts
the rest on the account's credit; no invoice found goes to a review queue where an operator
assigns it to an invoice (`resolve`), puts it on an account's credit (`credit_to_account`: a
prepayment) or sets it aside as not ours (`dismiss`, undone by `reopen`). A payment is known
by its fingerprint, so importing the same statement twice changes nothing.

Payments are applied a thousand to a transaction, by the rules of any payment
(`settlement.record_payment_rows`: the body of `record_payment`) but written in bulk. A
chunk's subscriptions, then invoices, are locked and read in a few statements as plain
records; each payment changes them in turn, in the statement's order (a second payment to
an invoice sees the first), and its rows (payment, journal, credit, audit, events, license
ledger, bank payment) are collected as values, then encoded for COPY (executemany on
SQLite); the changed invoices and subscriptions are written by one UPDATE per set of changed
columns. The rows are the ORM's own, to the byte and the id:
tests/payments/bank/test_equivalence.py imports statements both ways and compares every table.

On PostgreSQL two connections take the chunks in turn: while a thread sends one chunk's
payment rows and updates and commits, the next chunk is locked, computed and encoded (and
its bank rows written), so the database's work and ours overlap; chunks still commit one at
a time, in order, each after the one before it. A payment to a mid-term change invoice,
whose application needs the ORM (`change_apply.apply_paid_change`), goes through
`record_payment` itself, with the other payments of its chunk to the same subscription.
`one_by_one=True` is the path before all this: each payment through `record_payment` and
the ORM (the reference, and the baseline of bench/statements.py).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, cast, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction

from podpiska.core.clocks import today_for
from podpiska.core.db.bulk import (
    Encoded,
    encode_rows,
    insert_encoded,
    reserve_ids,
    update_encoded,
)
from podpiska.core.db.models import (
    Account,
    BankPayment,
    Base,
    Invoice,
    Payment,
    Subscription,
    TestClock,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.records import audit, get_or_404
from podpiska.invoicing.ledger import CASH, grant_credit
from podpiska.payments.bank.domain import (
    AccountSection,
    BankDocument,
    Statement,
    StatementError,
    decode,
    parse,
)
from podpiska.ports import Clock
from podpiska.subscriptions.settlement import (
    PayableInvoice,
    PayableSubscription,
    PaymentRows,
    lock_invoice,
    locked,
    needs_session,
    not_payable,
    record_payment,
    record_payment_rows,
)

CHUNK = 1000


@dataclass(frozen=True)
class AccountTotals:
    """One account of the statement as its account sections state it (checked against the
    documents by `bank_statement.parse`): several sections of one account (one a day) are
    summed, from the first opening balance to the last closing one."""

    account: str
    opening: str | None
    received: str | None
    debited: str | None
    closing: str | None


@dataclass
class ImportReport:
    source: str
    documents: int = 0
    outgoing: int = 0  # from our accounts (our own payments, transfers between our accounts)
    not_ours: int = 0  # neither from nor to our accounts
    already_imported: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # paid, partial, overpaid, unmatched
    amount: dict[str, str] = field(default_factory=dict)
    outgoing_amount: str = "0.00"
    not_ours_amount: str = "0.00"
    accounts: list[AccountTotals] = field(default_factory=list)
    version: str = ""

    def summary(self) -> dict[str, Any]:
        """The report as plain JSON values (the API's answer, `bank import --json`)."""
        return {
            "source": self.source,
            "documents": self.documents,
            "outgoing": self.outgoing,
            "outgoing_amount": self.outgoing_amount,
            "not_ours": self.not_ours,
            "not_ours_amount": self.not_ours_amount,
            "already_imported": self.already_imported,
            "counts": dict(self.counts),
            "amounts": self.amount,
            "accounts": [
                {f.name: getattr(totals, f.name) for f in fields(totals)}
                for totals in self.accounts
            ],
        }


def import_statement(
    session: Session,
    *,
    data: bytes,
    source: str,
    our_accounts: frozenset[str] = frozenset(),
    actor: str,
    clock: Clock,
    one_by_one: bool = False,
) -> ImportReport:
    """Read, match and apply a statement. `our_accounts`: the vendor's bank accounts; when
    given, a payment to another account is not ours and is skipped. `one_by_one`: every
    payment through `record_payment` and the ORM, as before the bulk path (the reference
    it is tested against, and the benchmark's baseline): the same effects, far slower."""
    with _collector_paused():
        return _import(session, data=data, source=source, our_accounts=our_accounts,
                       actor=actor, clock=clock, one_by_one=one_by_one)  # fmt: skip


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a statement is imported, and as it was
    after. An import makes millions of short-lived containers, none in a cycle (reference
    counting frees them), while the statement's documents stay alive: the collector's full
    passes over them cost a fifth of the import and collect nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(
    session: Session,
    *,
    data: bytes,
    source: str,
    our_accounts: frozenset[str],
    actor: str,
    clock: Clock,
    one_by_one: bool,
) -> ImportReport:
    try:
        statement = parse(decode(data))
    except StatementError as exc:
        raise DomainError(
            "bad_statement", source=source, problem=exc.problem, line=exc.line
        ) from None
    report = ImportReport(
        source=source,
        documents=len(statement.documents),
        accounts=_account_totals(statement),
        version=statement.version,
    )
    # Ours: the vendor's accounts when set, else the accounts the statement is about.
    ours = our_accounts or frozenset(statement.accounts)
    incoming: list[BankDocument] = []
    skipped = {"outgoing": ZERO, "not_ours": ZERO}
    for document in statement.documents:
        direction = document.direction(ours)
        if direction == "incoming":
            incoming.append(document)
        else:
            skipped[direction] += document.amount
            if direction == "outgoing":
                report.outgoing += 1
            else:
                report.not_ours += 1
    report.outgoing_amount = f"{skipped['outgoing']:.2f}"
    report.not_ours_amount = f"{skipped['not_ours']:.2f}"
    totals: Counter[str] = Counter()
    seen: set[str] = set()  # the fingerprints of this statement met so far
    if one_by_one or not _can_overlap(session):
        apply = _apply_chunk_one_by_one if one_by_one else _apply_chunk
        chunks = _in_turn(session, incoming, seen, apply, source=source, actor=actor,
                          clock=clock)  # fmt: skip
    else:
        chunks = _overlapped(session, incoming, seen, source=source, actor=actor, clock=clock)
    for already_imported, outcomes in chunks:
        report.already_imported += already_imported
        for document, status in outcomes:
            report.counts[status] += 1
            totals[status] += int(document.amount * 100)
    report.amount = {k: f"{v / 100:.2f}" for k, v in totals.items()}  # float-ok: display
    return report


def _account_totals(statement: Statement) -> list[AccountTotals]:
    """Each account's sections summed, in the order the statement names its accounts."""
    by_account: dict[str, list[AccountSection]] = {}
    for section in statement.sections:
        by_account.setdefault(section.account, []).append(section)

    def total(values: list[Decimal | None]) -> str | None:
        if any(v is None for v in values):
            return None
        return f"{sum((v for v in values if v is not None), ZERO):.2f}"

    result = []
    for account, sections in by_account.items():
        first, last = sections[0].opening, sections[-1].closing
        result.append(
            AccountTotals(
                account=account,
                opening=None if first is None else f"{first:.2f}",
                received=total([s.received for s in sections]),
                debited=total([s.debited for s in sections]),
                closing=None if last is None else f"{last:.2f}",
            )
        )
    return result


def _in_turn(
    session: Session,
    incoming: list[BankDocument],
    seen: set[str],
    apply: Callable[..., list[tuple[BankDocument, str]]],
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> Iterator[tuple[int, list[tuple[BankDocument, str]]]]:
    """(already imported, outcomes) of each chunk, one after the other."""
    for start in range(0, len(incoming), CHUNK):
        chunk = incoming[start : start + CHUNK]
        fresh = _new_ones(session, chunk, seen)
        outcomes = apply(session, fresh, source=source, actor=actor, clock=clock) if fresh else []
        yield len(chunk) - len(fresh), outcomes


def _new_ones(session: Session, chunk: list[BankDocument], seen: set[str]) -> list[BankDocument]:
    """The payments of the chunk not imported before (nor met before in this statement:
    `seen`, which takes theirs)."""
    fingerprints = [d.fingerprint for d in chunk]
    with session.begin():
        known = set(
            session.scalars(
                select(BankPayment.fingerprint).where(
                    _among(session, BankPayment.fingerprint, fingerprints)
                )
            )
        )
    fresh = []
    for document, fingerprint in zip(chunk, fingerprints, strict=True):
        if fingerprint not in known and fingerprint not in seen:
            seen.add(fingerprint)
            fresh.append(document)
    return fresh


def _apply_chunk_one_by_one(
    session: Session, documents: list[BankDocument], *, source: str, actor: str, clock: Clock
) -> list[tuple[BankDocument, str]]:
    """Up to CHUNK payments in one transaction: the invoices they name are locked (their
    subscriptions first, the one lock order), each payment goes through `record_payment`,
    and the ORM writes all the rows at commit. The reference of `_apply_chunk`."""
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
class _Chunk:
    """A chunk read, locked, computed and partly written in its open transaction: what
    remains is to write the payments' rows and the changed invoices and subscriptions
    (`write`), and to commit."""

    outcomes: list[tuple[BankDocument, str]]
    inserts: list[Encoded]  # the payments' rows, encoded (COPY data on PostgreSQL)
    updates: list[Encoded]  # the changed invoices and subscriptions

    def write(self, session: Session) -> None:
        """Only sending: `_prepare` encoded them (and wrote the bank rows)."""
        for encoded in self.inserts:
            insert_encoded(session, encoded)
        for encoded in self.updates:
            update_encoded(session, encoded)


def _apply_chunk(
    session: Session, documents: list[BankDocument], *, source: str, actor: str, clock: Clock
) -> list[tuple[BankDocument, str]]:
    """Up to CHUNK payments in one transaction: `_prepare`, then the writes."""
    with session.begin():
        chunk = _prepare(session, documents, source=source, actor=actor, clock=clock, orm=True)
        assert chunk is not None
        chunk.write(session)
    return chunk.outcomes


def _prepare(
    session: Session,
    documents: list[BankDocument],
    *,
    source: str,
    actor: str,
    clock: Clock,
    orm: bool,
) -> _Chunk | None:
    """In the caller's transaction: the invoices the payments name are locked (their
    subscriptions first, the one lock order) and read as records; each payment applies
    `record_payment`'s rules to them in turn and its rows are collected (see the module's
    docstring). The payments to a subscription with a change invoice go through
    `record_payment` here and now when `orm`; without it such a chunk answers None."""
    numbers_of = [d.invoice_numbers() for d in documents]
    numbers = {n for found in numbers_of for n in found}
    outcomes: list[tuple[BankDocument, str]] = []
    numbered = _among(session, Invoice.number, numbers)
    # An invoice's subscription never changes: its id can be read before the locks (one
    # index lookup each, where a join would scan every subscription).
    named = set(
        session.connection().execute(select(Invoice.subscription_id).where(numbered)).scalars()
    )
    subscription_rows = _Records(
        session, Subscription, _SubscriptionRecord, _among(session, Subscription.id, named)
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
    return _Chunk(outcomes, rows.encode(session), changed)


def _can_overlap(session: Session) -> bool:
    """Two connections of the same PostgreSQL engine can take chunks in turn."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


def _overlapped(
    session: Session,
    incoming: list[BankDocument],
    seen: set[str],
    *,
    source: str,
    actor: str,
    clock: Clock,
) -> Iterator[tuple[int, list[tuple[BankDocument, str]]]]:
    """(already imported, outcomes) of each chunk, every chunk in its own transaction as in
    `_apply_chunk`, but on two connections in turn so that the database's work overlaps
    ours: while a thread writes one chunk's payment rows and commits, the next is locked,
    computed and encoded. A chunk is handed to the thread only after the one before it
    committed: a failure leaves the chunks before it committed and none after, as one by
    one. A chunk that meets a change invoice waits for the writes before it and goes
    through `_apply_chunk`."""
    other = Session(session.get_bind(), autobegin=False, expire_on_commit=False)
    writing: Future[None] | None = None  # the chunk being written, on `busy`
    busy: Session | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bank-import") as writer:
            for start in range(0, len(incoming), CHUNK):
                current = other if busy is session else session
                documents = incoming[start : start + CHUNK]
                fresh = _new_ones(current, documents, seen)
                outcomes: list[tuple[BankDocument, str]] = []
                if fresh:
                    transaction = current.begin()
                    try:
                        chunk = _prepare(current, fresh, source=source, actor=actor,
                                         clock=clock, orm=False)  # fmt: skip
                        if writing is not None:
                            writing.result()  # the chunk before: committed, or its error
                            writing = busy = None
                    except BaseException:
                        transaction.rollback()
                        raise
                    if chunk is None:
                        transaction.rollback()
                        outcomes = _apply_chunk(session, fresh, source=source, actor=actor,
                                                clock=clock)  # fmt: skip
                    else:
                        writing = writer.submit(_write_and_commit, current, transaction, chunk)
                        busy = current
                        outcomes = chunk.outcomes
                yield len(documents) - len(fresh), outcomes
            if writing is not None:
                writing.result()
    finally:
        other.close()


def _write_and_commit(session: Session, transaction: SessionTransaction, chunk: _Chunk) -> None:
    try:
        chunk.write(session)
        transaction.commit()
    except BaseException:
        transaction.rollback()
        raise


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
                    _among(session, Account.id, account_ids)
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


def _among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
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


# What became of an imported payment: matched by the import, or dealt with by an operator.
BANK_PAYMENT_STATUSES = (
    "unmatched",
    "paid",
    "partial",
    "overpaid",
    "resolved",
    "credited",
    "dismissed",
)


def review_queue(session: Session, *, limit: int = 100) -> list[BankPayment]:
    """The payments waiting for an operator, oldest first."""
    return bank_payments(session, status="unmatched", limit=limit)


def bank_payments(
    session: Session, *, status: str | None = "unmatched", limit: int = 100
) -> list[BankPayment]:
    """Imported payments in `status` (None: any), oldest first for the queue, newest first
    otherwise (what was done last)."""
    if status is not None and status not in BANK_PAYMENT_STATUSES:
        raise DomainError(
            "invalid_field",
            field="status",
            problem_ru="одно из " + ", ".join(BANK_PAYMENT_STATUSES),
            problem_en="one of " + ", ".join(BANK_PAYMENT_STATUSES),
        )
    if not 1 <= limit <= 1000:
        raise DomainError(
            "invalid_field", field="limit", problem_ru="от 1 до 1000", problem_en="1 to 1000"
        )
    query = select(BankPayment)
    if status is not None:
        query = query.where(BankPayment.status == status)
    order = BankPayment.id if status == "unmatched" else BankPayment.id.desc()
    with session.begin():
        return list(session.scalars(query.order_by(order).limit(limit)))


REASON_MAX = 500  # characters of the reason a payment is not ours


def _unmatched(session: Session, bank_payment_id: int) -> BankPayment:
    """The payment, locked (in the caller's transaction), still waiting in the review
    queue: an operator deals with it once (resolve, credit or dismiss)."""
    row = get_or_404(session, BankPayment, bank_payment_id, "bank payment", lock=True)
    if row.status != "unmatched":
        raise DomainError("bank_payment_resolved", id=bank_payment_id, status=row.status)
    return row


def resolve(
    session: Session, *, bank_payment_id: int, invoice_id: int, actor: str, clock: Clock
) -> BankPayment:
    """An operator assigns an unmatched payment to an invoice: it is registered there. One
    transaction under the payment's row lock (then the subscription's and the invoice's, the
    order of `settlement.lock_invoice`): a payment is resolved, credited or dismissed once."""
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        invoice, subscription = lock_invoice(session, invoice_id)
        now = clock.now()
        payment = session.scalars(  # registered before (as `register_payment` replays it)
            select(Payment).where(
                Payment.method == "bank_transfer", Payment.external_id == row.fingerprint
            )
        ).first()
        if payment is None:
            account = get_or_404(session, Account, invoice.account_id, "account")
            payment = record_payment(
                session,
                invoice=invoice,
                subscription=subscription,
                account=account,
                amount=row.amount,
                method="bank_transfer",
                external_id=row.fingerprint,
                actor=actor,
                now=now,
                today=today_for(session, account, clock),
            )
        row.status, row.invoice_id, row.payment_id = "resolved", invoice_id, payment.id
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.resolved",
            object_type="bank_payment",
            object_id=row.id,
            account_id=invoice.account_id,
            at=now,
            after={"invoice": invoice.number, "amount": str(row.amount)},
        )
    return row


def credit_to_account(
    session: Session, *, bank_payment_id: int, account_id: int, actor: str, clock: Clock
) -> BankPayment:
    """An operator puts an unmatched payment on an account's credit: a known customer's
    prepayment for no invoice in particular. The same credit as an overpayment's
    (`money_ledger.grant_credit` from `cash`), so the account's next invoices use it first;
    no payment of an invoice, no event (the credit path emits none)."""
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        account = get_or_404(session, Account, account_id, "account", lock=True)
        now = clock.now()
        grant_credit(
            session,
            account_id=account.id,
            amount=row.amount,
            reason=f"prepayment: bank payment № {row.doc_number[:50]} of {row.day.isoformat()}",
            actor=actor,
            at=now,
            from_ledger=CASH,
            document=f"bank_payment:{row.id}",
        )
        row.status, row.account_id = "credited", account.id
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.credited",
            object_type="bank_payment",
            object_id=row.id,
            account_id=account.id,
            at=now,
            before={"status": "unmatched"},
            after={"account": account.id, "amount": str(row.amount), "doc_number": row.doc_number},
        )
    return row


def dismiss(
    session: Session, *, bank_payment_id: int, reason: str, actor: str, clock: Clock
) -> BankPayment:
    """An operator sets an unmatched payment aside as not ours (paid to us by mistake, to be
    returned by the bank; for something Podpiska does not bill), saying why. Nothing but the
    payment's status, reason, who and when (and an audit row): no payment, no posting.
    `reopen` takes it back to the queue."""
    text = reason.strip()
    if not text:
        raise DomainError("bank_payment_reason_required", id=bank_payment_id)
    if len(text) > REASON_MAX:
        raise DomainError("bank_payment_reason_too_long", max=REASON_MAX, length=len(text))
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        now = clock.now()
        row.status, row.reason = "dismissed", text
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.dismissed",
            object_type="bank_payment",
            object_id=row.id,
            account_id=None,
            at=now,
            before={"status": "unmatched"},
            after={"reason": text, "amount": str(row.amount), "doc_number": row.doc_number},
        )
    return row


def reopen(session: Session, *, bank_payment_id: int, actor: str, clock: Clock) -> BankPayment:
    """Take a payment set aside as not ours back to the review queue (a mistaken click).
    Only a dismissed one: a resolved or credited payment has moved money."""
    with session.begin():
        row = get_or_404(session, BankPayment, bank_payment_id, "bank payment", lock=True)
        if row.status != "dismissed":
            raise DomainError("bank_payment_not_dismissed", id=bank_payment_id, status=row.status)
        now = clock.now()
        before = {"status": row.status, "reason": row.reason, "by": row.resolved_by}
        row.status, row.reason, row.resolved_by, row.resolved_at = "unmatched", None, None, None
        audit(
            session,
            actor=actor,
            action="bank_payment.reopened",
            object_type="bank_payment",
            object_id=row.id,
            account_id=None,
            at=now,
            before=before,
            after={"status": "unmatched"},
        )
    return row


def expected_activation(paid_on: date) -> tuple[date, date]:
    """When a bank transfer sent on `paid_on` should activate the license: 1 to 3 business
    days later, by the Russian production calendar (holidays and moved working days)."""
    import holidays

    calendar = holidays.country_holidays("RU", years=range(paid_on.year, paid_on.year + 2))

    def business_days_after(day: date, count: int) -> date:
        while count:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in calendar:
                count -= 1
        return day

    return business_days_after(paid_on, 1), business_days_after(paid_on, 3)
