"""The bodies and answers of the actions on one invoice (void, mark paid, resend, pay) and
of a document sent again."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from podpiska.entrypoints.api.schemas.common import Amount, Code, In, Line
from podpiska.entrypoints.api.schemas.invoicing import InvoiceOut
from podpiska.entrypoints.api.schemas.payments import PaymentOut
from podpiska.entrypoints.api.schemas.subscriptions import SubscriptionOut


class VoidIn(In):
    reason: Line | None = Field(
        None,
        description="Why it is voided (required, ≤ 500 characters)",
        examples=["ordered twice"],
    )


class VoidOut(BaseModel):
    invoice: InvoiceOut
    subscription: SubscriptionOut
    effect: str = Field(
        description="What else voiding did: order_cancelled (the pending subscription is "
        "cancelled), renewal_dropped (the planned renewal dropped, autopay off), "
        "change_cancelled (the pending change cancelled) or none"
    )
    replayed: bool = Field(False, description="It was void already: nothing was done")


class MarkPaidIn(In):
    method: Code = Field("bank_transfer", description="bank_transfer, cash or other")
    paid_on: date = Field(description="The day the money came (not after today)")
    reference: Line | None = Field(
        None, description="The payer's document number (платёжное поручение №…)"
    )
    amount: Amount | None = Field(None, description="By default what is due")


class MarkPaidOut(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut
    subscription: SubscriptionOut


class ResendIn(In):
    email: Code | None = Field(None, description="Another address (by default the account's)")


class ResendOut(BaseModel):
    invoice_id: int
    delivery_id: int
    email: str
    status: str


class DocumentResendOut(BaseModel):
    """A closing document's e-mail queued again, with its PDF."""

    kind: str = Field(description="act, upd, invoice_factura, advance, correction, ...")
    source_id: int = Field(description="The id in its kind's series (as in its PDF's path)")
    number: str = Field(description="The document's number")
    delivery_id: int
    email: str
    status: str = Field(description="The e-mail delivery's status: pending until sent")
