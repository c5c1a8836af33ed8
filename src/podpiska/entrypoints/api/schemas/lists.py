"""The items of the API's lists: lighter than the single object's answer (an account
without its users' counts, an invoice without its lines), read in one query per page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from podpiska.entrypoints.api.schemas.common import In
from podpiska.entrypoints.presenters import amount
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.listing import AccountItem


class AccountItemOut(BaseModel):
    id: int
    name: str
    edition: str
    admin_email: str
    inn: str | None
    language: str
    test_clock_id: int | None
    created_at: datetime
    state: str = Field(description="The latest subscription's state; none: never ordered")
    plan: str | None = Field(description="The latest subscription's plan")
    subscription_id: int | None = Field(description="The latest subscription")
    metadata: dict[str, str]

    @classmethod
    def of(cls, item: AccountItem) -> AccountItemOut:
        a = item.account
        return cls(
            id=a.id,
            name=a.name,
            edition=a.edition,
            admin_email=a.admin_email,
            inn=a.inn,
            language=a.language,
            test_clock_id=a.test_clock_id,
            created_at=a.created_at,
            state=item.state,
            plan=item.plan,
            subscription_id=item.subscription_id,
            metadata=item.metadata,
        )


class InvoiceItemOut(BaseModel):
    """An invoice without its lines (`GET /invoices/{id}` answers them)."""

    id: int
    number: str | None
    account_id: int
    subscription_id: int
    kind: str
    status: str
    currency: str
    plan: str
    months: int
    term_starts_on: date | None
    term_ends_on: date | None
    total: str
    amount_paid: str
    issued_on: date | None
    due_on: date | None
    paid_at: datetime | None
    created_at: datetime
    metadata: dict[str, str]

    @classmethod
    def of(cls, invoice: Invoice, metadata: dict[str, str]) -> InvoiceItemOut:
        return cls(
            id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            subscription_id=invoice.subscription_id,
            kind=invoice.kind,
            status=invoice.status,
            currency=invoice.currency,
            plan=invoice.plan,
            months=invoice.months,
            term_starts_on=invoice.term_starts_on,
            term_ends_on=invoice.term_ends_on,
            total=amount(invoice.total),
            amount_paid=amount(invoice.amount_paid),
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            paid_at=invoice.paid_at,
            created_at=invoice.created_at,
            metadata=metadata,
        )


class MetadataIn(In):
    """Keys to set (a string) or remove (null); the others stay. At most 20 keys, a key
    1 to 40 characters of A-Z, a-z, 0-9, `_`, `.`, `-`, a value at most 500 characters."""

    metadata: dict[str, Any] = Field(examples=[{"crm_id": "42", "old_key": None}])
