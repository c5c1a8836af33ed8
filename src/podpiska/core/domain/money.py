"""Money: Decimal amounts with a currency, the one place where rounding happens.

Every amount the system stores or shows is rounded here, ROUND_HALF_UP to the kopeck.
Intermediate products (price × months × (1 − discount)) stay exact `Decimal` values until
they pass through `round_money`. No `float` ever touches money.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from podpiska.core.domain.text import Text

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}


# The largest amount any input may carry: 13 digits of roubles (under ten trillion), well
# inside Numeric(18, 2) and int64 kopecks.
MAX_AMOUNT_DIGITS = 13
_AMOUNT_TEXT = re.compile(r"(-?)([0-9]+)(?:[.,]([0-9]{1,2}))?", re.ASCII)
# An amount as the pages print it, its thousands grouped by a space (a no-break or a narrow
# no-break one in text copied from a page): "1 500 000,00".
_GROUP_SPACES = " \u00a0\u202f"
_GROUPED_TEXT = re.compile(f"[0-9]{{1,3}}(?:[{_GROUP_SPACES}][0-9]{{3}})+(?:[.,][0-9]{{1,2}})?")


class AmountFormatError(ValueError):
    """Text that is not an amount of money; `reason` says why in a few English words."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"not an amount ({reason}): {text[:40]!r}")


def parse_money(text: str, *, allow_negative: bool = False) -> Decimal:
    """The one parser of money typed or sent by people and files (API, CLI, statements).

    Plain ASCII digits, an optional `.` or `,` with one or two decimals, at most
    `MAX_AMOUNT_DIGITS` digits before it, a leading `-` only where `allow_negative`. No
    spaces, underscores, exponents, other scripts' digits, `NaN` or `Infinity` (Python's
    `Decimal()` takes all of those). Returns the amount with two decimals.
    """
    if not isinstance(text, str):
        raise AmountFormatError(repr(text), "not text")
    if len(text) > MAX_AMOUNT_DIGITS + 4:
        raise AmountFormatError(text, "too long")
    found = _AMOUNT_TEXT.fullmatch(text)
    if found is None:
        raise AmountFormatError(text, "digits and one decimal separator only")
    sign, whole, fraction = found.groups()
    if sign and not allow_negative:
        raise AmountFormatError(text, "negative")
    if len(whole.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise AmountFormatError(text, "too large")
    return Decimal(f"{sign}{whole}.{(fraction or '').ljust(2, '0')}")


def parse_typed_money(text: str) -> Decimal:
    """Money a person typed into a form (the back office's): the spaces around it trimmed
    and the thousands grouped by spaces as the pages print them ("1 500,00"), then
    `parse_money`'s rules, every one of them (a space anywhere else is refused)."""
    if not isinstance(text, str):
        raise AmountFormatError(repr(text), "not text")
    if len(text) > 2 * MAX_AMOUNT_DIGITS + 4:
        raise AmountFormatError(text, "too long")
    value = text.strip()
    if _GROUPED_TEXT.fullmatch(value):
        value = re.sub(f"[{_GROUP_SPACES}]", "", value)
    return parse_money(value)


def round_money(value: Decimal) -> Decimal:
    """Round an exact amount to the kopeck, half away from zero (ROUND_HALF_UP)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_money(value: Decimal) -> bool:
    """True when the value is finite and has at most two decimal places."""
    return value.is_finite() and value == value.quantize(CENT)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency. Construction rounds to the kopeck."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"money must be Decimal, got {type(self.amount).__name__}")
        object.__setattr__(self, "amount", round_money(self.amount))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def format(self, lang: str = "ru") -> str:
        return format_money(self.amount, self.currency, lang)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a rounded `total` over parts in proportion to `weights`, summing back exactly.

    Largest-remainder method on kopecks: each part gets its floor share, and the kopecks
    left over go to the parts with the largest remainders (the earliest part wins a tie).
    Works for negative totals (a credit note) by splitting the absolute value.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    if not is_money(total):
        raise ValueError(f"total must be a rounded amount, got {total}")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    sign = -1 if total < 0 else 1
    kopecks = int(abs(total) / CENT)
    exact = [Decimal(kopecks) * w / weight_sum for w in weights]
    floors = [int(e) for e in exact]
    left = kopecks - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * k) * CENT for k in floors]


def format_amount(amount: Decimal, lang: str = "ru") -> str:
    """`3 990,00` in Russian, `3,990.00` in English (groups of three, two decimals)."""
    rounded = round_money(amount)
    text = f"{abs(rounded) if rounded == 0 else rounded:,.2f}"  # never "−0,00"
    return Text(text.replace(",", " ").replace(".", ","), text).get(lang).replace("-", "−")


def format_money(amount: Decimal, currency: str, lang: str = "ru") -> str:
    """`3 990,00 ₽` (ru) or `3,990.00 ₽` (en)."""
    return f"{format_amount(amount, lang)} {CURRENCY_SIGNS.get(currency, currency)}"


def format_percent(value: Decimal, lang: str = "ru") -> str:
    """`10 %` (ru, the Russian typographic rule) or `10%` (en); `52,5 %` keeps decimals."""
    text = _plain(value)
    return Text(f"{text.replace('.', ',')} %", f"{text}%").get(lang)


def _plain(value: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent form: 10, 52.5, 0."""
    if value == 0:
        return "0"
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        normal = normal.quantize(Decimal(1))
    return f"{normal:f}"


def plain_decimal(value: Decimal) -> str:
    """Public form of `_plain` for JSON: `22`, `52.5`."""
    return _plain(value)


class VatMode(StrEnum):
    """How a product's price relates to VAT (НДС)."""

    INCLUDED = "included"  # the price contains VAT: "в т.ч. НДС 22 %"
    EXCLUDED = "excluded"  # VAT is added on top of the price
    EXEMPT = "exempt"  # "Без НДС"


DEFAULT_VAT_RATE = Decimal(22)  # the Russian rate from 2026-01-01


@dataclass(frozen=True, slots=True)
class Vat:
    mode: VatMode
    rate: Decimal = DEFAULT_VAT_RATE

    def __post_init__(self) -> None:
        if self.mode is VatMode.EXEMPT:
            object.__setattr__(self, "rate", Decimal(0))
        elif not Decimal(0) < self.rate < HUNDRED:
            raise ValueError(f"VAT rate must be between 0 and 100, got {self.rate}")

    def amount_of(self, amount: Decimal) -> Decimal:
        """The VAT in (included) or on top of (excluded) a rounded amount."""
        if self.mode is VatMode.INCLUDED:
            return round_money(amount * self.rate / (HUNDRED + self.rate))
        if self.mode is VatMode.EXCLUDED:
            return round_money(amount * self.rate / HUNDRED)
        return ZERO

    def gross_of(self, amount: Decimal) -> Decimal:
        """What the buyer pays for `amount`: with VAT on top when it is excluded."""
        if self.mode is VatMode.EXCLUDED:
            return amount + self.amount_of(amount)
        return amount

    def label(self, lang: str = "ru") -> str:
        if self.mode is VatMode.EXEMPT:
            return Text("Без НДС", "VAT exempt").get(lang)
        rate = format_percent(self.rate, lang)
        if self.mode is VatMode.INCLUDED:
            return Text(f"в т.ч. НДС {rate}", f"incl. VAT {rate}").get(lang)
        return Text(f"НДС {rate} сверх цены", f"plus VAT {rate}").get(lang)
