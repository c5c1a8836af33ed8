"""The answers of routes that build their JSON by hand: modelled as they are answered (the
documented fields typed; `extra="allow"` keeps any other field exactly as answered)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from podpiska.entrypoints.api.schemas.invoicing import InvoiceOut
from podpiska.entrypoints.api.schemas.payments import PaymentOut
from podpiska.entrypoints.api.schemas.subscriptions import SubscriptionOut


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- apps ------------------------------------------------------------------------------------


class AppsLoadedOut(_Open):
    created: int
    updated: int
    unchanged: int


class AppInstalledOut(_Open):
    app: str
    status: str
    installed_at: Any = None


class AppRemovedOut(_Open):
    app: str
    status: str


class AppUsedOut(_Open):
    app: str
    last_used_at: Any = None


# -- billing ---------------------------------------------------------------------------------


class OrderOut(_Open):
    subscription: SubscriptionOut
    invoice: InvoiceOut


class PaidOut(_Open):
    payment: PaymentOut
    invoice: InvoiceOut
    subscription: SubscriptionOut


class CreditOut(_Open):
    account_id: int
    balance: str


class RefundOut(_Open):
    id: int
    amount: str
    status: str
    payment_id: int | None = Field(
        None, description="The payment it goes back to, when chosen (else set when sent)"
    )


class CreditNoteOut(_Open):
    id: int
    number: str
    invoice_id: int
    total: str
    lines: list[dict[str, Any]]
    reason: str | None


class StatementImportOut(_Open):
    source: str
    documents: int
    outgoing: int
    outgoing_amount: Any
    not_ours: int
    not_ours_amount: Any
    already_imported: int
    counts: dict[str, int]
    amounts: Any
    accounts: list[dict[str, Any]]


class BankPaymentOut(_Open):
    id: int
    status: str
    invoice_id: int | None
    amount: str | None = None
    account_id: int | None = None
    reason: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None


# -- changes ---------------------------------------------------------------------------------


class ChangeLineOut(_Open):
    code: str
    description: str
    amount: str
    explain: str


class ChangeRecordOut(_Open):
    id: int
    status: str
    kind: str
    amount_due: str
    effective_on: str
    lines: list[dict[str, Any]]
    expires_at: str | None


class ChangeOut(_Open):
    """A change priced (`token`... : send the token back to make it) or made (`change`,
    `subscription`, `invoice`): one shape, the fields of the other answer absent."""

    subscription_id: int | None = None
    kind: str | None = None
    scheduled: bool | None = None
    effective_on: str | None = None
    lines: list[ChangeLineOut] | None = None
    amount_due: str | None = None
    currency: str | None = None
    paid_through: str | None = None
    ends_on: str | None = None
    plan: str | None = None
    seats: int | None = None
    token: str | None = None
    token_expires_at: str | None = None
    change: ChangeRecordOut | None = None
    subscription: SubscriptionOut | None = None
    invoice: InvoiceOut | None = None


class ChangeCancelledOut(_Open):
    id: int
    status: str


class ExplainLineOut(_Open):
    position: int
    description: str
    amount: str
    explain: str


class ExplainOut(_Open):
    number: str
    kind: str
    lines: list[ExplainLineOut]
    total: str
    text: str


# -- documents -------------------------------------------------------------------------------


class DocumentFixOut(_Open):
    id: int
    kind: str
    source_id: int
    fix_no: int
    number: str
    date: str
    reason: str
    pdf: str
    xml: str | None


class DocumentFixLinkOut(_Open):
    fix_no: int
    date: str
    reason: str
    pdf: str
    xml: str | None


class AccountDocumentOut(_Open):
    kind: str
    source_id: int
    number: str
    date: str | None
    total: str
    currency: str | None
    invoice_number: str | None
    form: str | None
    pdf: str
    xml: str | None
    fixes: list[DocumentFixLinkOut]


class AccountDocumentsOut(_Open):
    items: list[AccountDocumentOut]


# -- migrations ------------------------------------------------------------------------------


class ImpactOut(_Open):
    migration: str
    kind: str
    currency: str
    accounts: int
    accounts_with_increase: int
    accounts_with_decrease: int
    revenue_today: str
    revenue_after: str
    revenue_change: str
    change_percent: str | None
    first_time_discount: str
    revenue_change_first_term: str
    increase_percent_buckets: list[dict[str, Any]]
    cohorts: list[dict[str, Any]]


# -- payments --------------------------------------------------------------------------------


class ConsentOut(_Open):
    language: str
    text: str


class NotificationOut(_Open):
    status: str
    outcome: str
