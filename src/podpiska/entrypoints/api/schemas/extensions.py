"""Bodies of a goodwill extension of a subscription's term."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field, StrictInt

from podpiska.entrypoints.api.schemas.common import In
from podpiska.subscriptions.extensions import MAX_DAYS, MAX_REASON, Extension


class ExtensionIn(In):
    days: StrictInt = Field(ge=1, le=MAX_DAYS, examples=[14])
    reason: str = Field(min_length=1, max_length=MAX_REASON, examples=["Сбой 3 декабря"])


class ExtensionOut(BaseModel):
    subscription_id: int
    status: str
    ends_on: date = Field(description="The term's new end (exclusive)")
    paid_through: date = Field(description="The last day of the term, inclusive")
    invoice_id: int = Field(description="The zero-amount invoice of the gift days")
    invoice_number: str | None
    invoice_total: Decimal

    @classmethod
    def of(cls, made: Extension) -> ExtensionOut:
        s, i = made.subscription, made.invoice
        assert s.ends_on is not None
        return cls(
            subscription_id=s.id,
            status=s.status,
            ends_on=s.ends_on,
            paid_through=date.fromordinal(s.ends_on.toordinal() - 1),
            invoice_id=i.id,
            invoice_number=i.number,
            invoice_total=i.total,
        )
