"""A quote's answer: `POST /quotes` and an account's order preview."""

from __future__ import annotations

from pydantic import BaseModel

# The refusals of a quote (`POST /quotes`), of an order's preview and of the order itself.
QUOTE_REFUSALS = (
    "add_on_not_offered",
    "add_on_not_sold",
    "duplicate_add_on",
    "duplicate_promotion",
    "invalid_months",
    "invalid_users",
    "no_catalog_loaded",
    "period_not_offered",
    "promotion_not_active",
    "promotion_not_applicable",
    "promotion_not_eligible",
    "promotions_overlap",
    "too_many_users",
    "unknown_plan",
    "unknown_promotion",
)


class QuoteLineOut(BaseModel):
    code: str
    description: str
    quantity: int
    months: int
    unit_price: str
    discount_percent: str
    amount: str
    explain: str


class VatOut(BaseModel):
    mode: str
    rate: str | None
    amount: str


class QuoteOut(BaseModel):
    currency: str
    catalog_version: str
    lines: list[QuoteLineOut]
    subtotal: str
    discount: str
    total: str
    vat: VatOut
