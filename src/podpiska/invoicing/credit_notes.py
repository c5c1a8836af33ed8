"""Credit notes: a paid invoice corrected by its lines negated, in a gapless series of its
own (`CN-2026-000001`; `TEST-CN-` for an account on a test clock), the money to the
customer's credit. The invoice itself never changes; an unpaid one is voided instead.
What the note does to the subscription it paid for is `subscriptions.credit_notes`'.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, emit
from podpiska.invoicing.ledger import (
    CREDIT_NOTE_SERIES,
    TEST_CREDIT_NOTE_SERIES,
    grant_credit,
)
from podpiska.invoicing.models import CreditNote, Invoice, InvoiceLine
from podpiska.invoicing.numbers import format_number, take_numbers


def check_creditable(session: Session, invoice: Invoice) -> None:
    """A credit note is for a paid invoice, once."""
    if invoice.status != "paid":
        raise DomainError("credit_note_not_allowed", number=invoice.number, status=invoice.status)
    already = session.scalar(
        select(func.count()).select_from(CreditNote).where(CreditNote.invoice_id == invoice.id)
    )
    if already:
        raise DomainError("credit_note_exists", number=invoice.number)


def write_credit_note(
    session: Session,
    invoice: Invoice,
    *,
    reason: str,
    test: bool,
    today: date,
    now: datetime,
    actor: str,
) -> CreditNote:
    """Number and store the note of a paid invoice (locked by the caller, checked by
    `check_creditable`), credit its total to the account, audit and announce it. Numbered
    in the year of `today` (the account's day) and dated `now` (the account's clock)."""
    year = today.year
    series = TEST_CREDIT_NOTE_SERIES if test else CREDIT_NOTE_SERIES
    number = ("TEST-CN-" if test else "CN-") + format_number(
        year, take_numbers(session, series, year)
    )
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .order_by(InvoiceLine.position)
    ).all()
    note = CreditNote(
        number=number,
        invoice_id=invoice.id,
        account_id=invoice.account_id,
        total=-invoice.total,
        reason=reason,
        lines=[
            {
                "position": line.position,
                "code": line.code,
                "description": line.description,
                "amount": str(-line.amount),
                "refers_to": f"{invoice.number}/{line.position}",
            }
            for line in lines
        ],
        created_at=now,
        actor=actor,
    )
    session.add(note)
    session.flush()
    grant_credit(
        session,
        account_id=invoice.account_id,
        amount=invoice.total,
        reason=f"credit note {number}",
        actor=actor,
        at=now,
        invoice_id=invoice.id,
    )
    audit(
        session,
        actor=actor,
        action="credit_note.issued",
        object_type="credit_note",
        object_id=note.id,
        account_id=invoice.account_id,
        at=now,
        after={"number": number, "invoice": invoice.number, "total": str(note.total)},
    )
    emit(
        session,
        "credit_note.issued",
        account_id=invoice.account_id,
        subscription_id=invoice.subscription_id,
        occurred_on=today,
        at=now,
        credit_note_id=note.id,
        number=number,
        invoice_number=invoice.number,
        total=note.total,
    )
    return note
