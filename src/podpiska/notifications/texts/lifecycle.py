"""The texts of a subscription's life: a term started (activated, renewed, restored), the
reminders before its end (with the autopay charge to come), grace and suspension,
cancellation and the undoing of it, and autopay turned on or off.
"""

from __future__ import annotations

from datetime import timedelta

from podpiska.core.domain.text import Text
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

_HEADLINES: dict[str, Text] = {
    "activated": Text("Подписка активирована", "Subscription activated"),
    "renewed": Text("Подписка продлена", "Subscription renewed"),
    "restored": Text("Доступ восстановлен", "Access restored"),
}


def term_started(x: Parts, kind: str) -> Notice:
    starts = x.day(x.p.get("starts_on"))
    through = x.paid_through
    headline = _HEADLINES[kind].get(x.lang)
    return Notice(
        headline
        + (x.t(f": оплачена по {through}", f": paid through {through}") if through else ""),
        join(
            x.t(f"{headline} для портала {x.account}", f"{headline} for account {x.account}")
            + (x.t(f": тариф {x.plan}.", f": the {x.plan} plan.") if x.plan else "."),
            x.t("Все функции снова работают.", "Everything works again.")
            if kind == "restored"
            else None,
            x.t(f"Новый период начался {starts}.", f"The new term started on {starts}.")
            if starts
            else None,
            x.t(
                f"Подписка оплачена по {through} включительно.",
                f"The subscription is paid through {through} inclusive.",
            )
            if through
            else None,
        ),
    )


