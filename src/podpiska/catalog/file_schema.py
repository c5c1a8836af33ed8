"""The catalog file's schema (Pydantic): the value types with their messages ("must be a
positive amount, got …"), strict models that refuse unknown keys and suggest the one meant,
the sections a version inherits from the one before, and pydantic's own errors in the same
words.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from podpiska.catalog.domain.catalog import Rendering, SeatPolicy, UpgradePolicy
from podpiska.catalog.domain.moves import MigrationKind, VersionMode
from podpiska.core.domain.money import VatMode, is_money
from podpiska.ports import VAT_CODES


def _got(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return f'"{value}"'


def _to_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise PydanticCustomError("amount", f"must be {what}, got {{got}}", {"got": _got(value)})
    try:
        number = (
            Decimal(value.replace(" ", "").replace(",", "."))
            if isinstance(value, str)
            else Decimal(value)
        )
    except InvalidOperation:
        raise PydanticCustomError(
            "amount", f"must be {what}, got {{got}}", {"got": _got(value)}
        ) from None
    if not number.is_finite():
        raise PydanticCustomError("amount", f"must be {what}, got {{got}}", {"got": _got(value)})
    return number


def _positive_amount(value: Any) -> Decimal:
    number = _to_decimal(value, "a positive amount")
    if number <= 0:
        raise PydanticCustomError(
            "amount", "must be a positive amount, got {got}", {"got": _got(value)}
        )
    if not is_money(number):
        raise PydanticCustomError(
            "amount",
            "must have at most two decimal places (kopecks), got {got}",
            {"got": _got(value)},
        )
    return number.quantize(Decimal("0.01"))


def _percent(value: Any) -> Decimal:
    number = _to_decimal(value, "a percent from 0 to 100")
    if not Decimal(0) <= number < Decimal(100):
        raise PydanticCustomError(
            "percent", "must be a percent from 0 to below 100, got {got}", {"got": _got(value)}
        )
    return number


def _whole(minimum: int) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError(
                "whole", "must be a whole number, got {got}", {"got": _got(value)}
            )
        if value < minimum:
            raise PydanticCustomError(
                "whole", f"must be at least {minimum}, got {{got}}", {"got": _got(value)}
            )
        return value

    return check


def _a_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "must be a date YYYY-MM-DD, got {got}", {"got": _got(value)})


def _code(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or not all(ch.isalnum() or ch in "_-." for ch in value)
        or not value.isascii()
    ):
        raise PydanticCustomError(
            "code",
            "must be a code of Latin letters, digits, '_', '-' or '.', got {got}",
            {"got": _got(value)},
        )
    return value


Amount = Annotated[Decimal, BeforeValidator(_positive_amount)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
Months = Annotated[int, BeforeValidator(_whole(1))]
Count = Annotated[int, BeforeValidator(_whole(0))]
PositiveCount = Annotated[int, BeforeValidator(_whole(1))]
Day = Annotated[date, BeforeValidator(_a_date)]
Code = Annotated[str, BeforeValidator(_code)]


class _Strict(BaseModel):
    """Unknown keys are errors that suggest the key that was probably meant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}; allowed: {allowed}",
                        {"key": str(key), "hint": hint, "allowed": ", ".join(allowed)},
                    )
        elif not isinstance(data, BaseModel):
            raise PydanticCustomError(
                "mapping", "must be a mapping of keys to values, got {got}", {"got": _got(data)}
            )
        return data


class TextSchema(_Strict):
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)


def _text(value: Any) -> Any:
    """A plain string serves as both the Russian and the English name."""
    return {"ru": value, "en": value} if isinstance(value, str) else value


Name = Annotated[TextSchema, BeforeValidator(_text)]


def _supported_vat_mode(value: Any) -> Any:
    """VAT on top of the price is priced by the domain (`Vat.gross_of`), but invoices,
    payments and receipts charge an invoice's total, which is the lines' sum: a catalog
    with `excluded` would bill the net amount. Refused until invoices carry it."""
    if value == VatMode.EXCLUDED.value:
        raise PydanticCustomError(
            "vat_mode",
            "excluded (VAT on top of the price) is not supported by invoices yet: "
            "state prices with VAT included, or exempt",
        )
    return value


class VatSchema(_Strict):
    mode: Annotated[VatMode, BeforeValidator(_supported_vat_mode)]
    rate: Percent = Decimal(22)

    @model_validator(mode="after")
    def _rate_has_a_receipt_code(self) -> VatSchema:
        """A taxed product's rate is one a 54-FZ receipt can carry: a payment for it is
        refused otherwise (an exempt product's rate is not used)."""
        if self.mode is not VatMode.EXEMPT and self.rate not in {Decimal(r) for r in VAT_CODES}:
            raise PydanticCustomError(
                "vat_rate",
                "the VAT rate {rate} % has no 54-FZ receipt code: use one of {known}",
                {"rate": str(self.rate), "known": ", ".join(VAT_CODES)},
            )
        return self


