"""What every notice text stands on: the context of one e-mail, the notice itself, and the
small formatting helpers (dates, Russian plurals, days and months, actions in words, payload
values read leniently) with `Parts`, the pieces of a text already formatted for one
language. Public helpers: the web and PDF texts may use them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from podpiska.catalog.domain.catalog import ACTIONS
from podpiska.core.domain.money import format_money

LANGUAGES = ("ru", "en")

# What an entitlement action means to a customer, in the order of `ACTIONS`.
ACTION_WORDS: dict[str, dict[str, str]] = {
    "crm.read": {"ru": "просмотр CRM", "en": "viewing the CRM"},
    "crm.create_deal": {"ru": "создание сделок", "en": "creating deals"},
    "crm.create_contact": {"ru": "создание контактов", "en": "creating contacts"},
    "crm.update": {"ru": "изменение записей CRM", "en": "editing CRM records"},
    "integrations.use": {"ru": "интеграции", "en": "integrations"},
    "rest_api.call": {"ru": "вызовы REST API", "en": "REST API calls"},
    "webhooks.use": {"ru": "вебхуки", "en": "webhooks"},
    "apps.install": {"ru": "установка приложений", "en": "installing apps"},
    "apps.use": {"ru": "работа приложений", "en": "using apps"},
    "users.add": {"ru": "добавление пользователей", "en": "adding users"},
    "disk.write": {"ru": "загрузка файлов", "en": "uploading files"},
    "billing.read": {"ru": "просмотр счетов", "en": "viewing invoices"},
    "billing.pay": {"ru": "оплата счетов", "en": "paying invoices"},
}

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class UpcomingCharge:
    """An autopay charge to come: the day, the amount and the saved method's title as the
    gateway gave it ("Visa *4242", "Bank card *4242")."""

    on: date
    amount: Decimal | None  # None: the renewal cannot be priced as it stands
    method: str


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """Everything an e-mail about one event says.

    `payload` is the outbox event's payload as stored (dates as ISO strings, amounts as
    strings or numbers). The other fields come from the database and the catalog:
    `plan_name` is the plan's name in the e-mail's language (None: show `plan_code`),
    `paid_through` the last paid day (the subscription's `ends_on` − 1 day),
    `renewal_total` the amount to renew when known.
    """

    event_type: str
    account_name: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    plan_code: str | None = None
    plan_name: str | None = None
    paid_through: date | None = None
    renewal_total: Decimal | None = None
    currency: str = "RUB"
    grace_restricts: frozenset[str] = frozenset()
    autopay: bool | None = None
    # Names of the codes a payload may carry (plans, add-ons, apps), in the e-mail's language.
    names: Mapping[str, str] = field(default_factory=dict)
    # The next autopay charge, when the e-mail is about an autopay renewal to come.
    charge: UpcomingCharge | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    text: str


# -- small formatting helpers (public: the web and PDF texts may use them too) ----------


def format_date(day: date, lang: str = "ru") -> str:
    """`29.11.2026` in Russian, `29 November 2026` in English."""
    if lang == "ru":
        return day.strftime("%d.%m.%Y")
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for `n`: 1 день, 2 дня, 5 дней, 11 дней, 21 день."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count_days(n: int, lang: str = "ru") -> str:
    if lang == "ru":
        return f"{n} {plural_ru(n, 'день', 'дня', 'дней')}"
    return f"{n} day" if n == 1 else f"{n} days"


def count_months(n: int, lang: str = "ru") -> str:
    if lang == "ru":
        return f"{n} {plural_ru(n, 'месяц', 'месяца', 'месяцев')}"
    return f"{n} month" if n == 1 else f"{n} months"


def describe_actions(codes: Iterable[str], lang: str = "ru") -> str:
    """Action codes in words, in a stable order: `создание сделок, вебхуки`. Unknown codes
    are shown as they are."""
    wanted = set(codes)
    ordered = [a for a in ACTIONS if a in wanted] + sorted(wanted - set(ACTIONS))
    words = [ACTION_WORDS.get(code, {}).get(lang, code) for code in ordered]
    return ", ".join(words)


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def as_amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the texts ----------------------------------------------------------------------------


class Parts:
    """The pieces every text uses, already formatted for one language."""

    def __init__(self, ctx: NoticeContext, lang: str) -> None:
        self.ctx = ctx
        self.lang = lang
        self.ru = lang == "ru"
        self.p = ctx.payload

    def money(self, value: Any) -> str | None:
        amount = as_amount(value)
        return None if amount is None else format_money(amount, self.ctx.currency, self.lang)

    def day(self, value: Any) -> str | None:
        day = as_date(value)
        return None if day is None else format_date(day, self.lang)

    @property
    def account(self) -> str:
        return f"«{self.ctx.account_name}»" if self.ru else f"“{self.ctx.account_name}”"

    @property
    def plan(self) -> str | None:
        name = self.ctx.plan_name or self.ctx.plan_code or self.p.get("plan")
        if not name:
            return None
        return f"«{name}»" if self.ru else f"“{name}”"

    @property
    def paid_through(self) -> str | None:
        day = as_date(self.p.get("paid_through")) or self.ctx.paid_through
        return None if day is None else format_date(day, self.lang)

    @property
    def renewal(self) -> str | None:
        amount = as_amount(self.p.get("renewal_total"))
        if amount is None:
            amount = self.ctx.renewal_total
        return None if amount is None else format_money(amount, self.ctx.currency, self.lang)

    def name(self, code: Any) -> str:
        """A plan's, add-on's or app's name, quoted (the code itself when unknown)."""
        text = self.ctx.names.get(str(code), str(code))
        return f"«{text}»" if self.ru else f"“{text}”"

    def number(self) -> str:
        number = self.p.get("number") or self.p.get("invoice_number")
        if number:
            return f"№ {number}" if self.ru else f"No. {number}"
        invoice_id = self.p.get("invoice_id")
        return f"№ {invoice_id}" if self.ru else f"No. {invoice_id}"


def join(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line is not None)
