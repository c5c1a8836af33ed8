"""Finding documents: the source of a document named by its number or an id (the CLI), and
an account's documents for its administrator (invoices that went out, acts, credit notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.scope import Scope
from podpiska.core.records import not_found
from podpiska.invoicing.document_fixes import find_fix
from podpiska.invoicing.documents import (
    ACT,
    ADVANCE,
    CORRECTION,
    CREDIT_NOTE,
    INVOICE,
    INVOICE_FACTURA,
    INVOICE_STATUSES,
    UPD,
    check_kind,
    has_invoice_factura,
    local_day,
)
from podpiska.invoicing.models import (
    Advance,
    Closing,
    Correction,
    CreditNote,
    Document,
    DocumentFix,
    Invoice,
)


def resolve_source(session: Session, *, kind: str, reference: str) -> int:
    """The source id of a document named by a number or an id: an invoice's number, an
    act's number (or its invoice's), a credit note's number; digits alone are an id (the
    invoice's for `invoice` and `act`, the note's for `credit_note`, the closing's for
    `upd`, whose number is the closing's)."""
    check_kind(kind)
    text = reference.strip()
    if text.isdigit():
        return int(text)
    with session.begin():
        found: int | None
        if kind == CREDIT_NOTE:
            found = session.scalar(select(CreditNote.id).where(CreditNote.number == text))
        elif kind in (UPD, INVOICE_FACTURA):
            found = session.scalar(select(Closing.id).where(Closing.number == text))
        elif kind == ADVANCE:
            found = session.scalar(select(Advance.id).where(Advance.number == text))
        elif kind == CORRECTION:
            found = session.scalar(select(Correction.id).where(Correction.number == text))
        else:
            found = None
            if kind == ACT:
                found = session.scalar(
                    select(Document.source_id).where(Document.kind == ACT, Document.number == text)
                )
            if found is None:
                found = session.scalar(select(Invoice.id).where(Invoice.number == text))
    if found is None:
        raise not_found(
            {
                CREDIT_NOTE: "credit_note",
                UPD: "upd",
                INVOICE_FACTURA: "upd",
                ADVANCE: "advance",
                CORRECTION: "correction",
            }.get(kind, kind),
            text,
        )
    return found


def resolve_fix(session: Session, *, kind: str, source_id: int, fix_no: int, scope: Scope) -> int:
    """The id of the исправление № `fix_no` of a УПД (`kind` upd, source the closing) or an
    advance счёт-фактура (`advance`); not found when it does not exist or its account is
    outside the caller's `scope`."""
    with session.begin():
        fix = find_fix(session, kind=kind, source_id=source_id, fix_no=fix_no)
        if not scope.may_see(fix.account_id):
            raise not_found("document_fix", f"{source_id}/{fix_no}")
        return fix.id


# -- an account's documents, for its administrator -------------------------------------------


