"""Issuing invoices: the one writer of invoice rows, one due-date rule, never changed after.

Every invoice — an order, a renewal (one, or the daily run's thousands), a mid-term change —
is written by `write_invoices`: numbered gaplessly (`invoicing.numbers`), dated, its lines,
its journal posting (receivable against deferred revenue), its audit row and its
`invoice.issued` event, all in bulk (COPY on PostgreSQL) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.pricing import Quote
from podpiska.core.db.bulk import bulk_insert, reserve_ids
from podpiska.core.domain.money import ZERO, plain_decimal
from podpiska.core.domain.terms import Term
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.core.records import audit, emit, jsonable
from podpiska.invoicing.ledger import DEFERRED, RECEIVABLE, grant_credit, journal_rows, post
from podpiska.invoicing.models import Invoice, InvoiceLine, JournalEntry
from podpiska.invoicing.numbers import format_number, series, take_numbers

PAYMENT_DAYS = 5  # an invoice is due at most this many days after it is issued


def due_date(issued_on: date, *, term_starts_on: date | None, deadline: date | None) -> date:
    """The one due-date rule: `PAYMENT_DAYS` after the invoice is issued, but no later than
    the day the term it pays for starts (when that is still ahead) nor than the `deadline`
    of what it pays for (a change's offer lapses)."""
    due = issued_on + timedelta(days=PAYMENT_DAYS)
    if term_starts_on is not None and term_starts_on > issued_on:
        due = min(due, term_starts_on)
    if deadline is not None:
        due = min(due, max(deadline, issued_on))
    return due


@dataclass(frozen=True, slots=True)
class NewInvoice:
    """What an invoice says before it is written: the writer numbers it, dates it and makes
    it due. `lines` are the invoice lines' columns (no `invoice_id`), shared by every
    invoice of one quote; `notes` go into its audit row and its event (`autopay`)."""

    account_id: int
    subscription_id: int
    test: bool  # the account is on a test clock: the test series
    kind: str  # order | renewal | change
    currency: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    add_ons: tuple[str, ...]
    term_starts_on: date | None  # None for an order: the term starts on the day it is paid
    term_ends_on: date | None
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    vat_mode: str
    vat_rate: str | None
    vat_amount: Decimal
    lines: Sequence[Mapping[str, Any]]
    promotions: tuple[str, ...] = ()
    deadline: date | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_quote(
        cls,
        q: Quote,
        *,
        account_id: int,
        subscription_id: int,
        test: bool,
        kind: str,
        term: Term | None,
        promotions: tuple[str, ...] = (),
        lines: Sequence[Mapping[str, Any]] | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> NewInvoice:
        """The invoice of a quote (`lines`: its `quote_lines`, when the caller has them)."""
        vat = q.vat
        return cls(
            account_id=account_id,
            subscription_id=subscription_id,
            test=test,
            kind=kind,
            currency=q.currency,
            catalog_version=q.catalog_version,
            plan=q.plan,
            months=q.months,
            seats=q.users,
            add_ons=tuple(line.code for line in q.lines if line.kind.value == "add_on"),
            term_starts_on=term.starts_on if term else None,
            term_ends_on=term.ends_on if term else None,
            subtotal=q.subtotal,
            discount=q.discount,
            total=q.total,
            vat_mode=vat.mode.value if vat else "mixed",
            vat_rate=plain_decimal(vat.rate) if vat else None,
            vat_amount=q.vat_amount,
            lines=quote_lines(q) if lines is None else lines,
            promotions=promotions,
            notes=notes or {},
        )


def quote_lines(q: Quote) -> list[dict[str, Any]]:
    """The invoice lines of a quote, as columns (the same for every invoice of that quote)."""
    return [
        {
            "position": position,
            "kind": line.kind.value,
            "code": line.code,
            "description": line.description("ru"),
            "quantity": line.quantity,
            "months": line.months,
            "unit_price": line.unit_price,
            "discount_percent": plain_decimal(line.discount_percent),
            "amount": line.amount,
            "explain": line.explain(q.currency, "ru"),
            "vat_mode": line.vat.mode.value,
            "vat_rate": plain_decimal(line.vat.rate),
        }
        for position, line in enumerate(q.lines, 1)
    ]


def write_invoices(
    session: Session,
    invoices: Sequence[NewInvoice],
    *,
    today: date,
    now: datetime,
    actor: str,
) -> list[int]:
    """Number, date and store `invoices` with their lines, journal postings, audit rows and
    `invoice.issued` events, in bulk; returns their ids in order. In the caller's
    transaction (pending ORM changes are flushed first)."""
    if not invoices:
        return []
    session.flush()
    numbers: list[str] = [""] * len(invoices)
    for test in (False, True):  # the real series first, then the test clocks' one
        mine = [n for n, new in enumerate(invoices) if new.test is test]
        if mine:
            first = take_numbers(session, series(test), today.year, len(mine))
            for k, n in enumerate(mine):
                numbers[n] = format_number(today.year, first + k, test=test)
    ids = reserve_ids(session, Invoice, len(invoices))
    rows: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    journal: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n, (invoice_id, new) in enumerate(zip(ids, invoices, strict=True)):
        number = numbers[n]
        due_on = due_date(today, term_starts_on=new.term_starts_on, deadline=new.deadline)
        rows.append(
            {
                "id": invoice_id,
                "number": number,
                "account_id": new.account_id,
                "subscription_id": new.subscription_id,
                "kind": new.kind,
                "status": "issued",
                "currency": new.currency,
                "catalog_version": new.catalog_version,
                "plan": new.plan,
                "months": new.months,
                "seats": new.seats,
                "add_ons": list(new.add_ons),
                "promotions": list(new.promotions),
                "term_starts_on": new.term_starts_on,
                "term_ends_on": new.term_ends_on,
                "subtotal": new.subtotal,
                "discount": new.discount,
                "total": new.total,
                "vat_mode": new.vat_mode,
                "vat_rate": new.vat_rate,
                "vat_amount": new.vat_amount,
                "amount_paid": ZERO,
                "issued_on": today,
                "due_on": due_on,
                "issued_at": now,
                "created_at": now,
            }
        )
        lines.extend({**line, "invoice_id": invoice_id} for line in new.lines)
        if new.total != ZERO:
            journal.extend(
                journal_rows(
                    new.account_id,
                    RECEIVABLE,
                    DEFERRED,
                    new.total,
                    "invoice",
                    f"invoice:{invoice_id}",
                    now,
                )
            )
        said = {"number": number, "total": str(new.total), "kind": new.kind, **new.notes}
        audits.append(
            {
                "at": now,
                "actor": actor,
                "action": "invoice.issued",
                "object_type": "invoice",
                "object_id": str(invoice_id),
                "account_id": new.account_id,
                "before": None,
                "after": jsonable(said),
            }
        )
        events.append(
            {
                "type": "invoice.issued",
                "account_id": new.account_id,
                "subscription_id": new.subscription_id,
                "occurred_on": today,
                "payload": jsonable(
                    {
                        "invoice_id": invoice_id,
                        "number": number,
                        "total": new.total,
                        "due_on": due_on,
                        "kind": new.kind,
                        **new.notes,
                    }
                ),
                "created_at": now,
                "fanned_out": False,
            }
        )
    bulk_insert(session, Invoice, rows)
    bulk_insert(session, InvoiceLine, lines)
    bulk_insert(session, JournalEntry, journal)
    bulk_insert(session, AuditEntry, audits)
    bulk_insert(session, OutboxEvent, events)
    return ids


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
    subscription_id: int,
    draft: InvoiceDraft,
    today: date,
    now: datetime,
    actor: str,
) -> Invoice:
    """One invoice of a quote, through `write_invoices`. In a transaction."""
    new = NewInvoice.of_quote(
        draft.quote,
        account_id=account.id,
        subscription_id=subscription_id,
        test=account.test_clock_id is not None,
        kind=draft.kind,
        term=draft.term,
        promotions=draft.promotions,
    )
    return written(session, write_invoices(session, [new], today=today, now=now, actor=actor)[0])


def written(session: Session, invoice_id: int) -> Invoice:
    """The invoice just written, as an object of the session."""
    invoice = session.get(Invoice, invoice_id)
    assert invoice is not None
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
