"""The invoicing area's lists of the API (issue 17): credit notes and the closing documents
(УПД, advance счета-фактуры, УКД), cursor-paged by id (`core.db.paging`), filtered by
account, invoice or number and the day they were issued, scoped by the caller (an account's
key sees its own account's rows only). Indexes of (filter, id): migration 0021."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.core.db.paging import Page, page, scoped
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.invoicing.documents import ADVANCE, CORRECTION, UPD, has_invoice_factura
from podpiska.invoicing.models import Advance, Closing, Correction, CreditNote


def list_credit_notes(
    session: Session,
    *,
    scope: Scope,
    account_id: int | None = None,
    invoice_id: int | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    after: int = 0,
    limit: int = 100,
) -> Page[CreditNote]:
    """Credit notes oldest first (by id) after `after`; `issued_from`/`issued_to` bound the
    day each was issued (its `created_at`, UTC), both inclusive."""
    query = scoped(select(CreditNote), CreditNote.account_id, scope)
    if account_id is not None:
        query = query.where(CreditNote.account_id == account_id)
    if invoice_id is not None:
        query = query.where(CreditNote.invoice_id == invoice_id)
    if issued_from is not None:
        query = query.where(CreditNote.created_at >= datetime.combine(issued_from, time(), UTC))
    if issued_to is not None:
        end = datetime.combine(issued_to + timedelta(days=1), time(), UTC)
        query = query.where(CreditNote.created_at < end)
    with session.begin():
        return page(session, query, key=CreditNote.id, after=after, limit=limit)


@dataclass(frozen=True, slots=True)
class ClosingDocumentRow:
    """A closing document of the lists: a УПД (or act-form closing), an advance
    счёт-фактура or a УКД, with what it charges (`total` and `vat`; a УКД's decrease)."""

    kind: str  # upd | advance | correction
    id: int
    account_id: int
    number: str
    day: date
    total: Decimal
    vat: Decimal
    form: str | None  # upd: "upd" or "act" (how its PDF prints)
    invoice_factura: bool  # upd: an act-form closing charging VAT has its счёт-фактура
    invoice_id: int | None  # advance: the invoice it was paid on (None: the account's credit)
    closing_id: int | None  # correction: the УПД it corrects


CLOSING_KINDS = (UPD, ADVANCE, CORRECTION)
_MODELS: dict[str, type[Closing] | type[Advance] | type[Correction]] = {
    UPD: Closing,
    ADVANCE: Advance,
    CORRECTION: Correction,
}


def list_closing_documents(
    session: Session,
    *,
    scope: Scope,
    kind: str = UPD,
    account_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    number: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> Page[ClosingDocumentRow]:
    """One kind's closing documents oldest first (by its id: each kind is its own series,
    so `after` is an id of that kind): by account, the day each was issued (both bounds
    inclusive) and its exact number."""
    if kind not in CLOSING_KINDS:
        raise DomainError(
            "invalid_field",
            field="kind",
            problem_ru="одно из " + ", ".join(CLOSING_KINDS),
            problem_en="one of " + ", ".join(CLOSING_KINDS),
        )
    model = _MODELS[kind]
    query = scoped(select(model), model.account_id, scope)
    if kind == ADVANCE:
        query = query.where(Advance.number.is_not(None))  # a share of a credit's is not one
    if account_id is not None:
        query = query.where(model.account_id == account_id)
    if date_from is not None:
        query = query.where(model.issued_on >= date_from)
    if date_to is not None:
        query = query.where(model.issued_on <= date_to)
    if number is not None:
        query = query.where(model.number == number)
    with session.begin():
        found = page(session, query, key=model.id, after=after, limit=limit)
    return found.map(_closing_row)


def _closing_row(row: Closing | Advance | Correction) -> ClosingDocumentRow:
    if isinstance(row, Closing):
        return ClosingDocumentRow(
            UPD, row.id, row.account_id, row.number, row.issued_on, row.total, row.vat,
            row.form, has_invoice_factura(row.form, row.vat), None, None,
        )  # fmt: skip
    if isinstance(row, Advance):
        return ClosingDocumentRow(
            ADVANCE, row.id, row.account_id, row.number or "", row.issued_on, row.amount,
            row.vat, None, False, row.invoice_id, None,
        )  # fmt: skip
    return ClosingDocumentRow(
        CORRECTION, row.id, row.account_id, row.number, row.issued_on, row.decrease,
        row.vat_decrease, None, False, None, row.closing_id,
    )  # fmt: skip