@dataclass(frozen=True, slots=True)
class FixRow:
    """An исправление of a document, listed under it."""

    fix_no: int
    day: date
    reason: str
    id: int  # the document_fixes row: the source of its `upd_fix` / `advance_fix` document


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One document an account can download: an invoice, the act of a paid invoice, or a
    credit note. Acts are listed once made (the last day of their period)."""

    kind: str  # invoice | act | credit_note | upd | advance | correction | invoice_factura
    source_id: int  # the invoice (invoice, act), the credit note or the closing (upd,
    # invoice_factura)
    number: str | None
    day: date | None
    total: Decimal
    currency: str
    invoice_number: str | None  # the invoice it belongs to
    invoice_kind: str | None
    status: str | None  # the invoice's status (invoice documents)
    fixes: tuple[FixRow, ...] = ()  # its исправления (a УПД's, an advance's), first first
    form: str | None = None  # a closing's (upd): printed as a УПД ("upd") or an act ("act")


def account_documents(session: Session, *, account_id: int, limit: int = 200) -> list[DocumentRow]:
    """The account's invoices that went out, the acts of those paid in full (the kinds that
    have one), its УПД and its credit notes, newest first; the same sources `get_document_pdf`
    serves."""
    from podpiska.core.db.session import read_only
    from podpiska.core.records import get_or_404

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        invoices = list(
            session.scalars(
                select(Invoice)
                .where(
                    Invoice.account_id == account_id,
                    Invoice.number.is_not(None),
                    Invoice.status.in_(INVOICE_STATUSES),
                )
                .order_by(Invoice.id.desc())
                .limit(limit)
            )
        )
        acts = {
            source: (number, issued_on)
            for source, number, issued_on in session.execute(
                select(Document.source_id, Document.number, Document.issued_on).where(
                    Document.account_id == account_id, Document.kind == ACT
                )
            )
        }
        notes = list(
            session.scalars(
                select(CreditNote)
                .where(CreditNote.account_id == account_id)
                .order_by(CreditNote.id.desc())
                .limit(limit)
            )
        )
        sources = {invoice.id: (invoice.number, invoice.currency) for invoice in invoices}
        missing = {note.invoice_id for note in notes} - set(sources)
        if missing:
            for found_id, found_number, found_currency in session.execute(
                select(Invoice.id, Invoice.number, Invoice.currency).where(Invoice.id.in_(missing))
            ):
                sources[found_id] = (found_number, found_currency)
        timezone = account.timezone
        fixes: dict[tuple[str, int], list[FixRow]] = {}
        for fix in session.scalars(
            select(DocumentFix)
            .where(DocumentFix.account_id == account_id)
            .order_by(DocumentFix.fix_no)
        ):
            fixes.setdefault((fix.kind, fix.source_id), []).append(
                FixRow(fix.fix_no, fix.issued_on, fix.reason, fix.id)
            )
        rows: list[DocumentRow] = []
        for invoice in invoices:
            rows.append(
                DocumentRow(
                    INVOICE,
                    invoice.id,
                    invoice.number,
                    invoice.issued_on,
                    invoice.total,
                    invoice.currency,
                    invoice.number,
                    invoice.kind,
                    invoice.status,
                )
            )
            if invoice.id in acts:  # an act is made once its period has been rendered
                number, issued_on = acts[invoice.id]
                rows.append(
                    DocumentRow(
                        ACT,
                        invoice.id,
                        number,
                        issued_on,
                        invoice.total,
                        invoice.currency,
                        invoice.number,
                        invoice.kind,
                        None,
                    )
                )
        for closing in session.scalars(
            select(Closing)
            .where(Closing.account_id == account_id)
            .order_by(Closing.id.desc())
            .limit(limit)
        ):  # the УПД of the month-end run: made with their rows, listed at once
            rows.append(
                DocumentRow(
                    UPD,
                    closing.id,
                    closing.number,
                    closing.issued_on,
                    closing.total,
                    "RUB",
                    None,
                    None,
                    None,
                    tuple(fixes.get((UPD, closing.id), ())),
                    closing.form,
                )
            )
            if has_invoice_factura(closing.form, closing.vat):  # beside its act
                rows.append(
                    DocumentRow(
                        INVOICE_FACTURA,
                        closing.id,
                        closing.number,
                        closing.issued_on,
                        closing.total,
                        "RUB",
                        None,
                        None,
                        None,
                        (),
                        closing.form,
                    )
                )
        for advance in session.scalars(
            select(Advance)
            .where(Advance.account_id == account_id, Advance.number.is_not(None))
            .order_by(Advance.id.desc())
            .limit(limit)
        ):  # the advance счета-фактуры of the month-end run
            rows.append(
                DocumentRow(
                    ADVANCE,
                    advance.id,
                    advance.number or "",
                    advance.issued_on,
                    advance.amount,
                    "RUB",
                    None,
                    None,
                    None,
                    tuple(fixes.get((ADVANCE, advance.id), ())),
                )
            )
        for correction in session.scalars(
            select(Correction)
            .where(Correction.account_id == account_id)
            .order_by(Correction.id.desc())
            .limit(limit)
        ):  # the УКД of the УПД a credit note took back
            rows.append(
                DocumentRow(
                    CORRECTION,
                    correction.id,
                    correction.number,
                    correction.issued_on,
                    -correction.decrease,
                    "RUB",
                    None,
                    None,
                    None,
                )
            )
        for note in notes:
            rows.append(
                DocumentRow(
                    CREDIT_NOTE,
                    note.id,
                    note.number,
                    local_day(note.created_at, timezone, note.created_at),
                    note.total,
                    sources[note.invoice_id][1],
                    sources[note.invoice_id][0],
                    None,
                    None,
                )
            )
    rows.sort(key=lambda row: (row.day or date.min, row.kind != INVOICE), reverse=True)
    return rows
