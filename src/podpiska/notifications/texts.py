"""E-mail texts for outbox events, in Russian (the default) and English.

Pure functions of their inputs: `render_notice(NoticeContext(...), lang)` returns a subject
and a plain-text body. Everything a text needs (the account's name, the plan's name, the
date the subscription is paid through, the amount to renew, the actions restricted in
grace) is looked up by `podpiska.notifications.fanout` and passed in; the event's own
fields come from its payload. Every event type of `core/domain/events.py` has its text (a test
renders each in both languages); an unknown type gets a neutral note, never its code or
its raw payload.

Plain `str` formatting on purpose: services do not import Jinja (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
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


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the texts ----------------------------------------------------------------------------


class _Parts:
    """The pieces every text uses, already formatted for one language."""

    def __init__(self, ctx: NoticeContext, lang: str) -> None:
        self.ctx = ctx
        self.lang = lang
        self.ru = lang == "ru"
        self.p = ctx.payload

    def money(self, value: Any) -> str | None:
        amount = _amount(value)
        return None if amount is None else format_money(amount, self.ctx.currency, self.lang)

    def day(self, value: Any) -> str | None:
        day = _date(value)
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
        day = _date(self.p.get("paid_through")) or self.ctx.paid_through
        return None if day is None else format_date(day, self.lang)

    @property
    def renewal(self) -> str | None:
        amount = _amount(self.p.get("renewal_total"))
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


def _join(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line is not None)


def _ordered(x: _Parts) -> Notice:
    months = _int(x.p.get("months"))
    term = count_months(months, x.lang) if months else None
    total = x.money(x.p.get("total"))
    if x.ru:
        what = f"тариф {x.plan}" if x.plan else "подписка"
        subject = f"Заказ принят: {what}" + (f" на {term}" if term else "")
        return Notice(
            subject,
            _join(
                f"Для портала {x.account} оформлен заказ: {what}"
                + (f" на {term}." if term else "."),
                f"Счёт {x.number()} на сумму {total}." if total else f"Счёт {x.number()}.",
                "Подписка начнёт действовать, как только счёт будет оплачен.",
            ),
        )
    what = f"the {x.plan} plan" if x.plan else "a subscription"
    subject = f"Order received: {what}" + (f" for {term}" if term else "")
    return Notice(
        subject,
        _join(
            f"An order was placed for account {x.account}: {what}"
            + (f" for {term}." if term else "."),
            f"Invoice {x.number()} for {total}." if total else f"Invoice {x.number()}.",
            "The subscription starts as soon as the invoice is paid.",
        ),
    )


def _invoice_issued(x: _Parts) -> Notice:
    total = x.money(x.p.get("total"))
    due = x.day(x.p.get("due_on"))
    renewal = x.p.get("kind") == "renewal"
    if x.ru:
        purpose = "на продление подписки" if renewal else "по заказу подписки"
        subject = f"Счёт {x.number()}" + (f" на {total}" if total else "")
        return Notice(
            subject,
            _join(
                f"Для портала {x.account} выставлен счёт {x.number()} {purpose}"
                + (f" на сумму {total}." if total else "."),
                f"Оплатите его до {due}." if due else None,
                f"Тариф: {x.plan}." if x.plan else None,
            ),
        )
    purpose = "to renew the subscription" if renewal else "for the subscription ordered"
    subject = f"Invoice {x.number()}" + (f" for {total}" if total else "")
    return Notice(
        subject,
        _join(
            f"Invoice {x.number()} {purpose} was issued to account {x.account}"
            + (f" for {total}." if total else "."),
            f"Please pay it by {due}." if due else None,
            f"Plan: {x.plan}." if x.plan else None,
        ),
    )


def _invoice_paid(x: _Parts) -> Notice:
    total = x.money(x.p.get("total"))
    if x.ru:
        return Notice(
            f"Счёт {x.number()} оплачен",
            _join(
                f"Оплата по счёту {x.number()} для портала {x.account} получена"
                + (f": {total}." if total else "."),
                "Спасибо!",
            ),
        )
    return Notice(
        f"Invoice {x.number()} paid",
        _join(
            f"The payment of invoice {x.number()} for account {x.account} was received"
            + (f": {total}." if total else "."),
            "Thank you!",
        ),
    )


def _invoice_partially_paid(x: _Parts) -> Notice:
    paid_amount = _amount(x.p.get("amount_paid"))
    total_amount = _amount(x.p.get("total"))
    paid, total = x.money(paid_amount), x.money(total_amount)
    left = None
    if paid_amount is not None and total_amount is not None:
        left = x.money(total_amount - paid_amount)
    if x.ru:
        return Notice(
            f"Частичная оплата по счёту {x.number()}",
            _join(
                f"По счёту {x.number()} для портала {x.account} получена частичная оплата.",
                f"Оплачено {paid} из {total}." if paid and total else None,
                f"Осталось оплатить: {left}." if left else None,
                "Подписка начнёт действовать, когда счёт будет оплачен полностью.",
            ),
        )
    return Notice(
        f"Partial payment of invoice {x.number()}",
        _join(
            f"A partial payment of invoice {x.number()} for account {x.account} was received.",
            f"Paid {paid} of {total}." if paid and total else None,
            f"Left to pay: {left}." if left else None,
            "The subscription starts once the invoice is paid in full.",
        ),
    )


def _term_started(x: _Parts, kind: str) -> Notice:
    starts = x.day(x.p.get("starts_on"))
    through = x.paid_through
    if x.ru:
        headline = {
            "activated": "Подписка активирована",
            "renewed": "Подписка продлена",
            "restored": "Доступ восстановлен",
        }[kind]
        subject = headline + (f": оплачена по {through}" if through else "")
        return Notice(
            subject,
            _join(
                f"{headline} для портала {x.account}" + (f": тариф {x.plan}." if x.plan else "."),
                "Все функции снова работают." if kind == "restored" else None,
                f"Новый период начался {starts}." if starts else None,
                f"Подписка оплачена по {through} включительно." if through else None,
            ),
        )
    headline = {
        "activated": "Subscription activated",
        "renewed": "Subscription renewed",
        "restored": "Access restored",
    }[kind]
    subject = headline + (f": paid through {through}" if through else "")
    return Notice(
        subject,
        _join(
            f"{headline} for account {x.account}" + (f": the {x.plan} plan." if x.plan else "."),
            "Everything works again." if kind == "restored" else None,
            f"The new term started on {starts}." if starts else None,
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )


def _reminder(x: _Parts) -> Notice:
    days = _int(x.p.get("days_before"))
    through = x.paid_through
    renewal = x.renewal
    autopay = x.ctx.autopay
    charge = x.ctx.charge
    if x.ru:
        when = (
            "заканчивается сегодня"
            if days == 0
            else f"заканчивается через {count_days(days)}"
            if days is not None
            else "скоро заканчивается"
        )
        plan = f" на тариф {x.plan}" if x.plan else ""
        subject = f"Подписка {when}" + (f": оплачена по {through}" if through else "")
        if charge is not None:  # the charge to come is the news
            subject = f"Автоплатёж {format_date(charge.on, 'ru')}" + (
                f": {x.money(charge.amount)}" if charge.amount is not None else ""
            )
        return Notice(
            subject,
            _join(
                f"Подписка портала {x.account}{plan} {when}"
                + (f": она оплачена по {through} включительно." if through else "."),
                *(
                    _charge_lines(x)
                    if charge is not None
                    else (
                        f"Сумма продления: {renewal}." if renewal else None,
                        "Включён автоплатёж: мы спишем оплату с сохранённой карты."
                        if autopay
                        else "Продлите подписку заранее, чтобы портал работал без перерыва.",
                    )
                ),
            ),
        )
    when = (
        "ends today"
        if days == 0
        else f"ends in {count_days(days, 'en')}"
        if days is not None
        else "ends soon"
    )
    plan = f" on the {x.plan} plan" if x.plan else ""
    subject = f"Your subscription {when}" + (f": paid through {through}" if through else "")
    if charge is not None:
        subject = f"Autopay on {format_date(charge.on, 'en')}" + (
            f": {x.money(charge.amount)}" if charge.amount is not None else ""
        )
    return Notice(
        subject,
        _join(
            f"The subscription of account {x.account}{plan} {when}"
            + (f": it is paid through {through} inclusive." if through else "."),
            *(
                _charge_lines(x)
                if charge is not None
                else (
                    f"Amount to renew: {renewal}." if renewal else None,
                    "Autopay is on: we will charge the saved card."
                    if autopay
                    else "Renew in advance to keep the account working without a break.",
                )
            ),
        ),
    )


def method_words(title: str, lang: str = "ru") -> str:
    """Where the money is taken from, from the saved method's title as the gateway gave it:
    `с карты Visa *4242`, `с банковской карты *4242`, `from Visa *4242`."""
    title = title.strip()
    if lang != "ru":
        return "through SBP" if title == "SBP" else f"from {title}"
    for prefix, words in (
        ("Bank card", "с банковской карты"),
        ("YooMoney wallet", "с кошелька ЮMoney"),
    ):
        if title.startswith(prefix):
            return f"{words}{title[len(prefix) :]}"
    if title == "SBP":
        return "через СБП"
    return f"с карты {title}"


def _charge_lines(x: _Parts) -> tuple[str, ...]:
    """The autopay charge to come: the day, the amount, the card; and how to stop it in
    time (by the day before)."""
    charge = x.ctx.charge
    assert charge is not None
    day = format_date(charge.on, x.lang)
    amount = x.money(charge.amount) if charge.amount is not None else None
    before = format_date(charge.on - timedelta(days=1), x.lang)
    method = method_words(charge.method, x.lang)
    if x.ru:
        return (
            f"Включён автоплатёж: {day} мы спишем"
            + (f" {amount}" if amount else " оплату продления")
            + f" {method}.",
            f"Если продлевать не нужно, отключите автоплатёж в настройках оплаты не позднее "
            f"{before}.",
        )
    return (
        f"Autopay is on: on {day} we will charge"
        + (f" {amount}" if amount else " the renewal")
        + f" {method}.",
        f"If you do not want to renew, turn autopay off in the billing settings by {before}.",
    )


def _grace_started(x: _Parts) -> Notice:
    until = x.day(x.p.get("grace_until"))
    through = x.paid_through
    codes = x.p.get("restricted")  # as of the event, when the lifecycle run recorded them
    if not isinstance(codes, list | tuple) or not codes:
        codes = x.ctx.grace_restricts
    restricted = describe_actions((str(c) for c in codes), x.lang)
    renewal = x.renewal
    if x.ru:
        return Notice(
            "Подписка закончилась: включён ограниченный режим" + (f" до {until}" if until else ""),
            _join(
                f"Оплаченный период подписки портала {x.account} закончился"
                + (f" {through}." if through else "."),
                "Портал работает в ограниченном режиме"
                + (f" до {until} включительно." if until else "."),
                f"Не работают: {restricted}." if restricted else "Часть функций недоступна.",
                "Данные сохранены. Продлите подписку, и всё заработает сразу"
                + (f": сумма продления {renewal}." if renewal else "."),
                "Если не продлить подписку до конца льготного периода, портал будет приостановлен.",
            ),
        )
    return Notice(
        "Your subscription ended: restricted mode" + (f" until {until}" if until else ""),
        _join(
            f"The paid term of account {x.account} has ended"
            + (f" ({through} was the last paid day)." if through else "."),
            "The account works in restricted mode"
            + (f" until {until} inclusive." if until else "."),
            f"Not available: {restricted}." if restricted else "Some features are unavailable.",
            "Your data is kept. Renew and everything works again at once"
            + (f": the amount to renew is {renewal}." if renewal else "."),
            "If the subscription is not renewed by the end of the grace period, the account "
            "will be suspended.",
        ),
    )


def _suspended(x: _Parts) -> Notice:
    renewal = x.renewal
    if x.ru:
        return Notice(
            f"Портал {x.account} приостановлен",
            _join(
                f"Подписка портала {x.account} не продлена, льготный период закончился: "
                "портал приостановлен.",
                "Данные сохранены; доступны только просмотр и оплата счетов.",
                "Продлите подписку, чтобы восстановить доступ"
                + (f": сумма продления {renewal}." if renewal else "."),
            ),
        )
    return Notice(
        f"Account {x.account} suspended",
        _join(
            f"The subscription of account {x.account} was not renewed and the grace period "
            "has ended: the account is suspended.",
            "Your data is kept; only reading and paying invoices remain available.",
            "Renew the subscription to restore access"
            + (f": the amount to renew is {renewal}." if renewal else "."),
        ),
    )


# Reasons the services write (in English) and what a customer reads in Russian.
CANCEL_REASONS_RU = {
    "cancelled at the end of the term": "подписка закончилась, продление было отменено",
    "cancelled by the customer": "по запросу владельца портала",
    "order cancelled": "заказ отменён",
}


def _cancelled(x: _Parts) -> Notice:
    reason = x.p.get("reason")
    if x.ru:
        reason = CANCEL_REASONS_RU.get(str(reason), reason) if reason else None
        return Notice(
            "Подписка отменена",
            _join(
                f"Подписка портала {x.account}"
                + (f" на тариф {x.plan}" if x.plan else "")
                + " отменена.",
                f"Причина: {reason}." if reason else None,
                "Чтобы снова пользоваться порталом, оформите новую подписку.",
            ),
        )
    return Notice(
        "Subscription cancelled",
        _join(
            f"The subscription of account {x.account}"
            + (f" on the {x.plan} plan" if x.plan else "")
            + " was cancelled.",
            f"Reason: {reason}." if reason else None,
            "To use the account again, order a new subscription.",
        ),
    )


def _autopay_changed(x: _Parts) -> Notice:
    on = bool(x.p.get("autopay", x.ctx.autopay))
    through = x.paid_through
    if x.ru:
        if on:
            return Notice(
                "Автоплатёж включён",
                _join(
                    f"Для портала {x.account} включён автоплатёж: подписка будет продлеваться "
                    "с сохранённой карты.",
                    f"Текущий период оплачен по {through} включительно." if through else None,
                ),
            )
        return Notice(
            "Автоплатёж отключён",
            _join(
                f"Для портала {x.account} отключён автоплатёж.",
                f"Подписка оплачена по {through} включительно; продлите её вручную."
                if through
                else "Продлевайте подписку вручную.",
            ),
        )
    if on:
        return Notice(
            "Autopay turned on",
            _join(
                f"Autopay is on for account {x.account}: the subscription will be renewed "
                "from the saved card.",
                f"The current term is paid through {through} inclusive." if through else None,
            ),
        )
    return Notice(
        "Autopay turned off",
        _join(
            f"Autopay is off for account {x.account}.",
            f"The subscription is paid through {through} inclusive; renew it by hand."
            if through
            else "Renew the subscription by hand.",
        ),
    )


def _cancel_scheduled(x: _Parts) -> Notice:
    at_end = bool(x.p.get("cancel_at_period_end", True))
    through = x.paid_through
    if x.ru:
        if at_end:
            return Notice(
                "Подписка не будет продлена"
                + (f": она закончится после {through}" if through else ""),
                _join(
                    f"Подписка портала {x.account} не будет продлена.",
                    f"Она действует по {through} включительно." if through else None,
                    "Передумали? Отмените отказ от продления в настройках оплаты.",
                ),
            )
        return Notice(
            "Подписка продолжится",
            _join(
                f"Отказ от продления подписки портала {x.account} отменён: подписка продолжится.",
                f"Текущий период оплачен по {through} включительно." if through else None,
            ),
        )
    if at_end:
        return Notice(
            "Your subscription will not renew" + (f": it ends after {through}" if through else ""),
            _join(
                f"The subscription of account {x.account} will not be renewed.",
                f"It stays active through {through} inclusive." if through else None,
                "Changed your mind? Undo the cancellation in the billing settings.",
            ),
        )
    return Notice(
        "Your subscription will continue",
        _join(
            f"The cancellation of account {x.account}'s subscription was undone: "
            "the subscription continues.",
            f"The current term is paid through {through} inclusive." if through else None,
        ),
    )


# Why a gateway declined, in words a customer understands (YooKassa's reasons).
FAILURE_WORDS: dict[str, dict[str, str]] = {
    "insufficient_funds": {"ru": "на карте недостаточно средств", "en": "insufficient funds"},
    "card_expired": {"ru": "срок действия карты истёк", "en": "the card has expired"},
    "general_decline": {"ru": "банк отклонил платёж", "en": "the bank declined the payment"},
    "3d_secure_failed": {
        "ru": "платёж не подтверждён кодом 3-D Secure",
        "en": "3-D Secure confirmation failed",
    },
    "permission_revoked": {
        "ru": "разрешение на списание отозвано",
        "en": "the permission to charge was revoked",
    },
    "expired_on_confirmation": {
        "ru": "платёж не был подтверждён вовремя",
        "en": "the payment was not confirmed in time",
    },
    "canceled_by_user": {"ru": "платёж отменён", "en": "the payment was cancelled"},
}


def _payment_failed(x: _Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    words = FAILURE_WORDS.get(reason, {}).get(x.lang, reason)
    amount = x.money(x.p.get("amount")) or ""
    number = x.p.get("number") or ""
    next_on = x.day(x.p.get("next_attempt_on"))
    autopay = x.p.get("kind") == "autopay"
    if x.ru:
        return Notice(
            "Не удалось списать оплату за подписку" if autopay else "Платёж не прошёл",
            _join(
                f"Платёж {amount} по счёту № {number} для портала {x.account} не прошёл"
                + (f": {words}." if words else "."),
                (
                    f"Мы повторим попытку {next_on}. Чтобы не ждать, оплатите счёт другой "
                    "картой в настройках оплаты."
                    if next_on
                    else "Больше попыток списания не будет: оплатите счёт вручную, чтобы "
                    "портал продолжил работать."
                )
                if autopay
                else "Попробуйте ещё раз или выберите другой способ оплаты.",
            ),
        )
    return Notice(
        "We could not charge your subscription" if autopay else "The payment did not go through",
        _join(
            f"The payment of {amount} for invoice {number} of account {x.account} failed"
            + (f": {words}." if words else "."),
            (
                f"We will try again on {next_on}. To avoid waiting, pay the invoice with another "
                "card in the billing settings."
                if next_on
                else "No more charges will be tried: pay the invoice by hand to keep the "
                "account running."
            )
            if autopay
            else "Try again or choose another payment method.",
        ),
    )


def _method_saved(x: _Parts) -> Notice:
    title = x.p.get("title") or ("карта" if x.ru else "card")
    if x.ru:
        return Notice(
            "Способ оплаты сохранён для автоплатежа",
            _join(
                f"Для портала {x.account} сохранён способ оплаты {title}: с него будет "
                "списываться плата за продление подписки.",
                "Удалить его и отключить автоплатёж можно в любой момент в настройках оплаты.",
            ),
        )
    return Notice(
        "Payment method saved for autopay",
        _join(
            f"Payment method {title} is saved for account {x.account}: renewals will be "
            "charged to it.",
            "You can remove it and turn autopay off at any time in the billing settings.",
        ),
    )


def _method_removed(x: _Parts) -> Notice:
    title = x.p.get("title") or ("карта" if x.ru else "card")
    if x.ru:
        return Notice(
            "Способ оплаты удалён",
            f"Способ оплаты {title} портала {x.account} удалён: списаний с него больше не будет.",
        )
    return Notice(
        "Payment method removed",
        f"Payment method {title} of account {x.account} was removed: it will not be charged again.",
    )


def _refund(x: _Parts, ok: bool) -> Notice:
    amount = x.money(x.p.get("amount")) or ""
    if x.ru:
        if ok:
            return Notice(
                "Деньги возвращены",
                f"Возврат {amount} для портала {x.account} отправлен на карту или кошелёк, "
                "с которого была оплата. Срок зачисления зависит от банка.",
            )
        return Notice(
            "Возврат не выполнен",
            f"Возврат {amount} для портала {x.account} не прошёл; сумма снова на балансе "
            "портала. Мы свяжемся с вами.",
        )
    if ok:
        return Notice(
            "Refund sent",
            f"A refund of {amount} for account {x.account} was sent to the card or wallet it "
            "was paid from. The bank decides when it arrives.",
        )
    return Notice(
        "Refund failed",
        f"The refund of {amount} for account {x.account} failed; the amount is back on the "
        "account's balance. We will contact you.",
    )


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(x: _Parts, value: Any, fallback: str) -> str:
    """A name stored in a payload as {"ru": ..., "en": ...} (or plain text), quoted."""
    if isinstance(value, Mapping):
        value = value.get(x.lang) or value.get("ru")
    name = str(value) if value else fallback
    return f"«{name}»" if x.ru else f"“{name}”"


def _migration_notice(x: _Parts) -> Notice:
    """Before a catalog migration's cut-over (catalog `migrations:`): the Marketplace
    becomes a subscription, or the account moves to a new price list."""
    cut_over = x.day(x.p.get("cut_over"))
    when_ru = f"с {cut_over}" if cut_over else "в ближайшее время"
    when_en = f"from {cut_over}" if cut_over else "soon"
    if x.p.get("kind") == "version":
        return _version_notice(x, when_ru, when_en)
    offer = _name(x, x.p.get("add_on_name"), "Маркетплейс" if x.ru else "Marketplace")
    raw = x.p.get("apps_stopping")
    apps = [str(a) for a in raw] if isinstance(raw, list) else []
    more = max(0, (_int(x.p.get("apps_stopping_count")) or len(apps)) - len(apps))
    raw_features = x.p.get("features_stopping")
    features = [str(f) for f in raw_features] if isinstance(raw_features, list) else []
    until = x.day(x.p.get("transition_until"))
    price, first = x.money(x.p.get("monthly_cost")), x.money(x.p.get("first_time_cost"))
    percent = x.p.get("first_time_percent")
    if x.ru:
        listed = ", ".join(f"«{a}»" for a in apps) + (f" и ещё {more}" if more else "")
        words = {"rest_api": "REST API", "webhooks": "вебхуки"}
        used = " и ".join(words.get(f, f) for f in features)
        return Notice(
            f"Приложения {when_ru} — по подписке {offer}",
            _join(
                f"{_first_up(when_ru)} приложения Маркета, REST API и вебхуки на портале "
                f"{x.account} будут работать только с подпиской {offer}. Приложения для переноса "
                "данных и базовые приложения вашего тарифа останутся бесплатными.",
                f"Без подписки перестанут работать: {listed}." if apps else None,
                f"Также перестанут работать {used}: ими пользуются ваши приложения."
                if used
                else None,
                None
                if apps or used
                else "Сейчас на портале нет приложений, которые перестанут работать.",
                f"Уже установленные приложения будут работать до {until} включительно."
                if until and apps
                else None,
                (
                    f"Подписка {offer}"
                    + (f" для тарифа {x.plan}" if x.plan else "")
                    + f": {price} в месяц"
                    + (f", при первой покупке — {first} (−{percent} %)." if first else ".")
                )
                if price
                else None,
            ),
        )
    listed = ", ".join(f"“{a}”" for a in apps) + (f" and {more} more" if more else "")
    words = {"rest_api": "the REST API", "webhooks": "webhooks"}
    used = " and ".join(words.get(f, f) for f in features)
    return Notice(
        f"Apps need the {offer} subscription {when_en}",
        _join(
            f"{_first_up(when_en)}, marketplace apps, the REST API and webhooks of account "
            f"{x.account} will work only with the {offer} subscription. Apps that move data in and "
            "the basic apps of your plan stay free.",
            f"Without it these apps stop working: {listed}." if apps else None,
            f"{_first_up(used)} will stop too: your apps use them." if used else None,
            None if apps or used else "No app of the account would stop working now.",
            f"Apps installed already keep working through {until}." if until and apps else None,
            (
                f"The {offer} subscription"
                + (f" for the {x.plan} plan" if x.plan else "")
                + f": {price} a month"
                + (f"; the first time {first} ({percent}% off)." if first else ".")
            )
            if price
            else None,
        ),
    )


def _version_notice(x: _Parts, when_ru: str, when_en: str) -> Notice:
    version = x.p.get("to_version") or ""
    at_renewal = x.p.get("mode") == "at_renewal"
    before, after = x.money(x.p.get("monthly_cost_today")), x.money(x.p.get("monthly_cost_after"))
    if x.ru:
        return Notice(
            f"Новые цены {when_ru}",
            _join(
                f"{_first_up(when_ru)} портал {x.account} переходит на прайс-лист {version}"
                + (": новые цены — с первого продления после этой даты." if at_renewal else ": "
                   "новые цены — со следующего счёта."),
                f"Стоимость в месяц по прейскуранту: сейчас {before}, будет {after}."
                if before and after
                else None,
            ),
        )  # fmt: skip
    return Notice(
        f"New prices {when_en}",
        _join(
            f"{_first_up(when_en)}, account {x.account} moves to price list {version}"
            + (": the new prices apply from the first renewal after that day." if at_renewal
               else ": the new prices apply from the next invoice."),
            f"List price per month: {before} now, {after} then." if before and after else None,
        ),
    )  # fmt: skip


def _version_moved(x: _Parts) -> Notice:
    version = x.p.get("to_version") or ""
    if x.ru:
        return Notice(
            f"Портал переведён на прайс-лист {version}".strip(),
            f"Подписка портала {x.account} переведена на прайс-лист {version}: новые цены "
            "действуют со следующего счёта. Оплаченный период не меняется.",
        )
    return Notice(
        f"Account moved to price list {version}".strip(),
        f"The subscription of account {x.account} moved to price list {version}: the new "
        "prices apply from the next invoice. The paid term does not change.",
    )


def _license_issued(x: _Parts) -> Notice:
    serial = x.p.get("serial") or "—"
    plan = x.plan or "—"
    users = _int(x.p.get("users"))
    paid = _date(x.p.get("paid_through"))
    grace = _date(x.p.get("grace_until"))
    key = x.p.get("key_id") or "—"
    if x.ru:
        return Notice(
            f"Файл лицензии {serial}",
            _join(
                f"Для портала {x.account} выпущен файл лицензии {serial}: тариф {plan}"
                + (f", пользователей: {users}" if users is not None else "")
                + (f", оплачено по {format_date(paid, 'ru')}" if paid else "")
                + (f", работает до {format_date(grace, 'ru')} с льготным периодом" if grace else "")
                + ".",
                "Файл во вложении: установите его вместо прежнего в вашей локальной "
                "установке. Он подписан ключом вендора "
                f"{key} и проверяется без подключения к интернету.",
            ),
        )
    return Notice(
        f"License file {serial}",
        _join(
            f"License file {serial} was issued for account {x.account}: plan {plan}"
            + (f", {users} users" if users is not None else "")
            + (f", paid through {format_date(paid, 'en')}" if paid else "")
            + (f", valid until {format_date(grace, 'en')} with the grace period" if grace else "")
            + ".",
            "The file is attached: install it in place of the previous one in your "
            f"on-premise installation. It is signed with the vendor's key {key} and is "
            "verified offline.",
        ),
    )


def _change_what(x: _Parts) -> str:
    """What a mid-term change does, from its `kind` and `params`, in words."""
    params = x.p.get("params")
    params = params if isinstance(params, Mapping) else {}
    kind = x.p.get("kind")
    if kind == "seats" and _int(params.get("seats")) is not None:
        seats = _int(params.get("seats"))
        return f"число пользователей — {seats}" if x.ru else f"{seats} users"
    if kind == "plan" and params.get("plan"):
        name = x.name(params["plan"])
        return f"переход на тариф {name}" if x.ru else f"a move to the {name} plan"
    if kind == "add_on" and params.get("add_on"):
        name = x.name(params["add_on"])
        return f"подключение {name}" if x.ru else f"adding {name}"
    return "изменение подписки" if x.ru else "a change of the subscription"


def _change(x: _Parts, status: str) -> Notice:
    """A mid-term change: waiting for its invoice to be paid, scheduled for the renewal,
    or applied now (a negative amount went to the account's credit)."""
    what = _change_what(x)
    due = _amount(x.p.get("amount_due"))
    through = x.paid_through
    if x.ru:
        if status == "pending":
            return Notice(
                "Изменение подписки ждёт оплаты",
                _join(
                    f"Для портала {x.account} заказано изменение подписки: {what}.",
                    f"Выставлен счёт на {x.money(due)}." if due else None,
                    "Изменение вступит в силу, как только счёт будет оплачен.",
                ),
            )
        if status == "scheduled":
            return Notice(
                "Изменение подписки запланировано",
                _join(
                    f"Для портала {x.account} запланировано изменение подписки: {what}.",
                    f"Оно вступит в силу со следующего периода, после {through}."
                    if through
                    else "Оно вступит в силу со следующего периода.",
                    "До этого всё работает как сейчас.",
                ),
            )
        return Notice(
            "Подписка изменена",
            _join(
                f"Подписка портала {x.account} изменена: {what}.",
                f"Неиспользованная стоимость {x.money(-due)} зачислена на баланс портала."
                if due is not None and due < 0
                else None,
                f"Подписка оплачена по {through} включительно." if through else None,
            ),
        )
    if status == "pending":
        return Notice(
            "A subscription change awaits payment",
            _join(
                f"A change of the subscription of account {x.account} was ordered: {what}.",
                f"An invoice for {x.money(due)} was issued." if due else None,
                "The change takes effect as soon as the invoice is paid.",
            ),
        )
    if status == "scheduled":
        return Notice(
            "A subscription change is scheduled",
            _join(
                f"A change of the subscription of account {x.account} is scheduled: {what}.",
                f"It takes effect with the next term, after {through}."
                if through
                else "It takes effect with the next term.",
                "Until then everything works as it does now.",
            ),
        )
    return Notice(
        "Subscription changed",
        _join(
            f"The subscription of account {x.account} was changed: {what}.",
            f"The unused value of {x.money(-due)} was added to the account's credit."
            if due is not None and due < 0
            else None,
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )


def _changed(x: _Parts) -> Notice:
    """The subscription's configuration now (after a change took effect)."""
    seats = _int(x.p.get("seats"))
    raw = x.p.get("add_ons")
    add_ons = ", ".join(x.name(a) for a in raw) if isinstance(raw, list | tuple) and raw else None
    through = x.paid_through
    if x.ru:
        return Notice(
            "Подписка изменена" + (f": тариф {x.plan}" if x.plan else ""),
            _join(
                f"Подписка портала {x.account} изменена. Теперь в ней:",
                f"тариф: {x.plan};" if x.plan else None,
                f"пользователей: {seats};" if seats is not None else None,
                f"дополнения: {add_ons}." if add_ons else "дополнений нет.",
                f"Подписка оплачена по {through} включительно." if through else None,
            ),
        )
    return Notice(
        "Subscription changed" + (f": the {x.plan} plan" if x.plan else ""),
        _join(
            f"The subscription of account {x.account} was changed. It now has:",
            f"plan: {x.plan};" if x.plan else None,
            f"users: {seats};" if seats is not None else None,
            f"add-ons: {add_ons}." if add_ons else "no add-ons.",
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )


# Why an invoice was voided (the services write English), for a Russian reader.
VOID_REASONS_RU = {
    "replaced by a new renewal": "вместо него выставлен новый счёт на продление",
    "order cancelled": "заказ отменён",
    "cancelled by the customer": "по запросу владельца портала",
    "subscription cancelled": "подписка отменена",
    "the change was not paid in time": "изменение подписки не оплачено вовремя",
    "change cancelled": "изменение подписки отменено",
    "cancelled at the end of the term": "подписка закончилась, продление было отменено",
}


def _invoice_voided(x: _Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    if x.ru:
        words = VOID_REASONS_RU.get(reason)
        return Notice(
            f"Счёт {x.number()} аннулирован",
            _join(
                f"Счёт {x.number()} портала {x.account} аннулирован"
                + (f": {words}." if words else "."),
                "Оплачивать его не нужно; если по нему уже была оплата, она зачислена на "
                "баланс портала.",
            ),
        )
    return Notice(
        f"Invoice {x.number()} voided",
        _join(
            f"Invoice {x.number()} of account {x.account} was voided"
            + (f": {reason}." if reason else "."),
            "There is nothing to pay on it; any payment made on it went to the account's credit.",
        ),
    )


def _credit_note_issued(x: _Parts) -> Notice:
    number = x.p.get("number") or "—"
    invoice = x.p.get("invoice_number")
    amount = _amount(x.p.get("total"))
    total = x.money(abs(amount)) if amount is not None else None
    if x.ru:
        return Notice(
            f"Корректировочный документ № {number}",
            _join(
                f"Для портала {x.account} выпущен корректировочный документ № {number}"
                + (f" к счёту № {invoice}" if invoice else "")
                + (f" на сумму {total}." if total else "."),
                "Документ во вложении; сумма уменьшает начисления по счёту.",
            ),
        )
    return Notice(
        f"Credit note No. {number}",
        _join(
            f"Credit note No. {number} was issued to account {x.account}"
            + (f" for invoice No. {invoice}" if invoice else "")
            + (f", amount {total}." if total else "."),
            "The document is attached; it reduces what the invoice charged.",
        ),
    )


def _refund_requested(x: _Parts) -> Notice:
    amount = x.money(x.p.get("amount"))
    if x.ru:
        return Notice(
            "Возврат денег оформлен",
            _join(
                f"Для портала {x.account} оформлен возврат" + (f" {amount}." if amount else "."),
                "Деньги вернутся на карту или кошелёк, с которого была оплата; мы напишем, "
                "когда возврат пройдёт.",
            ),
        )
    return Notice(
        "Refund requested",
        _join(
            f"A refund{f' of {amount}' if amount else ''} was requested for account {x.account}.",
            "The money goes back to the card or wallet it was paid from; we will write when "
            "the refund is done.",
        ),
    )


def _app(x: _Parts, installed: bool) -> Notice:
    app = x.name(x.p.get("app") or ("приложение" if x.ru else "app"))
    if x.ru:
        if installed:
            return Notice(
                f"Приложение {app} установлено",
                f"На портал {x.account} установлено приложение {app}. Удалить его можно в "
                "разделе «Маркетплейс».",
            )
        return Notice(
            f"Приложение {app} удалено",
            f"С портала {x.account} удалено приложение {app}: оно больше не работает с "
            "данными портала.",
        )
    if installed:
        return Notice(
            f"App {app} installed",
            f"App {app} was installed on account {x.account}. You can remove it in the "
            "Marketplace section.",
        )
    return Notice(
        f"App {app} removed",
        f"App {app} was removed from account {x.account}: it no longer works with the "
        "account's data.",
    )


def _trial_started(x: _Parts) -> Notice:
    offer = x.name(x.p.get("add_on") or "marketplace")
    last = x.day(x.p.get("last_day"))
    if x.ru:
        return Notice(
            f"Пробный период {offer} начался",
            _join(
                f"Для портала {x.account} включён бесплатный пробный период подписки {offer}"
                + (f": до {last} включительно." if last else "."),
                "После него подписка не продлевается сама: чтобы пользоваться ею дальше, "
                "подключите её в разделе «Маркетплейс».",
            ),
        )
    return Notice(
        f"Your {offer} trial has started",
        _join(
            f"A free trial of the {offer} subscription is on for account {x.account}"
            + (f": through {last} inclusive." if last else "."),
            "It does not turn into a paid subscription by itself: to keep it, add it in the "
            "Marketplace section.",
        ),
    )


def _generic(x: _Parts) -> Notice:
    """An event without a text of its own (none today: a test renders every type): a
    neutral note, never the event's code or its raw payload."""
    if x.ru:
        return Notice(
            f"Изменения по порталу {x.account}",
            "По подписке портала произошли изменения. Подробности — в личном кабинете.",
        )
    return Notice(
        f"Changes to account {x.account}",
        "Something changed in the account's subscription. See the customer portal.",
    )


_TEXTS: dict[str, Callable[[_Parts], Notice]] = {
    "subscription.ordered": _ordered,
    "invoice.issued": _invoice_issued,
    "invoice.paid": _invoice_paid,
    "invoice.partially_paid": _invoice_partially_paid,
    "subscription.activated": lambda x: _term_started(x, "activated"),
    "subscription.renewed": lambda x: _term_started(x, "renewed"),
    "subscription.restored": lambda x: _term_started(x, "restored"),
    "subscription.reminder": _reminder,
    "subscription.grace_started": _grace_started,
    "subscription.suspended": _suspended,
    "subscription.cancelled": _cancelled,
    "subscription.autopay_changed": _autopay_changed,
    "subscription.cancel_scheduled": _cancel_scheduled,
    "payment.failed": _payment_failed,
    "payment_method.saved": _method_saved,
    "payment_method.removed": _method_removed,
    "refund.succeeded": lambda x: _refund(x, True),
    "refund.failed": lambda x: _refund(x, False),
    "migration.notice": _migration_notice,
    "subscription.version_moved": _version_moved,
    "license.issued": _license_issued,
    "subscription.changed": _changed,
    "subscription.change_pending": lambda x: _change(x, "pending"),
    "subscription.change_scheduled": lambda x: _change(x, "scheduled"),
    "subscription.change_applied": lambda x: _change(x, "applied"),
    "invoice.voided": _invoice_voided,
    "credit_note.issued": _credit_note_issued,
    "refund.requested": _refund_requested,
    "app.installed": lambda x: _app(x, True),
    "app.removed": lambda x: _app(x, False),
    "trial.started": _trial_started,
}

EVENT_TYPES: tuple[str, ...] = tuple(_TEXTS)

_GREETING = {"ru": "Здравствуйте!", "en": "Hello,"}
_SIGNATURE = {
    "ru": "Это автоматическое письмо Podpiska: отвечать на него не нужно.",
    "en": "This is an automatic message from Podpiska: no need to reply.",
}


def render_notice(ctx: NoticeContext, lang: str = "ru") -> Notice:
    """The subject and text of the e-mail about `ctx.event_type` (generic when unknown)."""
    if lang not in LANGUAGES:
        lang = "ru"
    notice = _TEXTS.get(ctx.event_type, _generic)(_Parts(ctx, lang))
    text = f"{_GREETING[lang]}\n\n{notice.text}\n\n—\n{_SIGNATURE[lang]}\n"
    return Notice(notice.subject, text)
