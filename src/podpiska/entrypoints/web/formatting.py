"""Money, numbers, dates and moments as people read them, in the request's language (Babel).

Russian by default: `3 990,00 ₽`, `22.11.2026`, `22 ноября 2026 г.`, moments in Moscow
time (`22.11.2026 15:00`). Amounts are `Decimal`, never float. Registered as Jinja filters
by `rendering.py` (`{{ invoice.total|money }}`, `{{ day|date }}`, `{{ at|moment }}`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

from podpiska.core.domain.money import CURRENCY_SIGNS, round_money
from podpiska.core.domain.text import Text
from podpiska.entrypoints.web.i18n import current_language

VENDOR_TIMEZONE = ZoneInfo("Europe/Moscow")  # the project's convention for moments shown


def money(amount: Decimal | None, currency: str = "RUB") -> str:
    """`3 990,00 ₽` (ru), `3,990.00 ₽` (en, as the CLI and documents write it); rounded to
    the kopeck, never `−0,00`."""
    if amount is None:
        return "—"
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    value = round_money(amount)
    if value == 0:
        value = abs(value)
    lang = current_language()
    # Russian: Babel's currency format; English: the amount and the sign after it.
    sign = CURRENCY_SIGNS.get(currency, currency)
    return Text(
        format_currency(value, currency, locale=lang),
        f"{format_decimal(value, '#,##0.00', locale=lang)}\xa0{sign}",
    ).get(lang)


def number(value: int | Decimal | None) -> str:
    """`1 024` (ru), `1,024` (en)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=current_language())


_DAY_FORMAT = Text("dd.MM.yyyy", "medium")


def short_date(day: date | None) -> str:
    """`22.11.2026` (ru), `Nov 22, 2026` (en): for tables."""
    if day is None:
        return "—"
    lang = current_language()
    return format_date(day, _DAY_FORMAT.get(lang), locale=lang)


def long_date(day: date | None) -> str:
    """`22 ноября 2026 г.` (ru), `November 22, 2026` (en): for sentences."""
    if day is None:
        return "—"
    return format_date(day, "long", locale=current_language())


_STOP_AFTER_ABBREVIATION = re.compile(r"(?<=[^\W\d_]\.)\.(?!\.)")


def month(day: date | None) -> str:
    """`ноябрь 2026` (ru), `November 2026` (en): a calendar month, as a heading names it."""
    if day is None:
        return "—"
    return format_date(day, "LLLL yyyy", locale=current_language())


def one_full_stop(text: str) -> str:
    """A sentence that ends with an abbreviation ends with its dot alone: `...до 18 апреля
    2027 г.` rather than `г..` (a long date in Russian ends with `г.`); an ellipsis stays."""
    if ".." not in text:
        return text
    joined = _STOP_AFTER_ABBREVIATION.sub("", str(text))
    return Markup(joined) if isinstance(text, Markup) else joined


def moment(at: datetime | None) -> str:
    """A timestamp in Moscow time: `22.11.2026 15:00` (ru), `Nov 22, 2026, 3:00 PM` (en)."""
    if at is None:
        return "—"
    lang = current_language()
    return format_datetime(
        at,
        Text("dd.MM.yyyy HH:mm", "medium").get(lang),
        tzinfo=VENDOR_TIMEZONE,
        locale=lang,
    )


def text(value: Text | None) -> str:
    """A catalog name (`Text`) in the request's language."""
    return value.get(current_language()) if value is not None else "—"


def megabytes(mb: int | None) -> str:
    """Disk use: `512 МБ`, `1,5 ГБ`, `1 ТБ` (ru)."""
    if mb is None:
        return "—"
    lang = current_language()
    if mb < 1024:
        return f"{number(mb)} {Text('МБ', 'MB').get(lang)}"
    if mb < 1024 * 1024:
        gb = round_money(Decimal(mb) / Decimal(1024)).normalize()
        return f"{number(gb)} {Text('ГБ', 'GB').get(lang)}"
    tb = round_money(Decimal(mb) / Decimal(1024 * 1024)).normalize()
    return f"{number(tb)} {Text('ТБ', 'TB').get(lang)}"


def upper_first(value: str) -> str:
    """The first letter capitalised, the rest kept (`REST API` stays; Jinja's
    `capitalize` would lower it)."""
    return value[:1].upper() + value[1:]


def term(invoice: Any) -> str:
    """An invoice's term as people read it, first to LAST paid day (`26.11.2026 –
    25.12.2026`): the stored `term_ends_on` is the first day not paid for; every page shows
    the last paid day, as "paid through" does."""
    starts, ends = invoice.term_starts_on, invoice.term_ends_on
    if starts is None or ends is None:
        return "—"
    return f"{short_date(starts)} – {short_date(ends - timedelta(days=1))}"


FILTERS = {
    "term": term,
    "money": money,
    "number": number,
    "date": short_date,
    "long_date": long_date,
    "month": month,
    "moment": moment,
    "text": text,
    "megabytes": megabytes,
    "upper_first": upper_first,
}
