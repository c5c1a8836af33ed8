"""The texts of mid-term changes: a change waiting for its invoice, scheduled for the
renewal or applied now, and the subscription's configuration once a change took effect.
"""

from __future__ import annotations

from collections.abc import Mapping

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    as_amount,
    as_int,
    join,
)


def _change_what(x: Parts) -> str:
    """What a mid-term change does, from its `kind` and `params`, in words."""
    params = x.p.get("params")
    params = params if isinstance(params, Mapping) else {}
    kind = x.p.get("kind")
    if kind == "seats" and as_int(params.get("seats")) is not None:
        seats = as_int(params.get("seats"))
        return x.t(f"число пользователей — {seats}", f"{seats} users")
    if kind == "plan" and params.get("plan"):
        name = x.name(params["plan"])
        return x.t(f"переход на тариф {name}", f"a move to the {name} plan")
    if kind == "add_on" and params.get("add_on"):
        name = x.name(params["add_on"])
        return x.t(f"подключение {name}", f"adding {name}")
    return x.t("изменение подписки", "a change of the subscription")


def change(x: Parts, status: str) -> Notice:
    """A mid-term change: waiting for its invoice to be paid, scheduled for the renewal,
    or applied now (a negative amount went to the account's credit)."""
    what = _change_what(x)
    due = as_amount(x.p.get("amount_due"))
    through = x.paid_through
    paid_through = (
        x.t(
            f"Подписка оплачена по {through} включительно.",
            f"The subscription is paid through {through} inclusive.",
        )
        if through
        else None
    )
    if status == "pending":
        return Notice(
            x.t("Изменение подписки ждёт оплаты", "A subscription change awaits payment"),
            join(
                x.t(
                    f"Для портала {x.account} заказано изменение подписки: {what}.",
                    f"A change of the subscription of account {x.account} was ordered: {what}.",
                ),
                x.t(
                    f"Выставлен счёт на {x.money(due)}.",
                    f"An invoice for {x.money(due)} was issued.",
                )
                if due
                else None,
                x.t(
                    "Изменение вступит в силу, как только счёт будет оплачен.",
                    "The change takes effect as soon as the invoice is paid.",
                ),
            ),
        )
    if status == "scheduled":
        return Notice(
            x.t("Изменение подписки запланировано", "A subscription change is scheduled"),
            join(
                x.t(
                    f"Для портала {x.account} запланировано изменение подписки: {what}.",
                    f"A change of the subscription of account {x.account} is scheduled: {what}.",
                ),
                x.t(
                    f"Оно вступит в силу со следующего периода, после {through}.",
                    f"It takes effect with the next term, after {through}.",
                )
                if through
                else x.t(
                    "Оно вступит в силу со следующего периода.",
                    "It takes effect with the next term.",
                ),
                x.t(
                    "До этого всё работает как сейчас.",
                    "Until then everything works as it does now.",
                ),
            ),
        )
    return Notice(
        x.t("Подписка изменена", "Subscription changed"),
        join(
            x.t(
                f"Подписка портала {x.account} изменена: {what}.",
                f"The subscription of account {x.account} was changed: {what}.",
            ),
            x.t(
                f"Неиспользованная стоимость {x.money(-due)} зачислена на баланс портала.",
                f"The unused value of {x.money(-due)} was added to the account's credit.",
            )
            if due is not None and due < 0
            else None,
            paid_through,
        ),
    )


def changed(x: Parts) -> Notice:
    """The subscription's configuration now (after a change took effect)."""
    seats = as_int(x.p.get("seats"))
    raw = x.p.get("add_ons")
    add_ons = ", ".join(x.name(a) for a in raw) if isinstance(raw, list | tuple) and raw else None
    through = x.paid_through
    return Notice(
        x.t("Подписка изменена", "Subscription changed")
        + (x.t(f": тариф {x.plan}", f": the {x.plan} plan") if x.plan else ""),
        join(
            x.t(
                f"Подписка портала {x.account} изменена. Теперь в ней:",
                f"The subscription of account {x.account} was changed. It now has:",
            ),
            x.t(f"тариф: {x.plan};", f"plan: {x.plan};") if x.plan else None,
            x.t(f"пользователей: {seats};", f"users: {seats};") if seats is not None else None,
            x.t(f"дополнения: {add_ons}.", f"add-ons: {add_ons}.")
            if add_ons
            else x.t("дополнений нет.", "no add-ons."),
            x.t(
                f"Подписка оплачена по {through} включительно.",
                f"The subscription is paid through {through} inclusive.",
            )
            if through
            else None,
        ),
    )
