"""Helpers shared by the use-case tests: moving the clock, opening an account and buying a
subscription through the real use-cases, counting rows, and the check every invoice test
makes (its lines sum to its total)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from podpiska.accounts import accounts
from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.core.db.base import Base
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.invoicing.models import Invoice, InvoiceLine, Payment, ServicePlan
from podpiska.ports import Clock
from podpiska.subscriptions import billing, settlement
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription

PROJECT = Path(__file__).resolve().parents[1]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 22, 12, 0, tzinfo=MSK)
ACTOR = "user:test@vendor.example"
GOOD_INN = "7707083893"

# Every table a use-case writes to: "a refused call writes nothing" compares them all.
WRITTEN_TABLES: tuple[type[Base], ...] = (
    Account,
    AuditEntry,
    Invoice,
    InvoiceLine,
    LicenseLedgerEntry,
    OutboxEvent,
    Payment,
    Subscription,
)


def move_to(clock: FixedClock, day: date, hour: int = 12) -> None:
    """Set the clock to `hour` o'clock in Moscow on `day`."""
    clock.instant = datetime.combine(day, time(hour), tzinfo=MSK)


def count(db: Session, model: type[Base], *where: ColumnElement[bool]) -> int:
    with db.begin():
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def row_counts(db: Session) -> dict[str, int]:
    return {model.__tablename__: count(db, model) for model in WRITTEN_TABLES}


def open_account(
    db: Session, clock: FixedClock, *, name: str = "ООО «Ромашка»", email: str = "", **kw: Any
) -> Account:
    return accounts.open_account(
        db,
        name=name,
        admin_email=email or f"admin{count(db, Account) + 1}@romashka.example",
        actor=ACTOR,
        clock=clock,
        **kw,
    )


def order(
    db: Session, clock: FixedClock, account_id: int, *, plan: str = "basic", months: int = 12,
    **kw: Any,
) -> billing.Order:  # fmt: skip
    return billing.order_subscription(
        db, account_id=account_id, plan=plan, months=months, actor=ACTOR, clock=clock, **kw
    )


def pay(
    db: Session,
    clock: FixedClock,
    invoice: Invoice | int,
    amount: Decimal | None = None,
    **kw: Any,
) -> settlement.PaymentResult:
    """Register a payment of `amount` (by default what is still due) for the invoice.

    Pass an id after a refused call: a rolled-back transaction expires the session's
    objects, and a session without autobegin cannot reload them."""
    invoice_id = invoice if isinstance(invoice, int) else invoice.id
    with db.begin():
        fresh = db.get(Invoice, invoice_id, populate_existing=True)
        assert fresh is not None
        due = fresh.total - fresh.amount_paid
    return settlement.register_payment(
        db,
        invoice_id=invoice_id,
        amount=due if amount is None else amount,
        method=kw.pop("method", "bank_transfer"),
        actor=ACTOR,
        clock=clock,
        **kw,
    )


def active_subscription(
    db: Session, clock: FixedClock, *, plan: str = "basic", months: int = 12, **kw: Any
) -> tuple[Account, Subscription]:
    """An account whose subscription is ordered and paid in full today."""
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan=plan, months=months, **kw)
    paid = pay(db, clock, ordered.invoice)
    assert paid.subscription.status == "active"
    return account, paid.subscription


def subscription_of(db: Session, account_id: int) -> Subscription:
    with db.begin():
        found = db.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.id.desc())
        ).first()
    assert found is not None
    return found


def invoice_by_id(db: Session, invoice_id: int) -> Invoice:
    with db.begin():
        found = db.get(Invoice, invoice_id, populate_existing=True)
    assert found is not None
    return found


def assert_lines_sum_to_total(db: Session, invoice: Invoice) -> list[InvoiceLine]:
    """The lines of the stored invoice add up to its total; subtotal − discount = total."""
    stored = invoice_by_id(db, invoice.id)
    with db.begin():
        lines = list(
            db.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        )
    assert lines, f"invoice {stored.number} has no lines"
    assert sum((line.amount for line in lines), Decimal(0)) == stored.total
    assert stored.subtotal - stored.discount == stored.total
    assert [line.position for line in lines] == list(range(1, len(lines) + 1))
    return lines


def events(db: Session, event_type: str | None = None, **where: Any) -> list[OutboxEvent]:
    conditions: list[ColumnElement[bool]] = []
    if event_type is not None:
        conditions.append(OutboxEvent.type == event_type)
    for name, value in where.items():
        conditions.append(getattr(OutboxEvent, name) == value)
    with db.begin():
        return list(db.scalars(select(OutboxEvent).where(*conditions).order_by(OutboxEvent.id)))


def ledger(db: Session, subscription_id: int) -> list[LicenseLedgerEntry]:
    with db.begin():
        return list(
            db.scalars(
                select(LicenseLedgerEntry)
                .where(LicenseLedgerEntry.subscription_id == subscription_id)
                .order_by(LicenseLedgerEntry.id)
            )
        )


def customer_actor(db: Session, clock: Clock, account_id: int) -> str:
    """The actor of one of the account's own (an `account_admin` key of it): what only
    the customer may do (consent to recurring charges, autopay on) is done as this."""
    from podpiska.accounts.apikeys import create_api_key

    key, _secret = create_api_key(
        db, role="account_admin", account_id=account_id, actor=ACTOR, clock=clock
    )
    return f"apikey:{key.prefix}"


def as_paid_before_0012(db: Session) -> int:
    """Give every paid invoice without a plan the plan `act`, as revision 0012 gave the
    invoices paid before it: the month-end run never certifies them, and the per-invoice
    act closes them at the end of their term (the only invoices it still closes, with those
    that have no term). For the tests of that act. Returns how many were marked."""
    with db.begin():
        unplanned = db.execute(
            select(Invoice.id, Invoice.account_id, Invoice.paid_at, Invoice.created_at).where(
                Invoice.status == "paid",
                ~select(ServicePlan.invoice_id)
                .where(ServicePlan.invoice_id == Invoice.id)
                .exists(),
            )
        ).all()
        for invoice_id, account_id, paid_at, created_at in unplanned:
            db.add(
                ServicePlan(
                    invoice_id=invoice_id,
                    account_id=account_id,
                    by="act",
                    planned_at=paid_at or created_at,
                )
            )
    return len(unplanned)
