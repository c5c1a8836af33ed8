"""Bodies of payments, refunds and the bank statements' review. Amounts are strings with two
decimals."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from podpiska.entrypoints.api.schemas.common import Amount, BodyId, Code, In, Line
from podpiska.entrypoints.presenters import amount
from podpiska.invoicing.models import Payment


class PaymentIn(In):
    amount: Amount = Field(examples=["43092.00"])
    method: Code = Field("manual", description="card, bank_transfer, e_wallet or manual")
    external_id: Code | None = Field(None, description="The bank's or gateway's payment id")


class RefundIn(In):
    amount: Amount = Field(examples=["1500.00"])
    reason: Line = "requested by the customer"
    payment_id: BodyId | None = Field(
        None,
        description="The account's card or e-wallet payment to send it back to, with the "
        "amount left on it (default: the newest with enough left; none: finance sends a "
        "bank transfer)",
    )


class ResolveIn(In):
    invoice_id: BodyId


class BankCreditIn(In):
    account_id: BodyId


class DismissIn(In):
    reason: str = Field(description="Why it is not ours (≤ 500 characters, not blank)",
                        examples=["paid to us by mistake: the bank returns it"])  # fmt: skip


class PaymentOut(BaseModel):
    id: int
    invoice_id: int
    amount: str
    method: str
    status: str
    external_id: str | None
    received_on: date
    replayed: bool = False

    @classmethod
    def of(cls, payment: Payment, replayed: bool = False) -> PaymentOut:
        return cls(
            id=payment.id,
            invoice_id=payment.invoice_id,
            amount=amount(payment.amount),
            method=payment.method,
            status=payment.status,
            external_id=payment.external_id,
            received_on=payment.received_on,
            replayed=replayed,
        )
