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
        return f"число пользователей — {seats}" if x.ru else f"{seats} users"
    if kind == "plan" and params.get("plan"):
        name = x.name(params["plan"])
        return f"переход на тариф {name}" if x.ru else f"a move to the {name} plan"
    if kind == "add_on" and params.get("add_on"):
        name = x.name(params["add_on"])
        return f"подключение {name}" if x.ru else f"adding {name}"
    return "изменение подписки" if x.ru else "a change of the subscription"


def change(x: Parts, status: str) -> Notice:
    """A mid-term change: waiting for its invoice to be paid, scheduled for the renewal,
    or applied now (a negative amount went to the account's credit)."""
    what = _change_what(x)
    due = as_amount(x.p.get("amount_due"))
    through = x.paid_through
    if x.ru:
        if status == "pending":
            return Notice(
                "Изменение подписки ждёт оплаты",
                join(
                    f"Для портала {x.account} заказано изменение подписки: {what}.",
                    f"Выставлен счёт на {x.money(due)}." if due else None,
                    "Изменение вступит в силу, как только счёт будет оплачен.",
                ),
            )
        if status == "scheduled":
            return Notice(
                "Изменение подписки запланировано",
                join(
                    f"Для портала {x.account} запланировано изменение подписки: {what}.",
                    f"Оно вступит в силу со следующего периода, после {through}."
                    if through
                    else "Оно вступит в силу со следующего периода.",
                    "До этого всё работает как сейчас.",
                ),
            )
        return Notice(
            "Подписка изменена",
            join(
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
            join(
                f"A change of the subscription of account {x.account} was ordered: {what}.",
                f"An invoice for {x.money(due)} was issued." if due else None,
                "The change takes effect as soon as the invoice is paid.",
            ),
        )
    if status == "scheduled":
        return Notice(
            "A subscription change is scheduled",
            join(
                f"A change of the subscription of account {x.account} is scheduled: {what}.",
                f"It takes effect with the next term, after {through}."
                if through
                else "It takes effect with the next term.",
                "Until then everything works as it does now.",
            ),
        )
    return Notice(
        "Subscription changed",
        join(
            f"The subscription of account {x.account} was changed: {what}.",
            f"The unused value of {x.money(-due)} was added to the account's credit."
            if due is not None and due < 0
            else None,
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )


def changed(x: Parts) -> Notice:
    """The subscription's configuration now (after a change took effect)."""
    seats = as_int(x.p.get("seats"))
    raw = x.p.get("add_ons")
    add_ons = ", ".join(x.name(a) for a in raw) if isinstance(raw, list | tuple) and raw else None
    through = x.paid_through
    if x.ru:
        return Notice(
            "Подписка изменена" + (f": тариф {x.plan}" if x.plan else ""),
            join(
                f"Подписка портала {x.account} изменена. Теперь в ней:",
                f"тариф: {x.plan};" if x.plan else None,
                f"пользователей: {seats};" if seats is not None else None,
                f"дополнения: {add_ons}." if add_ons else "дополнений нет.",
                f"Подписка оплачена по {through} включительно." if through else None,
            ),
        )
    return Notice(
        "Subscription changed" + (f": the {x.plan} plan" if x.plan else ""),
        join(
            f"The subscription of account {x.account} was changed. It now has:",
            f"plan: {x.plan};" if x.plan else None,
            f"users: {seats};" if seats is not None else None,
            f"add-ons: {add_ons}." if add_ons else "no add-ons.",
            f"The subscription is paid through {through} inclusive." if through else None,
        ),
    )
