"""What a credit note would be, read before it is issued (the back office's preview): the
account's paid invoices it can be written on, and for one of them the lines negated, the
total and the VAT in it, exactly as `invoicing.credit_notes.write_credit_note` writes them.
Nothing is written; the note itself is issued by `subscriptions.credit_notes`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.records import get_or_404, not_found
from podpiska.invoicing.credit_notes import check_creditable
from podpiska.invoicing.models import CreditNote, Invoice, InvoiceLine


@dataclass(frozen=True)
class NoteLine:
    position: int
    description: str
    amount: Decimal  # negated


@dataclass(frozen=True)
class NotePreview:
    invoice: Invoice
    lines: list[NoteLine]
    total: Decimal  # negated: what the note takes back
    vat_amount: Decimal  # negated
    to_credit: Decimal  # what goes to the account's credit


def creditable_invoices(session: Session, *, account_id: int) -> list[Invoice]:
    """Use-case (read): the account's paid invoices with no credit note yet, newest first."""
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        noted = select(CreditNote.invoice_id)
        found = list(
            session.scalars(
                select(Invoice)
                .where(
                    Invoice.account_id == account_id,
                    Invoice.status == "paid",
                    Invoice.number.is_not(None),
                    Invoice.id.not_in(noted),
                )
                .order_by(Invoice.id.desc())
                .limit(200)
            )
        )
        session.expunge_all()
        return found


def preview_credit_note(session: Session, *, account_id: int, invoice_id: int) -> NotePreview:
    """Use-case (read): the note a paid invoice of the account would get, or the reason it
    cannot (`credit_note_not_allowed`, `credit_note_exists`); another account's invoice is
    not found."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        if invoice.account_id != account_id:
            raise not_found("invoice", invoice_id)
        check_creditable(session, invoice)
        lines = [
            NoteLine(position=line.position, description=line.description, amount=-line.amount)
            for line in session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        ]
        session.expunge_all()
    return NotePreview(
        invoice=invoice,
        lines=lines,
        total=-invoice.total,
        vat_amount=-invoice.vat_amount,
        to_credit=invoice.total,
    )
