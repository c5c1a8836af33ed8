"""The subscriptions' error codes: ordering, renewal, the lifecycle, mid-term changes."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "extension_days_invalid": Code(
        Kind.INVALID,
        ru="Продлить срок можно на 1–{max} дней, не на {days}.",
        en="A term is extended by 1 to {max} days, not {days}.",
    ),
    "extension_reason_required": Code(
        Kind.INVALID,
        ru="Укажите причину продления в подарок (до {max} символов).",
        en="Give the reason for the goodwill extension (up to {max} characters).",
    ),
    "extension_not_live": Code(
        Kind.CONFLICT,
        ru="Продлить можно только оплаченный срок (активная подписка или льготный период), "
        "а подписка в состоянии «{status}».",
        en="Only a paid term is extended (an active subscription or its grace period); "
        "this one is '{status}'.",
    ),
    "extension_renewal_open": Code(
        Kind.CONFLICT,
        ru="По подписке выставлен счёт на продление {number} со следующего срока: "
        "аннулируйте его или дождитесь оплаты, затем продлевайте в подарок.",
        en="A renewal invoice {number} for the next term is open: void it or wait for its "
        "payment, then extend the term as a gift.",
    ),
    "invalid_transition": Code(
        Kind.CONFLICT,
        ru="Подписка в состоянии «{status}» не может перейти по событию «{event}». "
        "Возможные события: {allowed}.",
        en="A subscription in state '{status}' cannot take event '{event}'. "
        "Allowed events: {allowed}.",
    ),
    "renewal_not_allowed": Code(
        Kind.CONFLICT,
        ru="Подписку в состоянии «{status}» нельзя продлить: оформите новую.",
        en="A subscription in state '{status}' cannot be renewed: order a new one.",
    ),
    "renewal_too_early": Code(
        Kind.CONFLICT,
        ru="Продление откроется {opens_on}: подписка оплачена по {paid_through}, а продлить "
        "можно не раньше чем за {window_days} дн. до конца.",
        en="Renewal opens on {opens_on}: the subscription is paid through {paid_through}, "
        "and it can be renewed at most {window_days} days before the end.",
    ),
    "renewal_too_short": Code(
        Kind.INVALID,
        ru="Подписка просрочена с {ends_on}: продление на {months} мес. закончится "
        "{term_ends_on}, в прошлом. Выберите срок не меньше {min_months} мес.",
        en="The subscription lapsed on {ends_on}: a renewal for {months} months would end on "
        "{term_ends_on}, in the past. Choose at least {min_months} months.",
    ),
    "renewal_partly_paid": Code(
        Kind.CONFLICT,
        ru="По счёту на продление {number} уже внесено {amount_paid}: доплатите его, срок "
        "продления по нему менять нельзя.",
        en="Renewal invoice {number} is partly paid ({amount_paid}): pay the rest of it; "
        "its period cannot be changed.",
    ),
    "change_outside_term": Code(
        Kind.INVALID,
        ru="Изменение на {on} вне оплаченного периода ({starts_on} — {paid_through}).",
        en="A change on {on} is outside the paid term ({starts_on} to {paid_through}).",
    ),
    "seats_not_sold": Code(
        Kind.INVALID,
        ru="На тарифе «{plan}» пользователи сверх включённых не продаются: смените тариф.",
        en="Plan '{plan}' sells no users above those included: change the plan.",
    ),
    "nothing_to_change": Code(
        Kind.INVALID,
        ru="Изменение ничего не меняет.",
        en="The change changes nothing.",
    ),
    "downgrade_blocked": Code(
        Kind.CONFLICT,
        ru="Перейти на тариф «{plan}» пока нельзя: {blockers}.",
        en="The move to plan '{plan}' is not possible yet: {blockers}.",
    ),
    "change_not_allowed": Code(
        Kind.CONFLICT,
        ru="Менять подписку в состоянии «{status}» нельзя: изменения возможны в оплаченный период.",
        en="A subscription in state '{status}' cannot be changed: changes happen within a "
        "paid term.",
    ),
    "renewed_ahead": Code(
        Kind.CONFLICT,
        ru="Следующий период уже оплачен и начнётся {starts_on}: изменения можно будет "
        "сделать с этого дня.",
        en="The next term is already paid and starts on {starts_on}: changes can be made "
        "from that day.",
    ),
    "change_stale": Code(
        Kind.CONFLICT,
        ru="Подписка изменилась после предварительного расчёта: запросите его заново.",
        en="The subscription changed since the preview: ask for a new one.",
    ),
    "change_token_invalid": Code(
        Kind.INVALID,
        ru="Токен предварительного расчёта неверен или просрочен (действует 15 минут).",
        en="The preview token is invalid or expired (it is valid for 15 minutes).",
    ),
    "change_pending": Code(
        Kind.CONFLICT,
        ru="У подписки уже есть неоплаченное изменение по счёту {number}: оплатите или "
        "отмените его.",
        en="The subscription already has an unpaid change on invoice {number}: pay it or "
        "cancel it.",
    ),
    "subscription_exists": Code(
        Kind.CONFLICT,
        ru="У портала уже есть подписка № {subscription_id} в состоянии «{status}».",
        en="The account already has subscription {subscription_id} in state '{status}'.",
    ),
    "order_stale": Code(
        Kind.CONFLICT,
        ru="Цена заказа изменилась после предварительного расчёта ({expected} → {total}): "
        "посмотрите расчёт заново.",
        en="The order's price changed since the preview ({expected} → {total}): preview it again.",
    ),
    "no_subscription": Code(
        Kind.NOT_FOUND,
        ru="У портала № {account_id} нет подписки.",
        en="Account {account_id} has no subscription.",
    ),
    "invalid_payment_method": Code(
        Kind.INVALID,
        ru="Способ оплаты «{method}» не поддерживается. Доступны: {allowed}.",
        en="Payment method '{method}' is not supported. Allowed: {allowed}.",
    ),
    "cancel_not_allowed": Code(
        Kind.CONFLICT,
        ru="Подписку в состоянии «{status}» нельзя отменить.",
        en="A subscription in state '{status}' cannot be cancelled.",
    ),
    "autopay_needs_method": Code(
        Kind.CONFLICT,
        ru="Автоплатёж нельзя включить: нет сохранённого способа оплаты. Оплатите счёт "
        "картой или кошельком с галочкой «сохранить для автоплатежа».",
        en="Autopay cannot be turned on: no payment method is saved. Pay an invoice by "
        "card or wallet and choose to keep it for autopay.",
    ),
    "invoice_paid": Code(
        Kind.CONFLICT,
        ru="Счёт {number} в состоянии «{status}»: оплаченный счёт не аннулируется, его "
        "исправляет корректировочный документ.",
        en="Invoice {number} is '{status}': a paid invoice is not voided; a credit note "
        "corrects it.",
    ),
    "void_reason_required": Code(
        Kind.INVALID,
        ru="Укажите причину аннулирования счёта: не более {max} символов.",
        en="Give the reason for voiding the invoice: at most {max} characters.",
    ),
    "void_reason_too_long": Code(
        Kind.INVALID,
        ru="Причина аннулирования длиннее {max} символов: {length}.",
        en="The reason for voiding is longer than {max} characters: {length}.",
    ),
    "invalid_paid_on": Code(
        Kind.INVALID,
        ru="Дата оплаты {paid_on} должна быть не раньше выставления счёта ({issued_on}) и "
        "не позже сегодняшнего дня ({today}).",
        en="The day paid {paid_on} must be no earlier than the invoice's issue "
        "({issued_on}) and no later than today ({today}).",
    ),
    "invalid_payment_reference": Code(
        Kind.INVALID,
        ru="Номер платёжного документа длиннее {max} символов.",
        en="The payment's document number is longer than {max} characters.",
    ),
}

register("subscriptions", CODES)
