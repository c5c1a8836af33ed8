"""The texts about an order and its invoices: the order placed, an invoice issued, paid in
full or in part, voided (with the reason in Russian words), and a credit note issued.
"""

from __future__ import annotations

from podpiska.core.domain.text import Text
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
    what = (
        x.t(f"тариф {x.plan}", f"the {x.plan} plan")
        if x.plan
        else x.t("подписка", "a subscription")
    )
    for_term = x.t(f" на {term}", f" for {term}") if term else ""
    return Notice(
        x.t(f"Заказ принят: {what}", f"Order received: {what}") + for_term,
        join(
            x.t(
                f"Для портала {x.account} оформлен заказ: {what}",
                f"An order was placed for account {x.account}: {what}",
            )
            + for_term
            + ".",
            x.t(f"Счёт {x.number()} на сумму {total}.", f"Invoice {x.number()} for {total}.")
            if total
            else x.t(f"Счёт {x.number()}.", f"Invoice {x.number()}."),
            x.t(
                "Подписка начнёт действовать, как только счёт будет оплачен.",
                "The subscription starts as soon as the invoice is paid.",
            ),
        ),
    )


def invoice_issued(x: Parts) -> Notice:
    total = x.money(x.p.get("total"))
    due = x.day(x.p.get("due_on"))
    purpose = (
        x.t("на продление подписки", "to renew the subscription")
        if x.p.get("kind") == "renewal"
        else x.t("по заказу подписки", "for the subscription ordered")
    )
    return Notice(
        x.t(f"Счёт {x.number()}", f"Invoice {x.number()}")
        + (x.t(f" на {total}", f" for {total}") if total else ""),
        join(
            x.t(
                f"Для портала {x.account} выставлен счёт {x.number()} {purpose}",
                f"Invoice {x.number()} {purpose} was issued to account {x.account}",
            )
            + (x.t(f" на сумму {total}.", f" for {total}.") if total else "."),
            x.t(f"Оплатите его до {due}.", f"Please pay it by {due}.") if due else None,
            x.t(f"Тариф: {x.plan}.", f"Plan: {x.plan}.") if x.plan else None,
        ),
    )


def invoice_paid(x: Parts) -> Notice:
    total = x.money(x.p.get("total"))
    return Notice(
        x.t(f"Счёт {x.number()} оплачен", f"Invoice {x.number()} paid"),
        join(
            x.t(
                f"Оплата по счёту {x.number()} для портала {x.account} получена",
                f"The payment of invoice {x.number()} for account {x.account} was received",
            )
            + (f": {total}." if total else "."),
            x.t("Спасибо!", "Thank you!"),
        ),
    )


def invoice_partially_paid(x: Parts) -> Notice:
    paid_amount = as_amount(x.p.get("amount_paid"))
    total_amount = as_amount(x.p.get("total"))
    paid, total = x.money(paid_amount), x.money(total_amount)
    left = None
    if paid_amount is not None and total_amount is not None:
        left = x.money(total_amount - paid_amount)
    return Notice(
        x.t(
            f"Частичная оплата по счёту {x.number()}",
            f"Partial payment of invoice {x.number()}",
        ),
        join(
            x.t(
                f"По счёту {x.number()} для портала {x.account} получена частичная оплата.",
                f"A partial payment of invoice {x.number()} for account {x.account} was received.",
            ),
            x.t(f"Оплачено {paid} из {total}.", f"Paid {paid} of {total}.")
            if paid and total
            else None,
            x.t(f"Осталось оплатить: {left}.", f"Left to pay: {left}.") if left else None,
            x.t(
                "Подписка начнёт действовать, когда счёт будет оплачен полностью.",
                "The subscription starts once the invoice is paid in full.",
            ),
        ),
    )


# Why an invoice was voided (the services write English: the key is the English words).
VOID_REASONS: dict[str, Text] = {
    reason: Text(ru, reason)
    for reason, ru in {
        "replaced by a new renewal": "вместо него выставлен новый счёт на продление",
        "order cancelled": "заказ отменён",
        "cancelled by the customer": "по запросу владельца портала",
        "subscription cancelled": "подписка отменена",
        "the change was not paid in time": "изменение подписки не оплачено вовремя",
        "change cancelled": "изменение подписки отменено",
        "cancelled at the end of the term": "подписка закончилась, продление было отменено",
    }.items()
}