def reminder(x: Parts) -> Notice:
    days = as_int(x.p.get("days_before"))
    through = x.paid_through
    renewal = x.renewal
    charge = x.ctx.charge
    if days == 0:
        when = x.t("заканчивается сегодня", "ends today")
    elif days is not None:
        when = x.t(f"заканчивается через {count_days(days)}", f"ends in {count_days(days, 'en')}")
    else:
        when = x.t("скоро заканчивается", "ends soon")
    plan = x.t(f" на тариф {x.plan}", f" on the {x.plan} plan") if x.plan else ""
    subject = x.t(f"Подписка {when}", f"Your subscription {when}") + (
        x.t(f": оплачена по {through}", f": paid through {through}") if through else ""
    )
    if charge is not None:  # the charge to come is the news
        subject = x.t(
            f"Автоплатёж {format_date(charge.on, 'ru')}",
            f"Autopay on {format_date(charge.on, 'en')}",
        ) + (f": {x.money(charge.amount)}" if charge.amount is not None else "")
    if charge is not None:
        rest: tuple[str | None, ...] = _charge_lines(x)
    else:
        rest = (
            x.t(f"Сумма продления: {renewal}.", f"Amount to renew: {renewal}.")
            if renewal
            else None,
            x.t(
                "Включён автоплатёж: мы спишем оплату с сохранённой карты.",
                "Autopay is on: we will charge the saved card.",
            )
            if x.ctx.autopay
            else x.t(
                "Продлите подписку заранее, чтобы портал работал без перерыва.",
                "Renew in advance to keep the account working without a break.",
            ),
        )
    return Notice(
        subject,
        join(
            x.t(
                f"Подписка портала {x.account}{plan} {when}",
                f"The subscription of account {x.account}{plan} {when}",
            )
            + (
                x.t(
                    f": она оплачена по {through} включительно.",
                    f": it is paid through {through} inclusive.",
                )
                if through
                else "."
            ),
            *rest,
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
    return (
        x.t(f"Включён автоплатёж: {day} мы спишем", f"Autopay is on: on {day} we will charge")
        + (f" {amount}" if amount else x.t(" оплату продления", " the renewal"))
        + f" {method}.",
        x.t(
            "Если продлевать не нужно, отключите автоплатёж в настройках оплаты не позднее "
            f"{before}.",
            f"If you do not want to renew, turn autopay off in the billing settings by {before}.",
        ),
    )


def grace_started(x: Parts) -> Notice:
    until = x.day(x.p.get("grace_until"))
    through = x.paid_through
    codes = x.p.get("restricted")  # as of the event, when the lifecycle run recorded them
    if not isinstance(codes, list | tuple) or not codes:
        codes = x.ctx.grace_restricts
    restricted = describe_actions((str(c) for c in codes), x.lang)
    renewal = x.renewal
    return Notice(
        x.t(
            "Подписка закончилась: включён ограниченный режим",
            "Your subscription ended: restricted mode",
        )
        + (x.t(f" до {until}", f" until {until}") if until else ""),
        join(
            x.t(
                f"Оплаченный период подписки портала {x.account} закончился",
                f"The paid term of account {x.account} has ended",
            )
            + (x.t(f" {through}.", f" ({through} was the last paid day).") if through else "."),
            x.t("Портал работает в ограниченном режиме", "The account works in restricted mode")
            + (x.t(f" до {until} включительно.", f" until {until} inclusive.") if until else "."),
            x.t(f"Не работают: {restricted}.", f"Not available: {restricted}.")
            if restricted
            else x.t("Часть функций недоступна.", "Some features are unavailable."),
            x.t(
                "Данные сохранены. Продлите подписку, и всё заработает сразу",
                "Your data is kept. Renew and everything works again at once",
            )
            + (
                x.t(f": сумма продления {renewal}.", f": the amount to renew is {renewal}.")
                if renewal
                else "."
            ),
            x.t(
                "Если не продлить подписку до конца льготного периода, портал будет приостановлен.",
                "If the subscription is not renewed by the end of the grace period, the "
                "account will be suspended.",
            ),
        ),
    )


def suspended(x: Parts) -> Notice:
    renewal = x.renewal
    return Notice(
        x.t(f"Портал {x.account} приостановлен", f"Account {x.account} suspended"),
        join(
            x.t(
                f"Подписка портала {x.account} не продлена, льготный период закончился: "
                "портал приостановлен.",
                f"The subscription of account {x.account} was not renewed and the grace "
                "period has ended: the account is suspended.",
            ),
            x.t(
                "Данные сохранены; доступны только просмотр и оплата счетов.",
                "Your data is kept; only reading and paying invoices remain available.",
            ),
            x.t(
                "Продлите подписку, чтобы восстановить доступ",
                "Renew the subscription to restore access",
            )
            + (
                x.t(f": сумма продления {renewal}.", f": the amount to renew is {renewal}.")
                if renewal
                else "."
            ),
        ),
    )


# Reasons the services write (in English: the key) and what a customer reads.
CANCEL_REASONS: dict[str, Text] = {
    reason: Text(ru, reason)
    for reason, ru in {
        "cancelled at the end of the term": "подписка закончилась, продление было отменено",
        "cancelled by the customer": "по запросу владельца портала",
        "order cancelled": "заказ отменён",
    }.items()
}


def cancelled(x: Parts) -> Notice:
    reason = x.p.get("reason")
    if reason:
        words = CANCEL_REASONS.get(str(reason), Text(reason, reason)).get(x.lang)
    return Notice(
        x.t("Подписка отменена", "Subscription cancelled"),
        join(
            x.t(f"Подписка портала {x.account}", f"The subscription of account {x.account}")
            + (x.t(f" на тариф {x.plan}", f" on the {x.plan} plan") if x.plan else "")
            + x.t(" отменена.", " was cancelled."),
            x.t(f"Причина: {words}.", f"Reason: {words}.") if reason else None,
            x.t(
                "Чтобы снова пользоваться порталом, оформите новую подписку.",
                "To use the account again, order a new subscription.",
            ),
        ),
    )


def autopay_changed(x: Parts) -> Notice:
    on = bool(x.p.get("autopay", x.ctx.autopay))
    through = x.paid_through
    if on:
        return Notice(
            x.t("Автоплатёж включён", "Autopay turned on"),
            join(
                x.t(
                    f"Для портала {x.account} включён автоплатёж: подписка будет продлеваться "
                    "с сохранённой карты.",
                    f"Autopay is on for account {x.account}: the subscription will be renewed "
                    "from the saved card.",
                ),
                x.t(
                    f"Текущий период оплачен по {through} включительно.",
                    f"The current term is paid through {through} inclusive.",
                )
                if through
                else None,
            ),
        )
    return Notice(
        x.t("Автоплатёж отключён", "Autopay turned off"),
        join(
            x.t(
                f"Для портала {x.account} отключён автоплатёж.",
                f"Autopay is off for account {x.account}.",
            ),
            x.t(
                f"Подписка оплачена по {through} включительно; продлите её вручную.",
                f"The subscription is paid through {through} inclusive; renew it by hand.",
            )
            if through
            else x.t("Продлевайте подписку вручную.", "Renew the subscription by hand."),
        ),
    )


def cancel_scheduled(x: Parts) -> Notice:
    at_end = bool(x.p.get("cancel_at_period_end", True))
    through = x.paid_through
    if at_end:
        return Notice(
            x.t("Подписка не будет продлена", "Your subscription will not renew")
            + (
                x.t(f": она закончится после {through}", f": it ends after {through}")
                if through
                else ""
            ),
            join(
                x.t(
                    f"Подписка портала {x.account} не будет продлена.",
                    f"The subscription of account {x.account} will not be renewed.",
                ),
                x.t(
                    f"Она действует по {through} включительно.",
                    f"It stays active through {through} inclusive.",
                )
                if through
                else None,
                x.t(
                    "Передумали? Отмените отказ от продления в настройках оплаты.",
                    "Changed your mind? Undo the cancellation in the billing settings.",
                ),
            ),
        )
    return Notice(
        x.t("Подписка продолжится", "Your subscription will continue"),
        join(
            x.t(
                f"Отказ от продления подписки портала {x.account} отменён: подписка продолжится.",
                f"The cancellation of account {x.account}'s subscription was undone: "
                "the subscription continues.",
            ),
            x.t(
                f"Текущий период оплачен по {through} включительно.",
                f"The current term is paid through {through} inclusive.",
            )
            if through
            else None,
        ),
    )


def extended(x: Parts) -> Notice:
    """The vendor extended the term as a gift (`subscriptions.extensions.extend_term`)."""
    days = x.p.get("days")
    through = x.paid_through
    return Notice(
        x.t("Срок подписки продлён в подарок", "The subscription's term extended as a gift"),
        join(
            x.t(
                f"Срок подписки портала {x.account} продлён на {days} дн. без оплаты.",
                f"The subscription of account {x.account} is extended by {days} days "
                "free of charge.",
            )
            if days
            else x.t(
                f"Срок подписки портала {x.account} продлён без оплаты.",
                f"The subscription of account {x.account} is extended free of charge.",
            ),
            x.t(
                f"Подписка оплачена по {through} включительно.",
                f"The subscription is paid through {through} inclusive.",
            )
            if through
            else None,
        ),
    )