class PeriodSchema(_Strict):
    months: Months
    discount: Percent = Decimal(0)


class PlanSchema(_Strict):
    code: Code
    name: Name
    monthly_price: Amount
    users_included: PositiveCount
    max_users: PositiveCount | None = None
    extra_user_price: Amount | None = None
    disk_gb: Count | None = None
    features: list[Code] = []
    vat: VatSchema | None = None
    rendering: Rendering = Rendering.MONTH


class AddOnSchema(_Strict):
    code: Code
    name: Name
    prices: dict[Code, Amount]
    features: list[Code] = []
    term_discount: bool = True
    vat: VatSchema | None = None
    rendering: Rendering = Rendering.MONTH
    sold_until: Day | None = None


class MarketplaceSchema(_Strict):
    offer: Code
    trial_days: Count = 0
    editions: list[Literal["cloud", "on_premise"]] = ["cloud"]


class AppliesToSchema(_Strict):
    plans: list[Code] = []
    add_ons: list[Code] = []


class EligibilitySchema(_Strict):
    never_bought: list[Code] = []
    once_per_account: bool = True


class PromotionSchema(_Strict):
    code: Code
    name: Name
    percent: Percent
    applies_to: AppliesToSchema
    eligibility: EligibilitySchema = EligibilitySchema()
    valid_from: Day | None = None
    valid_to: Day | None = None


class LifecycleSchema(_Strict):
    reminder_days: list[Count] = [30, 7, 0]
    grace_days: Count = 30
    grace_restricts: list[str] = []
    renewal_window_days: Count = 30
    autopay_invoice_days: Count = 3
    autopay_retry_days: list[Count] = [0, 1, 3, 7]


class VersionSchema(_Strict):
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
    effective_from: Day
    vat: VatSchema | None = None
    periods: list[PeriodSchema] | None = None
    plans: list[PlanSchema] | None = None
    add_ons: list[AddOnSchema] | None = None
    promotions: list[PromotionSchema] | None = None
    lifecycle: LifecycleSchema | None = None
    seat_policy: SeatPolicy | None = None
    upgrade_policy: UpgradePolicy | None = None
    marketplace: MarketplaceSchema | None = None


def _version_name(value: Any) -> Any:
    """A version name written as a number (`2026.1`) is the text as written."""
    return str(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else value


class SelectorSchema(_Strict):
    editions: list[Literal["cloud", "on_premise"]] = []
    plans: list[Code] = []
    created_before: Day | None = None
    created_after: Day | None = None
    accounts: list[PositiveCount] = []


class CohortSchema(_Strict):
    code: Code
    cut_over: Day
    select: SelectorSchema = SelectorSchema()


class MigrationSchema(_Strict):
    code: Code
    name: Name
    kind: MigrationKind
    transition_days: Count = 0
    notify_days: list[Count] = [30, 7]
    to_version: Annotated[str, BeforeValidator(_version_name)] | None = None
    mode: VersionMode | None = None
    cohorts: list[CohortSchema] = Field(min_length=1)


class CatalogSchema(_Strict):
    code: Code
    name: Name
    currency: Literal["RUB", "USD", "EUR", "KZT", "BYN"] = "RUB"
    timezone: str = "Europe/Moscow"
    versions: list[VersionSchema] = Field(min_length=1)
    migrations: list[MigrationSchema] = []


# Sections a version takes from the one before when it does not state them.
INHERITED = (
    "vat",
    "periods",
    "plans",
    "add_ons",
    "promotions",
    "lifecycle",
    "seat_policy",
    "upgrade_policy",
    "marketplace",
)
DEFAULTS: dict[str, Any] = {
    "vat": VatSchema(mode=VatMode.INCLUDED),
    "add_ons": [],
    "promotions": [],
    "lifecycle": LifecycleSchema(),
    "seat_policy": SeatPolicy.PRORATE,
    "upgrade_policy": UpgradePolicy.PRORATE,
    "marketplace": None,
}


# --- messages for pydantic's own error types ----------------------------------------------

_PLAIN_MESSAGES = {
    "missing": "is required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}


def problem_message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind]
        return message if kind == "missing" else f"{message}, got {_got(error.get('input'))}"
    if kind in {"enum", "literal_error"}:
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"must be one of {expected}, got {_got(error.get('input'))}"
    message = str(error["msg"])
    return message[0].lower() + message[1:] if message else kind
