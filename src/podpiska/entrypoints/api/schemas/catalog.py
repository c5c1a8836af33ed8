"""Answers of the catalog (the public price list): its versions with their plans, add-ons,
periods and promotions. Amounts are strings with two decimals."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class TextOut(BaseModel):
    ru: str
    en: str


class VatOut(BaseModel):
    mode: str = Field(description="included | excluded | exempt")
    rate: str = Field(description="Percent; 0.00 when exempt")


class PeriodOut(BaseModel):
    months: int
    discount_percent: str = Field(description="The term discount, percent")


class PlanOut(BaseModel):
    code: str
    name: TextOut
    monthly_price: str
    users_included: int
    max_users: int | None = Field(description="Null: no upper limit")
    extra_user_price: str | None = Field(description="Per extra user per month; null: not sold")
    disk_gb: int | None
    features: list[str]
    vat: VatOut


class AddOnOut(BaseModel):
    code: str
    name: TextOut
    prices: dict[str, str] = Field(description="Plan code → monthly price; absent: not offered")
    features: list[str]
    term_discount: bool = Field(description="Whether the period's term discount applies")
    sold_until: date | None
    vat: VatOut


class PromotionOut(BaseModel):
    code: str
    name: TextOut
    percent: str
    plans: list[str] = Field(description="The plans it applies to")
    add_ons: list[str] = Field(description="The add-ons it applies to")
    valid_from: date | None
    valid_to: date | None = Field(description="Inclusive")
    once_per_account: bool


class CatalogVersionOut(BaseModel):
    catalog: str = Field(description="The catalog's code")
    currency: str
    version: str
    effective_from: date
    in_force: bool = Field(description="The version in force today")
    vat: VatOut
    periods: list[PeriodOut]
    plans: list[PlanOut]
    add_ons: list[AddOnOut]
    promotions: list[PromotionOut]


class CatalogVersionBriefOut(BaseModel):
    version: str
    effective_from: date
    in_force: bool
    scheduled: bool = Field(description="Starts after today")


class CatalogVersionsOut(BaseModel):
    catalog: str
    today: date = Field(description="Today in the catalog's timezone, by the clock")
    data: list[CatalogVersionBriefOut] = Field(description="Every version, by start date")
