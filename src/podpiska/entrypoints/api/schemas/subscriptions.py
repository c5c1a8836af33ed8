"""Bodies of subscriptions: ordering, renewal, autopay, cancellation."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field, StrictBool, StrictInt

from podpiska.entrypoints.api.schemas.common import Code, Count, In
from podpiska.subscriptions.models import Subscription


class SubscriptionIn(In):
    plan: Code = Field(examples=["standard"])
    months: StrictInt = Field(examples=[12])
    users: Count | None = None
    add_ons: list[Code] = Field(default_factory=list, max_length=100)
    promotions: list[Code] = Field(default_factory=list, max_length=100)
    autopay: StrictBool = False


class RenewalIn(In):
    months: StrictInt | None = Field(None, description="Default: the subscription's period")


class AutopayIn(In):
    enabled: StrictBool


class CancelIn(In):
    undo: StrictBool = Field(False, description="Take a scheduled cancellation back")


class SubscriptionOut(BaseModel):
    id: int
    account_id: int
    status: str
    plan: str
    months: int
    seats: int
    add_ons: list[str]
    catalog_version: str
    starts_on: date | None = Field(description="First day of the current term")
    ends_on: date | None = Field(description="First day after the term (exclusive)")
    paid_through: date | None = Field(description="The last paid day: what people read")
    autopay: bool
    cancel_at_period_end: bool
    renewal_invoice_id: int | None

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionOut:
        return cls(
            id=sub.id,
            account_id=sub.account_id,
            status=sub.status,
            plan=sub.plan,
            months=sub.months,
            seats=sub.seats,
            add_ons=list(sub.add_ons or ()),
            catalog_version=sub.catalog_version,
            starts_on=sub.starts_on,
            ends_on=sub.ends_on,
            paid_through=sub.ends_on - timedelta(days=1) if sub.ends_on else None,
            autopay=sub.autopay,
            cancel_at_period_end=sub.cancel_at_period_end,
            renewal_invoice_id=sub.renewal_invoice_id,
        )
