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
from podpiska.core.domain.text import Plural, Text, quoted

LANGUAGES = ("ru", "en")

# What an entitlement action means to a customer, in the order of `ACTIONS`.
ACTION_WORDS: dict[str, Text] = {
    "crm.read": Text("просмотр CRM", "viewing the CRM"),
    "crm.create_deal": Text("создание сделок", "creating deals"),
    "crm.create_contact": Text("создание контактов", "creating contacts"),
    "crm.update": Text("изменение записей CRM", "editing CRM records"),
    "integrations.use": Text("интеграции", "integrations"),
    "rest_api.call": Text("вызовы REST API", "REST API calls"),
    "webhooks.use": Text("вебхуки", "webhooks"),
    "apps.install": Text("установка приложений", "installing apps"),
    "apps.use": Text("работа приложений", "using apps"),
    "users.add": Text("добавление пользователей", "adding users"),
    "disk.write": Text("загрузка файлов", "uploading files"),
    "billing.read": Text("просмотр счетов", "viewing invoices"),
    "billing.pay": Text("оплата счетов", "paying invoices"),
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
    return Text(day.strftime("%d.%m.%Y"), f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}").get(
        lang
    )


DAYS = Plural("день", "дня", "дней", "day", "days")
MONTHS = Plural("месяц", "месяца", "месяцев", "month", "months")


def count_days(n: int, lang: str = "ru") -> str:
    return DAYS.count(n, lang)


def count_months(n: int, lang: str = "ru") -> str:
    return MONTHS.count(n, lang)


def describe_actions(codes: Iterable[str], lang: str = "ru") -> str:
    """Action codes in words, in a stable order: `создание сделок, вебхуки`. Unknown codes
    are shown as they are."""
    wanted = set(codes)
    ordered = [a for a in ACTIONS if a in wanted] + sorted(wanted - set(ACTIONS))
    known = ACTION_WORDS if lang in LANGUAGES else {}  # another language: the codes
    words = [known[code].get(lang) if code in known else code for code in ordered]
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
        self.p = ctx.payload

    def t(self, ru: str, en: str) -> str:
        """The sentence in this text's language: `x.t("Счёт оплачен", "Invoice paid")`."""
        return Text(ru, en).get(self.lang)

    def q(self, name: object) -> str:
        """A name in this language's quotes: «Стандартный», “Standard”."""
        return quoted(name, self.lang)

    def money(self, value: Any) -> str | None:
        amount = as_amount(value)
        return None if amount is None else format_money(amount, self.ctx.currency, self.lang)

    def day(self, value: Any) -> str | None:
        day = as_date(value)
        return None if day is None else format_date(day, self.lang)

    @property
    def account(self) -> str:
        return self.q(self.ctx.account_name)

    @property
    def plan(self) -> str | None:
        name = self.ctx.plan_name or self.ctx.plan_code or self.p.get("plan")
        if not name:
            return None
        return self.q(name)

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
        return self.q(text)

    def number(self) -> str:
        number = self.p.get("number") or self.p.get("invoice_number")
        if not number:
            number = self.p.get("invoice_id")
        return self.t(f"№ {number}", f"No. {number}")


def join(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line is not None)
