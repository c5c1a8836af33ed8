"""Bodies of subscriptions: ordering, renewal, autopay, cancellation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field, StrictBool, StrictInt

from podpiska.entrypoints.api.schemas.common import Amount, Code, Count, In
from podpiska.subscriptions.models import Subscription


class OrderPreviewIn(In):
    plan: Code = Field(examples=["standard"])
    months: StrictInt = Field(examples=[12])
    users: Count | None = None
    add_ons: list[Code] = Field(default_factory=list, max_length=100)
    promotions: list[Code] = Field(default_factory=list, max_length=100)


class SubscriptionIn(OrderPreviewIn):
    autopay: StrictBool = Field(
        False,
        description="Autopay on from the start: the customer's own consent, as "
        "`POST /accounts/{account_id}/subscription/autopay` asks (the account's own key, "
        "403 `consent_by_customer_only` for a vendor's) and an active saved method "
        "(409 `autopay_needs_method`).",
    )
    expected_total: Amount | None = Field(
        None,
        description="The total the order's preview showed "
        "(`POST /accounts/{account_id}/subscriptions/preview`): 409 `order_stale`, nothing "
        "written, when the price today differs.",
        examples=["43092.00"],
    )
    metadata: dict[str, Any] | None = Field(
        None, description="The integrator's own keys, stored on the subscription"
    )


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
    metadata: dict[str, str] = Field(
        default_factory=dict, description="The integrator's own keys and values"
    )

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
