"""The texts about money moving: a payment declined (the gateway's reason in words), a
payment method saved or removed, a refund requested, sent or failed; and `method_words`,
where a charge is taken from, which the reminders use too.
"""

from __future__ import annotations

from podpiska.core.domain.text import Text
from podpiska.notifications.texts.common import (
    Notice,
    Parts,
    join,
)

# The saved method's title as the gateway gives it, in Russian words.
_METHOD_PREFIXES_RU = (
    ("Bank card", "с банковской карты"),
    ("YooMoney wallet", "с кошелька ЮMoney"),
)


def _method_words_ru(title: str) -> str:
    for prefix, words in _METHOD_PREFIXES_RU:
        if title.startswith(prefix):
            return f"{words}{title[len(prefix) :]}"
    return f"с карты {title}"


def method_words(title: str, lang: str = "ru") -> str:
    """Where the money is taken from, from the saved method's title as the gateway gave it:
    `с карты Visa *4242`, `с банковской карты *4242`, `from Visa *4242`."""
    title = title.strip()
    if title == "SBP":
        return Text("через СБП", "through SBP").get(lang)
    return Text(_method_words_ru(title), f"from {title}").get(lang)


# Why a gateway declined, in words a customer understands (YooKassa's reasons).
FAILURE_WORDS: dict[str, Text] = {
    "insufficient_funds": Text("на карте недостаточно средств", "insufficient funds"),
    "card_expired": Text("срок действия карты истёк", "the card has expired"),
    "general_decline": Text("банк отклонил платёж", "the bank declined the payment"),
    "3d_secure_failed": Text(
        "платёж не подтверждён кодом 3-D Secure", "3-D Secure confirmation failed"
    ),
    "permission_revoked": Text(
        "разрешение на списание отозвано", "the permission to charge was revoked"
    ),
    "expired_on_confirmation": Text(
        "платёж не был подтверждён вовремя", "the payment was not confirmed in time"
    ),
    "canceled_by_user": Text("платёж отменён", "the payment was cancelled"),
}


def payment_failed(x: Parts) -> Notice:
    reason = str(x.p.get("reason") or "")
    words = FAILURE_WORDS[reason].get(x.lang) if reason in FAILURE_WORDS else reason
    amount = x.money(x.p.get("amount")) or ""
    number = x.p.get("number") or ""
    next_on = x.day(x.p.get("next_attempt_on"))
    autopay = x.p.get("kind") == "autopay"
    if not autopay:
        what_now = x.t(
            "Попробуйте ещё раз или выберите другой способ оплаты.",
            "Try again or choose another payment method.",
        )
    elif next_on:
        what_now = x.t(
            f"Мы повторим попытку {next_on}. Чтобы не ждать, оплатите счёт другой "
            "картой в настройках оплаты.",
            f"We will try again on {next_on}. To avoid waiting, pay the invoice with another "
            "card in the billing settings.",
        )
    else:
        what_now = x.t(
            "Больше попыток списания не будет: оплатите счёт вручную, чтобы "
            "портал продолжил работать.",
            "No more charges will be tried: pay the invoice by hand to keep the account running.",
        )
    return Notice(
        x.t("Не удалось списать оплату за подписку", "We could not charge your subscription")
        if autopay
        else x.t("Платёж не прошёл", "The payment did not go through"),
        join(
            x.t(
                f"Платёж {amount} по счёту № {number} для портала {x.account} не прошёл",
                f"The payment of {amount} for invoice {number} of account {x.account} failed",
            )
            + (f": {words}." if words else "."),
            what_now,
        ),
    )


def method_saved(x: Parts) -> Notice:
    title = x.p.get("title") or x.t("карта", "card")
    return Notice(
        x.t("Способ оплаты сохранён для автоплатежа", "Payment method saved for autopay"),
        join(
            x.t(
                f"Для портала {x.account} сохранён способ оплаты {title}: с него будет "
                "списываться плата за продление подписки.",
                f"Payment method {title} is saved for account {x.account}: renewals will be "
                "charged to it.",
            ),
            x.t(
                "Удалить его и отключить автоплатёж можно в любой момент в настройках оплаты.",
                "You can remove it and turn autopay off at any time in the billing settings.",
            ),
        ),
    )


def method_removed(x: Parts) -> Notice:
    title = x.p.get("title") or x.t("карта", "card")
    return Notice(
        x.t("Способ оплаты удалён", "Payment method removed"),
        x.t(
            f"Способ оплаты {title} портала {x.account} удалён: списаний с него больше не будет.",
            f"Payment method {title} of account {x.account} was removed: it will not be "
            "charged again.",
        ),
    )


def refund(x: Parts, ok: bool) -> Notice:
    amount = x.money(x.p.get("amount")) or ""
    if ok:
        return Notice(
            x.t("Деньги возвращены", "Refund sent"),
            x.t(
                f"Возврат {amount} для портала {x.account} отправлен на карту или кошелёк, "
                "с которого была оплата. Срок зачисления зависит от банка.",
                f"A refund of {amount} for account {x.account} was sent to the card or wallet "
                "it was paid from. The bank decides when it arrives.",
            ),
        )
    return Notice(
        x.t("Возврат не выполнен", "Refund failed"),
        x.t(
            f"Возврат {amount} для портала {x.account} не прошёл; сумма снова на балансе "
            "портала. Мы свяжемся с вами.",
            f"The refund of {amount} for account {x.account} failed; the amount is back on "
            "the account's balance. We will contact you.",
        ),
    )


def refund_requested(x: Parts) -> Notice:
    amount = x.money(x.p.get("amount"))
    return Notice(
        x.t("Возврат денег оформлен", "Refund requested"),
        join(
            x.t(
                f"Для портала {x.account} оформлен возврат" + (f" {amount}." if amount else "."),
                f"A refund{f' of {amount}' if amount else ''} was requested for account "
                f"{x.account}.",
            ),
            x.t(
                "Деньги вернутся на карту или кошелёк, с которого была оплата; мы напишем, "
                "когда возврат пройдёт.",
                "The money goes back to the card or wallet it was paid from; we will write "
                "when the refund is done.",
            ),
        ),
    )