def invoice_voided(x: Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    # A reason without Russian words is left out in Russian and shown as written in English.
    words = VOID_REASONS.get(reason, Text("", reason)).get(x.lang)
    return Notice(
        x.t(f"Счёт {x.number()} аннулирован", f"Invoice {x.number()} voided"),
        join(
            x.t(
                f"Счёт {x.number()} портала {x.account} аннулирован",
                f"Invoice {x.number()} of account {x.account} was voided",
            )
            + (f": {words}." if words else "."),
            x.t(
                "Оплачивать его не нужно; если по нему уже была оплата, она зачислена на "
                "баланс портала.",
                "There is nothing to pay on it; any payment made on it went to the account's "
                "credit.",
            ),
        ),
    )


def credit_note_issued(x: Parts) -> Notice:
    number = x.p.get("number") or "—"
    invoice = x.p.get("invoice_number")
    amount = as_amount(x.p.get("total"))
    total = x.money(abs(amount)) if amount is not None else None
    return Notice(
        x.t(f"Корректировочный документ № {number}", f"Credit note No. {number}"),
        join(
            x.t(
                f"Для портала {x.account} выпущен корректировочный документ № {number}",
                f"Credit note No. {number} was issued to account {x.account}",
            )
            + (x.t(f" к счёту № {invoice}", f" for invoice No. {invoice}") if invoice else "")
            + (x.t(f" на сумму {total}.", f", amount {total}.") if total else "."),
            x.t(
                "Документ во вложении; сумма уменьшает начисления по счёту.",
                "The document is attached; it reduces what the invoice charged.",
            ),
        ),
    )


def upd_issued(x: Parts) -> Notice:
    """The month-end run's closing document for the services rendered: a УПД, or an act
    of the month for an account that chose acts (`form`)."""
    number = x.p.get("number") or "—"
    issued = x.day(x.p.get("issued_on"))
    first, last = x.day(x.p.get("first_day")), x.day(x.p.get("last_day"))
    total = x.money(x.p.get("total"))
    act = x.p.get("form") == "act"
    period = x.t(f" за период {first} – {last}", f" for {first} – {last}") if first else ""
    subject = (
        x.t(f"Акт об оказании услуг № {number}", f"Act of services rendered No. {number}")
        if act
        else x.t(f"Закрывающий документ (УПД) № {number}", f"Closing document (UPD) No. {number}")
    )
    what = (
        x.t(
            f"Для портала {x.account} выпущен акт об оказании услуг № {number}",
            f"An act of services rendered No. {number}",
        )
        if act
        else x.t(
            f"Для портала {x.account} выпущен универсальный передаточный документ № {number}",
            f"A universal transfer document No. {number}",
        )
    )
    return Notice(
        subject,
        join(
            what
            + (x.t(f" от {issued}", f" of {issued}") if issued else "")
            + x.t(
                " об оказанных услугах",
                f" was issued to account {x.account} for the services rendered",
            )
            + period
            + (x.t(f" на сумму {total}.", f", amount {total}.") if total else "."),
            x.t(
                "Документ во вложении; его электронная версия (XML) — у вашего оператора ЭДО "
                "или в личном кабинете. Оплачивать его не нужно: услуги уже оплачены.",
                "The document is attached; its electronic version (XML) is at your EDO "
                "operator or in the customer portal. There is nothing to pay on it: the "
                "services were paid for.",
            ),
        ),
    )


def advance_issued(x: Parts) -> Notice:
    """An advance счёт-фактура for a payment received before the services."""
    number = x.p.get("number") or "—"
    issued = x.day(x.p.get("issued_on"))
    amount = x.money(x.p.get("amount"))
    vat = x.money(x.p.get("vat"))
    return Notice(
        x.t(f"Счёт-фактура на аванс № {number}", f"Advance VAT invoice No. {number}"),
        join(
            x.t(
                f"Для портала {x.account} выставлен счёт-фактура на аванс № {number}"
                + (f" от {issued}" if issued else ""),
                f"Advance VAT invoice No. {number}"
                + (f" of {issued}" if issued else "")
                + f" was issued to account {x.account}",
            )
            + (x.t(f" на сумму {amount}", f", amount {amount}") if amount else "")
            + (x.t(f", в том числе НДС {vat}.", f", VAT {vat} included.") if vat else "."),
            x.t(
                "Документ во вложении. Он выставлен на полученную предоплату; когда услуги "
                "будут оказаны, аванс будет зачтён в закрывающих документах (УПД).",
                "The document is attached. It is issued for the prepayment received; once "
                "the services are rendered, the advance is offset in the closing documents "
                "(UPD).",
            ),
        ),
    )


def correction_issued(x: Parts) -> Notice:
    """A corrective document (УКД) decreasing a УПД."""
    number = x.p.get("number") or "—"
    issued = x.day(x.p.get("issued_on"))
    decrease = x.money(x.p.get("decrease"))
    return Notice(
        x.t(
            f"Корректировочный документ (УКД) № {number}",
            f"Corrective document (UKD) No. {number}",
        ),
        join(
            x.t(
                f"Для портала {x.account} выпущен универсальный корректировочный документ "
                f"№ {number}" + (f" от {issued}" if issued else ""),
                f"A universal corrective document No. {number}"
                + (f" of {issued}" if issued else "")
                + f" was issued to account {x.account}",
            )
            + (
                x.t(
                    f": стоимость оказанных услуг уменьшена на {decrease}.",
                    f": the services rendered are decreased by {decrease}.",
                )
                if decrease
                else "."
            ),
            x.t("Документ во вложении.", "The document is attached."),
        ),
    )


def reissued(x: Parts, kind: str) -> Notice:
    """An исправление of a УПД or an advance счёт-фактура: a requisite was wrong."""
    number = x.p.get("number") or "—"
    fix_no = x.p.get("fix_no") or "—"
    issued = x.day(x.p.get("issued_on"))
    what = (
        x.t("УПД", "UPD") if kind == "upd" else x.t("счёт-фактура на аванс", "advance VAT invoice")
    )
    reason = x.p.get("reason")
    return Notice(
        x.t(
            f"Исправление № {fix_no}: {what} № {number}",
            f"Correction No. {fix_no} of {what} No. {number}",
        ),
        join(
            x.t(
                f"Для портала {x.account} выпущено исправление № {fix_no}"
                + (f" от {issued}" if issued else "")
                + f" документа {what} № {number}: номер, дата и суммы те же, исправлены "
                "реквизиты.",
                f"Correction No. {fix_no}"
                + (f" of {issued}" if issued else "")
                + f" of {what} No. {number} was issued to account {x.account}: the number, "
                "date and amounts are the same, the details are corrected.",
            ),
            x.t(f"Причина: {reason}.", f"Reason: {reason}.") if reason else None,
            x.t(
                "Исправленный документ во вложении; он заменяет прежний экземпляр.",
                "The corrected document is attached; it replaces the earlier copy.",
            ),
        ),
    )


# What each kind of document sent again is called (`document.resent`'s `kind`).
_DOCUMENT_WORDS: dict[str, Text] = {
    "act": Text("Акт об оказании услуг", "Act of services rendered"),
    "upd": Text("Универсальный передаточный документ (УПД)", "Universal transfer document (UPD)"),
    "invoice_factura": Text("Счёт-фактура", "VAT invoice"),
    "advance": Text("Счёт-фактура на аванс", "Advance VAT invoice"),
    "correction": Text(
        "Универсальный корректировочный документ (УКД)", "Universal corrective document (UKD)"
    ),
    "credit_note": Text("Корректировочный документ", "Credit note"),
    "upd_fix": Text("Исправление УПД", "Correction of a UPD"),
    "advance_fix": Text(
        "Исправление счёта-фактуры на аванс", "Correction of an advance VAT invoice"
    ),
}


def document_resent(x: Parts) -> Notice:
    """A closing document sent again by hand (its PDF attached), to the address chosen."""
    number = x.p.get("number")
    issued = x.day(x.p.get("issued_on"))
    what = _DOCUMENT_WORDS.get(str(x.p.get("kind")), Text("Документ", "Document")).get(x.lang)
    named = what + (x.t(f" № {number}", f" No. {number}") if number else "")
    return Notice(
        named,
        join(
            x.t(
                f"Направляем повторно документ по порталу {x.account}: {named}",
                f"We are sending again a document of account {x.account}: {named}",
            )
            + (x.t(f" от {issued}.", f" of {issued}.") if issued else "."),
            x.t("Документ во вложении.", "The document is attached."),
        ),
    )
