"""The texts of a subscription's life: a term started (activated, renewed, restored), the
reminders before its end (with the autopay charge to come), grace and suspension,
cancellation and the undoing of it, and autopay turned on or off.
"""

from __future__ import annotations

from datetime import timedelta

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    as_int,
    count_days,
    describe_actions,
    format_date,
    join,
)
from podpiska.notifications.texts.payments import method_words


def term_started(x: Parts, kind: str) -> Notice:
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
            join(
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
        join(
            f"{headline} for account {x.account}" + (f": the {x.plan} plan." if x.plan else "."),
            "Everything works again." if kind == "restored" else None,
            f"The new term started on {starts}." if starts else None,
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )


def reminder(x: Parts) -> Notice:
    days = as_int(x.p.get("days_before"))
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
            join(
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
        join(
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


def _charge_lines(x: Parts) -> tuple[str, ...]:
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


def grace_started(x: Parts) -> Notice:
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
            join(
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
        join(
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


def suspended(x: Parts) -> Notice:
    renewal = x.renewal
    if x.ru:
        return Notice(
            f"Портал {x.account} приостановлен",
            join(
                f"Подписка портала {x.account} не продлена, льготный период закончился: "
                "портал приостановлен.",
                "Данные сохранены; доступны только просмотр и оплата счетов.",
                "Продлите подписку, чтобы восстановить доступ"
                + (f": сумма продления {renewal}." if renewal else "."),
            ),
        )
    return Notice(
        f"Account {x.account} suspended",
        join(
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


def cancelled(x: Parts) -> Notice:
    reason = x.p.get("reason")
    if x.ru:
        reason = CANCEL_REASONS_RU.get(str(reason), reason) if reason else None
        return Notice(
            "Подписка отменена",
            join(
                f"Подписка портала {x.account}"
                + (f" на тариф {x.plan}" if x.plan else "")
                + " отменена.",
                f"Причина: {reason}." if reason else None,
                "Чтобы снова пользоваться порталом, оформите новую подписку.",
            ),
        )
    return Notice(
        "Subscription cancelled",
        join(
            f"The subscription of account {x.account}"
            + (f" on the {x.plan} plan" if x.plan else "")
            + " was cancelled.",
            f"Reason: {reason}." if reason else None,
            "To use the account again, order a new subscription.",
        ),
    )


def autopay_changed(x: Parts) -> Notice:
    on = bool(x.p.get("autopay", x.ctx.autopay))
    through = x.paid_through
    if x.ru:
        if on:
            return Notice(
                "Автоплатёж включён",
                join(
                    f"Для портала {x.account} включён автоплатёж: подписка будет продлеваться "
                    "с сохранённой карты.",
                    f"Текущий период оплачен по {through} включительно." if through else None,
                ),
            )
        return Notice(
            "Автоплатёж отключён",
            join(
                f"Для портала {x.account} отключён автоплатёж.",
                f"Подписка оплачена по {through} включительно; продлите её вручную."
                if through
                else "Продлевайте подписку вручную.",
            ),
        )
    if on:
        return Notice(
            "Autopay turned on",
            join(
                f"Autopay is on for account {x.account}: the subscription will be renewed "
                "from the saved card.",
                f"The current term is paid through {through} inclusive." if through else None,
            ),
        )
    return Notice(
        "Autopay turned off",
        join(
            f"Autopay is off for account {x.account}.",
            f"The subscription is paid through {through} inclusive; renew it by hand."
            if through
            else "Renew the subscription by hand.",
        ),
    )


def cancel_scheduled(x: Parts) -> Notice:
    at_end = bool(x.p.get("cancel_at_period_end", True))
    through = x.paid_through
    if x.ru:
        if at_end:
            return Notice(
                "Подписка не будет продлена"
                + (f": она закончится после {through}" if through else ""),
                join(
                    f"Подписка портала {x.account} не будет продлена.",
                    f"Она действует по {through} включительно." if through else None,
                    "Передумали? Отмените отказ от продления в настройках оплаты.",
                ),
            )
        return Notice(
            "Подписка продолжится",
            join(
                f"Отказ от продления подписки портала {x.account} отменён: подписка продолжится.",
                f"Текущий период оплачен по {through} включительно." if through else None,
            ),
        )
    if at_end:
        return Notice(
            "Your subscription will not renew" + (f": it ends after {through}" if through else ""),
            join(
                f"The subscription of account {x.account} will not be renewed.",
                f"It stays active through {through} inclusive." if through else None,
                "Changed your mind? Undo the cancellation in the billing settings.",
            ),
        )
    return Notice(
        "Your subscription will continue",
        join(
            f"The cancellation of account {x.account}'s subscription was undone: "
            "the subscription continues.",
            f"The current term is paid through {through} inclusive." if through else None,
        ),
    )
