"""The texts about an order and its invoices: the order placed, an invoice issued, paid in
full or in part, voided (with the reason in Russian words), and a credit note issued.
"""

from __future__ import annotations

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    as_amount,
    as_int,
    count_months,
    join,
)


def ordered(x: Parts) -> Notice:
    months = as_int(x.p.get("months"))
    term = count_months(months, x.lang) if months else None
    total = x.money(x.p.get("total"))
    if x.ru:
        what = f"тариф {x.plan}" if x.plan else "подписка"
        subject = f"Заказ принят: {what}" + (f" на {term}" if term else "")
        return Notice(
            subject,
            join(
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
        join(
            f"An order was placed for account {x.account}: {what}"
            + (f" for {term}." if term else "."),
            f"Invoice {x.number()} for {total}." if total else f"Invoice {x.number()}.",
            "The subscription starts as soon as the invoice is paid.",
        ),
    )


def invoice_issued(x: Parts) -> Notice:
    total = x.money(x.p.get("total"))
    due = x.day(x.p.get("due_on"))
    renewal = x.p.get("kind") == "renewal"
    if x.ru:
        purpose = "на продление подписки" if renewal else "по заказу подписки"
        subject = f"Счёт {x.number()}" + (f" на {total}" if total else "")
        return Notice(
            subject,
            join(
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
        join(
            f"Invoice {x.number()} {purpose} was issued to account {x.account}"
            + (f" for {total}." if total else "."),
            f"Please pay it by {due}." if due else None,
            f"Plan: {x.plan}." if x.plan else None,
        ),
    )


def invoice_paid(x: Parts) -> Notice:
    total = x.money(x.p.get("total"))
    if x.ru:
        return Notice(
            f"Счёт {x.number()} оплачен",
            join(
                f"Оплата по счёту {x.number()} для портала {x.account} получена"
                + (f": {total}." if total else "."),
                "Спасибо!",
            ),
        )
    return Notice(
        f"Invoice {x.number()} paid",
        join(
            f"The payment of invoice {x.number()} for account {x.account} was received"
            + (f": {total}." if total else "."),
            "Thank you!",
        ),
    )


def invoice_partially_paid(x: Parts) -> Notice:
    paid_amount = as_amount(x.p.get("amount_paid"))
    total_amount = as_amount(x.p.get("total"))
    paid, total = x.money(paid_amount), x.money(total_amount)
    left = None
    if paid_amount is not None and total_amount is not None:
        left = x.money(total_amount - paid_amount)
    if x.ru:
        return Notice(
            f"Частичная оплата по счёту {x.number()}",
            join(
                f"По счёту {x.number()} для портала {x.account} получена частичная оплата.",
                f"Оплачено {paid} из {total}." if paid and total else None,
                f"Осталось оплатить: {left}." if left else None,
                "Подписка начнёт действовать, когда счёт будет оплачен полностью.",
            ),
        )
    return Notice(
        f"Partial payment of invoice {x.number()}",
        join(
            f"A partial payment of invoice {x.number()} for account {x.account} was received.",
            f"Paid {paid} of {total}." if paid and total else None,
            f"Left to pay: {left}." if left else None,
            "The subscription starts once the invoice is paid in full.",
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


def invoice_voided(x: Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    if x.ru:
        words = VOID_REASONS_RU.get(reason)
        return Notice(
            f"Счёт {x.number()} аннулирован",
            join(
                f"Счёт {x.number()} портала {x.account} аннулирован"
                + (f": {words}." if words else "."),
                "Оплачивать его не нужно; если по нему уже была оплата, она зачислена на "
                "баланс портала.",
            ),
        )
    return Notice(
        f"Invoice {x.number()} voided",
        join(
            f"Invoice {x.number()} of account {x.account} was voided"
            + (f": {reason}." if reason else "."),
            "There is nothing to pay on it; any payment made on it went to the account's credit.",
        ),
    )


def credit_note_issued(x: Parts) -> Notice:
    number = x.p.get("number") or "—"
    invoice = x.p.get("invoice_number")
    amount = as_amount(x.p.get("total"))
    total = x.money(abs(amount)) if amount is not None else None
    if x.ru:
        return Notice(
            f"Корректировочный документ № {number}",
            join(
                f"Для портала {x.account} выпущен корректировочный документ № {number}"
                + (f" к счёту № {invoice}" if invoice else "")
                + (f" на сумму {total}." if total else "."),
                "Документ во вложении; сумма уменьшает начисления по счёту.",
            ),
        )
    return Notice(
        f"Credit note No. {number}",
        join(
            f"Credit note No. {number} was issued to account {x.account}"
            + (f" for invoice No. {invoice}" if invoice else "")
            + (f", amount {total}." if total else "."),
            "The document is attached; it reduces what the invoice charged.",
        ),
    )
