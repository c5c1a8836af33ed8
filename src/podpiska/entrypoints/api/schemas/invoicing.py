"""Bodies of invoices and credit notes. Amounts are strings with two decimals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from podpiska.entrypoints.api.schemas.common import In, Line
from podpiska.entrypoints.presenters import amount
from podpiska.invoicing.models import Invoice, InvoiceLine


class CreditNoteIn(In):
    reason: Line = Field(min_length=1, examples=["charged twice"])


class DocumentFixIn(In):
    reason: Line = Field(
        min_length=1, max_length=500, examples=["the buyer's legal address was wrong"]
    )


class InvoiceLineOut(BaseModel):
    position: int
    code: str
    description: str
    quantity: int
    months: int
    unit_price: str
    discount_percent: str
    amount: str
    explain: str
    vat_mode: str
    vat_rate: str


class InvoiceOut(BaseModel):
    id: int
    number: str | None
    account_id: int
    subscription_id: int
    kind: str
    status: str
    currency: str
    catalog_version: str
    plan: str
    months: int
    term_starts_on: date | None
    term_ends_on: date | None
    lines: list[InvoiceLineOut]
    subtotal: str
    discount: str
    total: str
    vat: dict[str, Any]
    amount_paid: str
    amount_due: str
    issued_on: date | None
    due_on: date | None
    paid_at: datetime | None
    metadata: dict[str, str] = Field(
        default_factory=dict, description="The integrator's own keys and values"
    )

    @classmethod
    def of(cls, invoice: Invoice, lines: list[InvoiceLine]) -> InvoiceOut:
        return cls(
            id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            subscription_id=invoice.subscription_id,
            kind=invoice.kind,
            status=invoice.status,
            currency=invoice.currency,
            catalog_version=invoice.catalog_version,
            plan=invoice.plan,
            months=invoice.months,
            term_starts_on=invoice.term_starts_on,
            term_ends_on=invoice.term_ends_on,
            lines=[
                InvoiceLineOut(
                    position=line.position,
                    code=line.code,
                    description=line.description,
                    quantity=line.quantity,
                    months=line.months,
                    unit_price=amount(line.unit_price),
                    discount_percent=line.discount_percent,
                    amount=amount(line.amount),
                    explain=line.explain,
                    vat_mode=line.vat_mode,
                    vat_rate=line.vat_rate,
                )
                for line in lines
            ],
            subtotal=amount(invoice.subtotal),
            discount=amount(invoice.discount),
            total=amount(invoice.total),
            vat={
                "mode": invoice.vat_mode,
                "rate": invoice.vat_rate,
                "amount": amount(invoice.vat_amount),
            },
            amount_paid=amount(invoice.amount_paid),
            amount_due=amount(invoice.total - invoice.amount_paid)
            if invoice.status == "issued"
            else amount(invoice.total - invoice.total),
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            paid_at=invoice.paid_at,
        )
