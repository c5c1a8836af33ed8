"""The webhooks Podpiska sends: one envelope (`notifications.messages.webhook_body`) and,
in its `data`, the payload of the event's type, with a snapshot of the subscription when
the event names one.

Amounts are decimal strings ("1500.00"), days ISO dates. A payload may carry more fields
than modelled here (`extra="allow"`): a client reads the documented ones and keeps the rest.
`PAYLOADS` has one model per type in `core.domain.events.EVENT_TYPES` (a test holds them
together), and the OpenAPI document's `webhooks` section is built from it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")


class SubscriptionSnapshot(BaseModel):
    """The subscription as it is when the webhook is sent."""

    id: int
    plan: str
    status: str
    paid_through: date | None


class _SubscriptionData(_Payload):
    subscription: SubscriptionSnapshot | None = Field(
        default=None, description="The subscription as it is when the webhook is sent"
    )


# -- subscriptions ---------------------------------------------------------------------------


class SubscriptionOrdered(_SubscriptionData):
    plan: str
    months: int
    invoice_id: int
    invoice_number: str
    total: str


class SubscriptionTerm(_SubscriptionData):
    """`subscription.activated`, `.renewed`, `.restored`: a paid term."""

    plan: str
    starts_on: date
    ends_on: date
    paid_through: date
    invoice_id: int


class SubscriptionReminder(_SubscriptionData):
    days_before: int
    ends_on: date
    paid_through: date
    renewal_invoice_id: int | None = None


class SubscriptionGraceStarted(_SubscriptionData):
    grace_until: date
    ends_on: date
    paid_through: date
    restricted: list[str]


class SubscriptionSuspended(_SubscriptionData):
    ends_on: date


class SubscriptionCancelled(_SubscriptionData):
    reason: str
    cancel_at_period_end: bool | None = None
    credit_note_id: int | None = None
    paid_through: date | None = None
    ends_on: date | None = None


class SubscriptionCancelScheduled(_SubscriptionData):
    reason: str
    cancel_at_period_end: bool


class SubscriptionAutopayChanged(_SubscriptionData):
    autopay: bool


class SubscriptionExtended(_SubscriptionData):
    """The term extended as a gift: a zero invoice over the gift days."""

    days: int
    reason: str
    invoice_id: int
    paid_through: date


class SubscriptionChanged(_SubscriptionData):
    change_id: int
    plan: str
    seats: int | None = None
    add_ons: Any = None
    paid_through: date | None = None


class SubscriptionChangeRecorded(_SubscriptionData):
    """`subscription.change_pending`, `_scheduled`, `_applied`."""

    change_id: int
    kind: str
    params: dict[str, Any]
    amount_due: str
    invoice_id: int | None


class SubscriptionVersionMoved(_SubscriptionData):
    migration: str
    cohort: str
    from_version: str | None
    to_version: str
    effective_on: date


class MigrationNotice(_SubscriptionData):
    migration: str
    cohort: str
    cut_over: date
    days_before: int
    plan: str
    currency: str


# -- invoices and documents ------------------------------------------------------------------


class InvoiceIssued(_SubscriptionData):
    invoice_id: int
    number: str
    total: str
    due_on: date | None
    kind: str


class InvoicePaid(_SubscriptionData):
    invoice_id: int
    number: str
    total: str


class InvoicePartiallyPaid(InvoicePaid):
    amount_paid: str


class InvoiceVoided(_SubscriptionData):
    invoice_id: int
    number: str
    reason: str


class CreditNoteIssued(_SubscriptionData):
    credit_note_id: int
    number: str
    invoice_number: str
    total: str


class UpdIssued(_Payload):
    closing_id: int
    number: str
    issued_on: date
    first_day: date
    last_day: date
    form: str
    total: str
    vat: str


class AdvanceIssued(_Payload):
    advance_id: int
    number: str
    issued_on: date
    invoice_id: int | None
    payment_id: int | None
    amount: str
    vat: str
    vat_rate: str


class CorrectionIssued(_Payload):
    correction_id: int
    closing_id: int
    number: str
    issued_on: date
    decrease: str
    vat_decrease: str


class DocumentReissued(_Payload):
    """`upd.reissued`, `advance.reissued`: a numbered fix of an issued document."""

    fix_id: int
    source_id: int
    number: str
    fix_no: int
    issued_on: date
    reason: str


# -- payments --------------------------------------------------------------------------------


class PaymentFailed(_SubscriptionData):
    attempt_id: int
    number: str
    amount: str
    kind: str
    reason: str
    next_attempt_on: date | None


class PaymentMethodChanged(_Payload):
    """`payment_method.saved`, `payment_method.removed`."""

    payment_method_id: int
    title: str


class RefundRequested(_SubscriptionData):
    refund_id: int
    amount: str


class RefundFailed(RefundRequested):
    reason: str


# -- licenses and apps -----------------------------------------------------------------------


class LicenseIssued(_SubscriptionData):
    license_id: int
    serial: str
    invoice_id: int | None
    plan: str
    users: int
    paid_through: date
    grace_until: date
    key_id: str


class AppChanged(_Payload):
    """`app.installed`, `app.removed`."""

    app: str


class TrialStarted(_SubscriptionData):
    add_on: str
    last_day: date


PAYLOADS: dict[str, type[BaseModel]] = {
    "subscription.ordered": SubscriptionOrdered,
    "subscription.activated": SubscriptionTerm,
    "subscription.renewed": SubscriptionTerm,
    "subscription.restored": SubscriptionTerm,
    "subscription.reminder": SubscriptionReminder,
    "subscription.grace_started": SubscriptionGraceStarted,
    "subscription.suspended": SubscriptionSuspended,
    "subscription.cancelled": SubscriptionCancelled,
    "subscription.cancel_scheduled": SubscriptionCancelScheduled,
    "subscription.autopay_changed": SubscriptionAutopayChanged,
    "subscription.extended": SubscriptionExtended,
    "subscription.changed": SubscriptionChanged,
    "subscription.change_pending": SubscriptionChangeRecorded,
    "subscription.change_scheduled": SubscriptionChangeRecorded,
    "subscription.change_applied": SubscriptionChangeRecorded,
    "subscription.version_moved": SubscriptionVersionMoved,
    "invoice.issued": InvoiceIssued,
    "invoice.paid": InvoicePaid,
    "invoice.partially_paid": InvoicePartiallyPaid,
    "invoice.voided": InvoiceVoided,
    "credit_note.issued": CreditNoteIssued,
    "upd.issued": UpdIssued,
    "advance.issued": AdvanceIssued,
    "correction.issued": CorrectionIssued,
    "upd.reissued": DocumentReissued,
    "advance.reissued": DocumentReissued,
    "payment.failed": PaymentFailed,
    "payment_method.saved": PaymentMethodChanged,
    "payment_method.removed": PaymentMethodChanged,
    "refund.requested": RefundRequested,
    "refund.succeeded": RefundRequested,
    "refund.failed": RefundFailed,
    "migration.notice": MigrationNotice,
    "license.issued": LicenseIssued,
    "app.installed": AppChanged,
    "app.removed": AppChanged,
    "trial.started": TrialStarted,
}


class WebhookEnvelope(BaseModel):
    """The body of every webhook (signed: `Podpiska-Signature`, `Podpiska-Timestamp`)."""

    id: int = Field(description="The event's id: the same on every retry")
    type: str = Field(description="The event type, as in the `Podpiska-Event` header")
    created_at: datetime
    account_id: int | None
    subscription_id: int | None
    data: dict[str, Any]


def envelope_of(event_type: str) -> type[BaseModel]:
    """The envelope whose `data` is `event_type`'s payload model (named after the type)."""
    from typing import Literal

    from pydantic import create_model

    payload = PAYLOADS[event_type]
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Webhook"
    return create_model(
        name,
        __base__=WebhookEnvelope,
        __doc__=f"The webhook `{event_type}`.",
        type=(Literal[event_type], ...),  # type: ignore[arg-type]
        data=(payload, ...),
    )
