"""The texts about money moving: a payment declined (the gateway's reason in words), a
payment method saved or removed, a refund requested, sent or failed; and `method_words`,
where a charge is taken from, which the reminders use too.
"""

from __future__ import annotations

from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    join,
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


def payment_failed(x: Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    words = FAILURE_WORDS.get(reason, {}).get(x.lang, reason)
    amount = x.money(x.p.get("amount")) or ""
    number = x.p.get("number") or ""
    next_on = x.day(x.p.get("next_attempt_on"))
    autopay = x.p.get("kind") == "autopay"
    if x.ru:
        return Notice(
            "Не удалось списать оплату за подписку" if autopay else "Платёж не прошёл",
            join(
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
        join(
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


def method_saved(x: Parts) -> Notice:
    title = x.p.get("title") or ("карта" if x.ru else "card")
    if x.ru:
        return Notice(
            "Способ оплаты сохранён для автоплатежа",
            join(
                f"Для портала {x.account} сохранён способ оплаты {title}: с него будет "
                "списываться плата за продление подписки.",
                "Удалить его и отключить автоплатёж можно в любой момент в настройках оплаты.",
            ),
        )
    return Notice(
        "Payment method saved for autopay",
        join(
            f"Payment method {title} is saved for account {x.account}: renewals will be "
            "charged to it.",
            "You can remove it and turn autopay off at any time in the billing settings.",
        ),
    )


def method_removed(x: Parts) -> Notice:
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


def refund(x: Parts, ok: bool) -> Notice:
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


def refund_requested(x: Parts) -> Notice:
    amount = x.money(x.p.get("amount"))
    if x.ru:
        return Notice(
            "Возврат денег оформлен",
            join(
                f"Для портала {x.account} оформлен возврат" + (f" {amount}." if amount else "."),
                "Деньги вернутся на карту или кошелёк, с которого была оплата; мы напишем, "
                "когда возврат пройдёт.",
            ),
        )
    return Notice(
        "Refund requested",
        join(
            f"A refund{f' of {amount}' if amount else ''} was requested for account {x.account}.",
            "The money goes back to the card or wallet it was paid from; we will write when "
            "the refund is done.",
        ),
    )
