"""Issuing invoices: gapless numbers per year, lines from a quote, never changed after.

An invoice is numbered in the transaction that issues it (`2026-000123`): the sequence row
stays locked until commit, so a rolled-back issue leaves no gap and two issuers never share
a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.catalog.domain.pricing import Quote
from podpiska.core.db.models import Account, Invoice, InvoiceLine, NumberSequence, Subscription
from podpiska.core.domain.money import ZERO, plain_decimal
from podpiska.core.domain.terms import Term
from podpiska.core.records import audit, emit
from podpiska.invoicing.ledger import DEFERRED, RECEIVABLE, grant_credit, post

INVOICE_SERIES = "invoice"
TEST_SERIES = "test_invoice"  # accounts on a test clock: never the real numbering
PAYMENT_DAYS = 5  # an invoice is due this many days after it is issued


def take_numbers(session: Session, series: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers; returns the first. Call inside a transaction."""
    bump = (
        update(NumberSequence)
        .where(NumberSequence.series == series, NumberSequence.year == year)
        .values(last_value=NumberSequence.last_value + count)
        .returning(NumberSequence.last_value)
    )
    last = session.execute(bump).scalar_one_or_none()
    if last is None:
        try:
            with session.begin_nested():
                session.add(NumberSequence(series=series, year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created it first
        last = session.execute(bump).scalar_one()
    return last - count + 1


def format_number(year: int, value: int, *, test: bool = False) -> str:
    """`2026-000123`; invoices of accounts on a test clock read `TEST-2026-000123`."""
    return f"{'TEST-' if test else ''}{year}-{value:06d}"


def series(test: bool) -> str:
    return TEST_SERIES if test else INVOICE_SERIES


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    kind: str  # order | renewal
    quote: Quote
    term: Term | None  # None for an order: the term starts on the day it is paid
    promotions: tuple[str, ...] = ()


def issue_invoice(
    session: Session,
    *,
    account: Account,
    subscription: Subscription,
    draft: InvoiceDraft,
    today: date,
    now: datetime,
    actor: str,
) -> Invoice:
    """Number and store an invoice with its lines; emit `invoice.issued`. In a transaction."""
    q = draft.quote
    number = next_number(session, account, today)
    vat = q.vat
    invoice = Invoice(
        number=number,
        account_id=account.id,
        subscription_id=subscription.id,
        kind=draft.kind,
        status="issued",
        currency=q.currency,
        catalog_version=q.catalog_version,
        plan=q.plan,
        months=q.months,
        seats=q.users,
        add_ons=[line.code for line in q.lines if line.kind.value == "add_on"],
        promotions=list(draft.promotions),
        term_starts_on=draft.term.starts_on if draft.term else None,
        term_ends_on=draft.term.ends_on if draft.term else None,
        subtotal=q.subtotal,
        discount=q.discount,
        total=q.total,
        vat_mode=vat.mode.value if vat else "mixed",
        vat_rate=plain_decimal(vat.rate) if vat else None,
        vat_amount=q.vat_amount,
        amount_paid=ZERO,
        issued_on=today,
        due_on=today + timedelta(days=PAYMENT_DAYS),
        issued_at=now,
        created_at=now,
    )
    lines = [
        InvoiceLine(
            position=position,
            kind=line.kind.value,
            code=line.code,
            description=line.description("ru"),
            quantity=line.quantity,
            months=line.months,
            unit_price=line.unit_price,
            discount_percent=plain_decimal(line.discount_percent),
            amount=line.amount,
            explain=line.explain(q.currency, "ru"),
            vat_mode=line.vat.mode.value,
            vat_rate=plain_decimal(line.vat.rate),
        )
        for position, line in enumerate(q.lines, 1)
    ]
    return store_issued(
        session, invoice, lines, subscription=subscription, today=today, now=now, actor=actor
    )


def next_number(session: Session, account: Account, today: date) -> str:
    """The next gapless invoice number of the year (a test clock's account: its own)."""
    test = account.test_clock_id is not None
    return format_number(today.year, take_numbers(session, series(test), today.year), test=test)


def store_issued(
    session: Session,
    invoice: Invoice,
    lines: list[InvoiceLine],
    *,
    subscription: Subscription,
    today: date,
    now: datetime,
    actor: str,
) -> Invoice:
    """Store an issued invoice with its lines, post it to the journal, write its audit row
    and its `invoice.issued` event. In the caller's transaction."""
    session.add(invoice)
    session.flush()
    for line in lines:
        line.invoice_id = invoice.id
    session.add_all(lines)
    post(
        session,
        account_id=invoice.account_id,
        debit=RECEIVABLE,
        credit=DEFERRED,
        amount=invoice.total,
        kind="invoice",
        document=f"invoice:{invoice.id}",
        at=now,
    )
    audit(
        session,
        actor=actor,
        action="invoice.issued",
        object_type="invoice",
        object_id=invoice.id,
        account_id=invoice.account_id,
        at=now,
        after={"number": invoice.number, "total": str(invoice.total), "kind": invoice.kind},
    )
    emit(
        session,
        "invoice.issued",
        account_id=invoice.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        invoice_id=invoice.id,
        number=invoice.number,
        total=invoice.total,
        due_on=invoice.due_on,
        kind=invoice.kind,
    )
    return invoice


def void_invoice(
    session: Session, *, invoice: Invoice, reason: str, today: date, now: datetime, actor: str
) -> None:
    """An unpaid (or partly paid) invoice is voided; its number stays used and what was
    paid on it goes to the account's credit. In a transaction."""
    if invoice.status != "issued":
        return
    invoice.status = "void"
    invoice.voided_at = now
    paid = invoice.amount_paid
    post(
        session,
        account_id=invoice.account_id,
        debit=DEFERRED,
        credit=RECEIVABLE,
        amount=invoice.total - paid,
        kind="invoice_void",
        document=f"invoice:{invoice.id}",
        at=now,
    )
    if paid > ZERO:  # what was already paid on it is the customer's credit
        grant_credit(
            session,
            account_id=invoice.account_id,
            amount=paid,
            reason=f"paid on voided invoice {invoice.number}",
            actor=actor,
            at=now,
            invoice_id=invoice.id,
        )
    audit(
        session,
        actor=actor,
        action="invoice.voided",
        object_type="invoice",
        object_id=invoice.id,
        account_id=invoice.account_id,
        at=now,
        before={"status": "issued"},
        after={"status": "void", "reason": reason},
    )
    emit(
        session,
        "invoice.voided",
        account_id=invoice.account_id,
        subscription_id=invoice.subscription_id,
        occurred_on=today,
        at=now,
        invoice_id=invoice.id,
        number=invoice.number,
        reason=reason,
    )


def invoice_lines(session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )
