"""The payments' error codes: checkout, gateways, payment methods, bank statements."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "bad_statement": Code(
        Kind.INVALID,
        ru="Выписку {source} прочитать нельзя: {problem}.",
        en="Statement {source} cannot be read: {problem}.",
    ),
    "bank_payment_resolved": Code(
        Kind.CONFLICT,
        ru="Платёж № {id} уже разобран (состояние «{status}»).",
        en="Bank payment {id} is already dealt with ('{status}').",
    ),
    "bank_payment_reason_required": Code(
        Kind.INVALID,
        ru="Укажите, почему платёж № {id} не наш: причина не может быть пустой.",
        en="Say why bank payment {id} is not ours: the reason cannot be blank.",
    ),
    "bank_payment_reason_too_long": Code(
        Kind.INVALID,
        ru="Причина длиннее {max} символов ({length}): сократите её.",
        en="The reason is longer than {max} characters ({length}): shorten it.",
    ),
    "bank_payment_not_dismissed": Code(
        Kind.CONFLICT,
        ru="Платёж № {id} не отмечен как «не наш» (состояние «{status}»): в очередь на "
        "разбор возвращается только такой платёж.",
        en="Bank payment {id} is not set aside as not ours ('{status}'): only such a "
        "payment goes back to the review queue.",
    ),
    "bank_payment_recorded_before": Code(
        Kind.CONFLICT,
        ru="Этот платёж ({reference} от {day} на {amount}) уже внесён: № {id}.",
        en="This payment ({reference} of {day} for {amount}) is recorded already: № {id}.",
    ),
    "bank_payment_reference_required": Code(
        Kind.INVALID,
        ru="Укажите номер платёжного поручения или иную ссылку плательщика.",
        en="Give the payment order's number or another payer reference.",
    ),
    "vat_rate_unsupported": Code(
        Kind.CONFLICT,
        ru="Ставки НДС {rate} % нет в чеке по 54-ФЗ (есть: {known}): платёж не принят, "
        "исправьте ставку в каталоге.",
        en="VAT rate {rate}% has no 54-FZ receipt code (known: {known}): the payment is not "
        "taken; correct the rate in the catalog.",
    ),
    "invalid_method_type": Code(
        Kind.INVALID,
        ru="Способ оплаты «{method_type}» не поддерживается. Доступны: {allowed}.",
        en="Payment method type '{method_type}' is not supported. Allowed: {allowed}.",
    ),
    "method_not_savable": Code(
        Kind.INVALID,
        ru="Способ оплаты «{method_type}» эта платёжная система не сохраняет для "
        "автоплатежа. Сохранить можно: {allowed}.",
        en="This payment provider cannot keep payment method type '{method_type}' for "
        "autopay. It can keep: {allowed}.",
    ),
    "consent_required": Code(
        Kind.INVALID,
        ru="Чтобы сохранить способ оплаты для автоплатежа, нужно согласие покупателя "
        "(consent_accepted: true).",
        en="Saving the payment method for autopay needs the customer's consent "
        "(consent_accepted: true).",
    ),
    "payment_method_not_found": Code(
        Kind.NOT_FOUND,
        ru="Сохранённый способ оплаты {method_id} не найден.",
        en="Saved payment method {method_id} not found.",
    ),
    "payment_attempt_not_found": Code(
        Kind.NOT_FOUND,
        ru="Попытка оплаты {attempt_id} не найдена.",
        en="Payment attempt {attempt_id} not found.",
    ),
    "gateway_unavailable": Code(
        Kind.UNAVAILABLE,
        ru="Платёжный шлюз {gateway} не ответил: {reason}. Повторите позже — дважды деньги "
        "не спишутся.",
        en="Payment gateway {gateway} did not answer: {reason}. Try again later: nothing is "
        "charged twice.",
    ),
    "gateway_refused": Code(
        Kind.INVALID,
        ru="Платёжный шлюз {gateway} отклонил запрос: {reason}.",
        en="Payment gateway {gateway} refused the request: {reason}.",
    ),
    "notification_rejected": Code(
        Kind.FORBIDDEN,
        ru="Уведомление платёжного шлюза отклонено: {reason}.",
        en="Gateway notification rejected: {reason}.",
    ),
    "unknown_gateway": Code(
        Kind.INVALID,
        ru="Платёжный шлюз «{gateway}» не подключён. Подключён: {allowed}.",
        en="Payment gateway '{gateway}' is not configured. Configured: {allowed}.",
    ),
    "payment_in_progress": Code(
        Kind.CONFLICT,
        ru="Оплата счёта {number} уже идёт: дождитесь её результата.",
        en="A payment of invoice {number} is already in progress: wait for its result.",
    ),
    "overpayment": Code(
        Kind.INVALID,
        ru="Платёж {amount} больше остатка по счёту {number}: {due}.",
        en="A payment of {amount} exceeds what is due on invoice {number}: {due}.",
    ),
    "reconciliation_period": Code(
        Kind.INVALID,
        ru="Период акта сверки с {first} по {last} не подходит: {problem}.",
        en="The reconciliation period from {first} to {last} cannot be used: {problem}.",
    ),
    "no_saved_method": Code(
        Kind.CONFLICT,
        ru="У аккаунта {account_id} нет сохранённого способа оплаты: списать оплату счёта "
        "{number} нечем.",
        en="Account {account_id} has no saved payment method: invoice {number} cannot be "
        "charged to one.",
    ),
    "refund_payment_not_gateway": Code(
        Kind.INVALID,
        ru="Платёж № {id} пришёл не через платёжный сервис ({method}): его возвращает "
        "бухгалтерия переводом. Выберите платёж картой или кошельком.",
        en="Payment {id} did not come through the payment gateway ({method}): finance "
        "sends it back by bank transfer. Choose a card or e-wallet payment.",
    ),
    "refund_exceeds_payment": Code(
        Kind.INVALID,
        ru="Возврат {amount} больше того, что осталось вернуть по платежу № {id}: {left}.",
        en="A refund of {amount} exceeds what is left to refund on payment {id}: {left}.",
    ),
}

register("payments", CODES)
