"""Items of the money and events lists (issue 17): payments, credit notes, bank payments,
outbox events. Amounts are strings with two decimals; times are ISO 8601 with their
offset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from podpiska.core.db.paging import Page
from podpiska.core.models import OutboxEvent
from podpiska.entrypoints.api.docs import PageOut
from podpiska.entrypoints.presenters import amount
from podpiska.invoicing.document_listing import ClosingDocumentRow
from podpiska.invoicing.models import CreditNote, Payment
from podpiska.payments.bank.models import BankPayment


class PaymentItemOut(BaseModel):
    """Money applied to an invoice: a card, wallet, bank or hand-registered payment, or the
    account's credit used on it (method `credit`)."""

    id: int
    account_id: int
    invoice_id: int
    method: str = Field(description="card, bank_transfer, e_wallet, sbp, manual or credit")
    amount: str = Field(examples=["43092.00"])
    status: str
    external_id: str | None = Field(description="The bank's or gateway's payment id")
    received_on: date = Field(description="The day the money arrived")
    created_at: datetime

    @classmethod
    def of(cls, p: Payment) -> PaymentItemOut:
        return cls(
            id=p.id,
            account_id=p.account_id,
            invoice_id=p.invoice_id,
            method=p.method,
            amount=amount(p.amount),
            status=p.status,
            external_id=p.external_id,
            received_on=p.received_on,
            created_at=p.created_at,
        )


class CreditNoteItemOut(BaseModel):
    """A correction of an issued invoice: its lines negated, in its own number series."""

    id: int
    number: str
    account_id: int
    invoice_id: int
    total: str = Field(description="Negative", examples=["-1500.00"])
    reason: str
    created_at: datetime
    pdf: str = Field(description="Where its PDF is served")

    @classmethod
    def of(cls, c: CreditNote) -> CreditNoteItemOut:
        return cls(
            id=c.id,
            number=c.number,
            account_id=c.account_id,
            invoice_id=c.invoice_id,
            total=amount(c.total),
            reason=c.reason,
            created_at=c.created_at,
            pdf=f"/api/v1/credit-notes/{c.id}/pdf",
        )


class BankPaymentItemOut(BaseModel):
    """An incoming payment of an imported bank statement and what became of it."""

    id: int
    day: date
    amount: str
    payer: str
    payer_inn: str
    purpose: str
    status: str = Field(
        description="paid, partial, overpaid, unmatched, resolved, credited or dismissed"
    )
    note: str | None
    invoice_id: int | None
    payment_id: int | None
    account_id: int | None = Field(description="credited: the account")
    reason: str | None = Field(description="dismissed: why not ours")
    resolved_by: str | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, r: BankPayment) -> BankPaymentItemOut:
        return cls(
            id=r.id,
            day=r.day,
            amount=amount(r.amount),
            payer=r.payer,
            payer_inn=r.payer_inn,
            purpose=r.purpose,
            status=r.status,
            note=r.note,
            invoice_id=r.invoice_id,
            payment_id=r.payment_id,
            account_id=r.account_id,
            reason=r.reason,
            resolved_by=r.resolved_by,
            resolved_at=r.resolved_at,
        )


class EventOut(BaseModel):
    """An outbox event: the same body a webhook delivers as its `data`."""

    id: int
    type: str = Field(examples=["invoice.issued"])
    occurred_on: date = Field(description="The business day it happened on")
    created_at: datetime = Field(description="When it was written")
    account_id: int | None
    subscription_id: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: OutboxEvent) -> EventOut:
        return cls(
            id=e.id,
            type=e.type,
            occurred_on=e.occurred_on,
            created_at=e.created_at,
            account_id=e.account_id,
            subscription_id=e.subscription_id,
            data=e.payload,
        )


def event_page(found: Page[OutboxEvent]) -> PageOut[EventOut]:
    return PageOut[EventOut](
        data=[EventOut.of(e) for e in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


_LINKS = {
    "upd": ("/api/v1/upds/{id}/pdf", "/api/v1/upds/{id}/xml"),
    "advance": ("/api/v1/advances/{id}/pdf", "/api/v1/advances/{id}/xml"),
    "correction": ("/api/v1/corrections/{id}/pdf", "/api/v1/corrections/{id}/xml"),
}


class ClosingDocumentOut(BaseModel):
    """A closing document: a УПД or act (`upd`), an advance счёт-фактура (`advance`) or a
    УКД (`correction`), with where its PDF and its ФНС XML are served."""

    kind: str = Field(description="upd, advance or correction")
    id: int = Field(description="The id in its kind's series (the cursor of ?after=)")
    account_id: int
    number: str
    date: date
    total: str = Field(description="With VAT; a УКД's decrease")
    vat: str
    form: str | None = Field(description="upd: how its PDF prints, upd or act")
    invoice_id: int | None = Field(description="advance: the invoice paid (null: a credit)")
    closing_id: int | None = Field(description="correction: the УПД it corrects")
    pdf: str
    xml: str
    invoice_factura_pdf: str | None = Field(
        description="An act-form closing charging VAT: its счёт-фактура"
    )

    @classmethod
    def of(cls, row: ClosingDocumentRow) -> ClosingDocumentOut:
        pdf, xml = _LINKS[row.kind]
        return cls(
            kind=row.kind,
            id=row.id,
            account_id=row.account_id,
            number=row.number,
            date=row.day,
            total=amount(row.total),
            vat=amount(row.vat),
            form=row.form,
            invoice_id=row.invoice_id,
            closing_id=row.closing_id,
            pdf=pdf.format(id=row.id),
            xml=xml.format(id=row.id),
            invoice_factura_pdf=(
                f"/api/v1/upds/{row.id}/invoice-factura/pdf" if row.invoice_factura else None
            ),
        )
