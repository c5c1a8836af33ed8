"""Read-only views for the vendor's back office: an account's events and audit log, the
invoices a bank payment could pay (manual matching) and the accounts whose credit it could
go to, the latest bank payments, and test
clocks with what happened to their accounts.

Each function reads in one transaction (`read_only`) and returns plain values or detached
rows; the writes stay with their use-cases (`review.resolve`, `review.credit_to_account`,
`review.dismiss`, `notifications.redeliver`,
`clocks.create_test_clock`, `lifecycle.advance_test_clock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from podpiska.accounts.models import Account
from podpiska.core.db.session import read_only
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.models import AuditEntry, OutboxEvent, TestClock
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import CreditEntry, Invoice
from podpiska.payments.bank.models import BankPayment
from podpiska.subscriptions.models import Subscription

MAX_ROWS = 500


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_ROWS))


# --- an account's events and audit log ---------------------------------------------------


def account_events(session: Session, *, account_id: int, limit: int = 50) -> list[OutboxEvent]:
    """The account's latest events (the outbox feed of `GET /accounts/{id}/events`),
    newest first."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.account_id == account_id)
                .order_by(OutboxEvent.id.desc())
                .limit(_limit(limit))
            )
        )


def account_audit(session: Session, *, account_id: int, limit: int = 50) -> list[AuditEntry]:
    """Who did what to the account (its rows of the audit log), newest first."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.account_id == account_id)
                .order_by(AuditEntry.id.desc())
                .limit(_limit(limit))
            )
        )


# --- bank payments: manual matching ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceChoice:
    """An invoice still awaiting money, as an operator picks it for a bank payment."""

    id: int
    number: str
    account_id: int
    account_name: str
    inn: str | None
    kind: str
    issued_on: date | None
    total: Decimal
    due: Decimal  # what is left to pay
    currency: str


def _contains(column: QueryableAttribute[Any], text: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive "contains" on both databases (SQLite's LIKE folds ASCII only: the
    usual spellings of a Cyrillic word are tried)."""
    if dialect == "postgresql":
        return column.icontains(text, autoescape=True)
    variants = {text, text.lower(), text.upper(), text.capitalize(), text.title()}
    return or_(*(column.contains(v, autoescape=True) for v in sorted(variants)))


def payable_invoices(session: Session, *, query: str, limit: int = 20) -> list[InvoiceChoice]:
    """Issued invoices whose number, account name, INN or account id matches `query`,
    oldest first (the one waiting longest is the likeliest). An empty query finds none."""
    text = query.strip()[:200]
    if not text:
        return []
    with session.begin():
        read_only(session)
        dialect = session.get_bind().dialect.name
        matches = [
            _contains(Invoice.number, text, dialect),
            _contains(Account.name, text, dialect),
            Account.inn.contains(text, autoescape=True),
        ]
        if text.isdigit() and len(text) < 19:
            matches.append(Account.id == int(text))
        rows = session.execute(
            select(Invoice, Account.name, Account.inn)
            .join(Account, Account.id == Invoice.account_id)
            .where(Invoice.status == "issued", Invoice.number.is_not(None), or_(*matches))
            .order_by(Invoice.id)
            .limit(_limit(limit))
        ).all()
    return [
        InvoiceChoice(
            id=invoice.id,
            number=invoice.number or "",
            account_id=invoice.account_id,
            account_name=name,
            inn=inn,
            kind=invoice.kind,
            issued_on=invoice.issued_on,
            total=invoice.total,
            due=invoice.total - invoice.amount_paid,
            currency=invoice.currency,
        )
        for invoice, name, inn in rows
    ]


@dataclass(frozen=True, slots=True)
class InvoiceBrief:
    id: int
    number: str | None
    status: str
    account_id: int
    account_name: str


def invoice_brief(session: Session, *, invoice_id: int) -> InvoiceBrief:
    """An invoice's number, status and account, as they are now."""
    with session.begin():
        read_only(session)
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        account = session.get_one(Account, invoice.account_id)
        return InvoiceBrief(invoice.id, invoice.number, invoice.status, account.id, account.name)


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """An account, as an operator picks it to put a bank payment on its credit."""

    id: int
    name: str
    inn: str | None
    credit: Decimal  # its credit now


def credit_accounts(session: Session, *, query: str, limit: int = 20) -> list[AccountChoice]:
    """Accounts whose name, INN or id matches `query`, by id, with their credit balance
    (for a prepayment to their credit: `review.credit_to_account`). An empty query finds
    none."""
    text = query.strip()[:200]
    if not text:
        return []
    credit = (
        select(CreditEntry.account_id, func.sum(CreditEntry.amount).label("balance"))
        .group_by(CreditEntry.account_id)
        .subquery("credit")
    )
    with session.begin():
        read_only(session)
        dialect = session.get_bind().dialect.name
        matches = [
            _contains(Account.name, text, dialect),
            Account.inn.contains(text, autoescape=True),
        ]
        if text.isdigit() and len(text) < 19:
            matches.append(Account.id == int(text))
        rows = session.execute(
            select(Account.id, Account.name, Account.inn, credit.c.balance)
            .outerjoin(credit, credit.c.account_id == Account.id)
            .where(or_(*matches))
            .order_by(Account.id)
            .limit(_limit(limit))
        ).all()
    return [
        AccountChoice(id=i, name=name, inn=inn, credit=balance or Decimal("0.00"))
        for i, name, inn, balance in rows
    ]


def credit_account(session: Session, *, account_id: int) -> AccountChoice:
    """One account's name, INN and credit balance, as they are now."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        balance = session.scalar(
            select(func.sum(CreditEntry.amount)).where(CreditEntry.account_id == account_id)
        )
        return AccountChoice(account.id, account.name, account.inn, balance or Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class BankPaymentRow:
    payment: BankPayment
    invoice_number: str | None
    account_id: int | None  # of the invoice it paid, or of the credit it went to
    account_name: str | None = None  # the credited account's


def latest_bank_payments(session: Session, *, limit: int = 20) -> list[BankPaymentRow]:
    """The bank payments imported or resolved last (any status), newest first, with the
    invoice each one paid (or the account whose credit it went to)."""
    with session.begin():
        read_only(session)
        rows = session.execute(
            select(BankPayment, Invoice.number, Invoice.account_id, Account.name)
            .outerjoin(Invoice, Invoice.id == BankPayment.invoice_id)
            .outerjoin(Account, Account.id == BankPayment.account_id)
            .order_by(BankPayment.id.desc())
            .limit(_limit(limit))
        ).all()
    return [
        BankPaymentRow(p, number, account_id or p.account_id, name)
        for p, number, account_id, name in rows
    ]


# --- test clocks -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestClockRow:
    __test__ = False  # not a pytest class

    id: int
    name: str
    now: datetime
    created_at: datetime
    accounts: int


def list_test_clocks(session: Session, *, limit: int = 100) -> list[TestClockRow]:
    """The test clocks, newest first, with how many accounts live on each."""
    counts = (
        select(Account.test_clock_id, func.count().label("n"))
        .where(Account.test_clock_id.is_not(None))
        .group_by(Account.test_clock_id)
        .subquery("counts")
    )
    with session.begin():
        read_only(session)
        rows = session.execute(
            select(TestClock, counts.c.n)
            .outerjoin(counts, counts.c.test_clock_id == TestClock.id)
            .order_by(TestClock.id.desc())
            .limit(_limit(limit))
        ).all()
    return [TestClockRow(c.id, c.name, c.now, c.created_at, int(n or 0)) for c, n in rows]


@dataclass(frozen=True, slots=True)
class ClockAccount:
    id: int
    name: str
    state: str  # a subscription status, or "none"
    plan: str | None
    paid_through: date | None


@dataclass(frozen=True, slots=True)
class TestClockActivity:
    """A test clock and what happened on it: its accounts as they are now, their events
    (newest first) and the clock's own audit rows (created, advanced)."""

    __test__ = False  # not a pytest class

    clock: TestClock
    accounts: list[ClockAccount]
    events: list[OutboxEvent]
    history: list[AuditEntry]


def test_clock_activity(session: Session, *, clock_id: int, limit: int = 100) -> TestClockActivity:
    latest = (
        select(Subscription.account_id, func.max(Subscription.id).label("id"))
        .group_by(Subscription.account_id)
        .subquery("latest")
    )
    with session.begin():
        read_only(session)
        clock = get_or_404(session, TestClock, clock_id, "test_clock")
        rows = session.execute(
            select(
                Account.id,
                Account.name,
                Subscription.status,
                Subscription.plan,
                Subscription.ends_on,
            )
            .outerjoin(latest, latest.c.account_id == Account.id)
            .outerjoin(Subscription, Subscription.id == latest.c.id)
            .where(Account.test_clock_id == clock_id)
            .order_by(Account.id)
        ).all()
        on_clock = select(Account.id).where(Account.test_clock_id == clock_id)
        events = list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.account_id.in_(on_clock))
                .order_by(OutboxEvent.id.desc())
                .limit(_limit(limit))
            )
        )
        history = list(
            session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.object_type == "test_clock",
                    AuditEntry.object_id == str(clock_id),
                )
                .order_by(AuditEntry.id.desc())
                .limit(_limit(limit))
            )
        )
    accounts = [
        ClockAccount(
            id=account_id,
            name=name,
            state=status or "none",
            plan=plan,
            paid_through=ends_on - ONE_DAY if ends_on else None,
        )
        for account_id, name, status, plan, ends_on in rows
    ]
    return TestClockActivity(clock, accounts, events, history)
