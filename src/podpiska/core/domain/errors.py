"""Business errors: a stable code, structured details, and a human sentence in ru or en.

Entry points turn a `DomainError` into HTTP 422/409 with `{"error": {code, message,
details}}` or a CLI exit code 2 with one line. The sentence names the problem and, where
it helps, the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

_MESSAGES: dict[str, dict[str, str]] = {
    "unknown_plan": {
        "ru": "Тариф «{plan}» не найден. Доступны: {allowed}.",
        "en": "Unknown plan '{plan}'. Allowed: {allowed}.",
    },
    "unknown_add_on": {
        "ru": "Дополнительная подписка «{add_on}» не найдена. Доступны: {allowed}.",
        "en": "Unknown add-on '{add_on}'. Allowed: {allowed}.",
    },
    "add_on_not_offered": {
        "ru": "Подписка «{add_on}» не продаётся с тарифом «{plan}». Она доступна с тарифами: "
        "{allowed}.",
        "en": "Add-on '{add_on}' is not offered with plan '{plan}'. It is offered with: {allowed}.",
    },
    "duplicate_add_on": {
        "ru": "Подписка «{add_on}» указана дважды.",
        "en": "Add-on '{add_on}' is given twice.",
    },
    "period_not_offered": {
        "ru": "Срок {months} мес. не предлагается. Доступные сроки, мес.: {allowed}.",
        "en": "A period of {months} months is not offered. Allowed periods (months): {allowed}.",
    },
    "invalid_users": {
        "ru": "Число пользователей должно быть целым и не меньше 1, указано {users}.",
        "en": "The number of users must be a whole number of at least 1, got {users}.",
    },
    "invalid_months": {
        "ru": "Срок должен быть целым числом месяцев не меньше 1, указано {months}. "
        "Доступные сроки, мес.: {allowed}.",
        "en": "The period must be a whole number of months of at least 1, got {months}. "
        "Allowed periods (months): {allowed}.",
    },
    "too_many_users": {
        "ru": "Тариф «{plan}» допускает не больше {max_users} пользователей, указано {users}. "
        "{advice}",
        "en": "Plan '{plan}' allows at most {max_users} users, got {users}. {advice}",
    },
    "unknown_promotion": {
        "ru": "Промокод «{promotion}» не найден. Действующие акции: {allowed}.",
        "en": "Unknown promotion code '{promotion}'. Active promotions: {allowed}.",
    },
    "promotion_not_active": {
        "ru": "Акция «{promotion}» действует {window}, а дата расчёта {at}.",
        "en": "Promotion '{promotion}' is valid {window}; the quote is for {at}.",
    },
    "promotion_not_applicable": {
        "ru": "Акция «{promotion}» действует только на: {applies_to}; в заказе их нет.",
        "en": "Promotion '{promotion}' applies only to: {applies_to}; none is in the order.",
    },
    "promotion_not_eligible": {
        "ru": "Акция «{promotion}» недоступна: {reason}.",
        "en": "Promotion '{promotion}' is not available: {reason}.",
    },
    "promotions_overlap": {
        "ru": "Акции «{first}» и «{second}» действуют на одну позицию «{product}»: "
        "применить можно только одну.",
        "en": "Promotions '{first}' and '{second}' both apply to '{product}': "
        "only one can be used.",
    },
    "duplicate_promotion": {
        "ru": "Промокод «{promotion}» указан дважды.",
        "en": "Promotion code '{promotion}' is given twice.",
    },
    "invalid_transition": {
        "ru": "Подписка в состоянии «{status}» не может перейти по событию «{event}». "
        "Возможные события: {allowed}.",
        "en": "A subscription in state '{status}' cannot take event '{event}'. "
        "Allowed events: {allowed}.",
    },
    "renewal_not_allowed": {
        "ru": "Подписку в состоянии «{status}» нельзя продлить: оформите новую.",
        "en": "A subscription in state '{status}' cannot be renewed: order a new one.",
    },
    "renewal_too_early": {
        "ru": "Продление откроется {opens_on}: подписка оплачена по {paid_through}, а продлить "
        "можно не раньше чем за {window_days} дн. до конца.",
        "en": "Renewal opens on {opens_on}: the subscription is paid through {paid_through}, "
        "and it can be renewed at most {window_days} days before the end.",
    },
    "renewal_too_short": {
        "ru": "Подписка просрочена с {ends_on}: продление на {months} мес. закончится "
        "{term_ends_on}, в прошлом. Выберите срок не меньше {min_months} мес.",
        "en": "The subscription lapsed on {ends_on}: a renewal for {months} months would end on "
        "{term_ends_on}, in the past. Choose at least {min_months} months.",
    },
    "renewal_partly_paid": {
        "ru": "По счёту на продление {number} уже внесено {amount_paid}: доплатите его, срок "
        "продления по нему менять нельзя.",
        "en": "Renewal invoice {number} is partly paid ({amount_paid}): pay the rest of it; "
        "its period cannot be changed.",
    },
    "change_outside_term": {
        "ru": "Изменение на {on} вне оплаченного периода ({starts_on} — {paid_through}).",
        "en": "A change on {on} is outside the paid term ({starts_on} to {paid_through}).",
    },
    "seats_not_sold": {
        "ru": "На тарифе «{plan}» пользователи сверх включённых не продаются: смените тариф.",
        "en": "Plan '{plan}' sells no users above those included: change the plan.",
    },
    "nothing_to_change": {
        "ru": "Изменение ничего не меняет.",
        "en": "The change changes nothing.",
    },
    "downgrade_blocked": {
        "ru": "Перейти на тариф «{plan}» пока нельзя: {blockers}.",
        "en": "The move to plan '{plan}' is not possible yet: {blockers}.",
    },
    "change_not_allowed": {
        "ru": "Менять подписку в состоянии «{status}» нельзя: изменения возможны в оплаченный "
        "период.",
        "en": "A subscription in state '{status}' cannot be changed: changes happen within a "
        "paid term.",
    },
    "renewed_ahead": {
        "ru": "Следующий период уже оплачен и начнётся {starts_on}: изменения можно будет "
        "сделать с этого дня.",
        "en": "The next term is already paid and starts on {starts_on}: changes can be made "
        "from that day.",
    },
    "change_stale": {
        "ru": "Подписка изменилась после предварительного расчёта: запросите его заново.",
        "en": "The subscription changed since the preview: ask for a new one.",
    },
    "change_token_invalid": {
        "ru": "Токен предварительного расчёта неверен или просрочен (действует 15 минут).",
        "en": "The preview token is invalid or expired (it is valid for 15 minutes).",
    },
    "change_pending": {
        "ru": "У подписки уже есть неоплаченное изменение по счёту {number}: оплатите или "
        "отмените его.",
        "en": "The subscription already has an unpaid change on invoice {number}: pay it or "
        "cancel it.",
    },
    "refund_exceeds_credit": {
        "ru": "Возврат {amount} больше остатка на счёте: {available}.",
        "en": "A refund of {amount} exceeds the account's credit: {available}.",
    },
    "credit_note_not_allowed": {
        "ru": "Счёт {number} в состоянии «{status}»: корректировочный документ выписывается "
        "к оплаченному счёту, неоплаченный аннулируется.",
        "en": "Invoice {number} is '{status}': a credit note corrects a paid invoice; an "
        "unpaid one is voided.",
    },
    "credit_note_exists": {
        "ru": "К счёту {number} уже выписан корректировочный документ.",
        "en": "Invoice {number} already has a credit note.",
    },
    "bad_statement": {
        "ru": "Выписку {source} прочитать нельзя: {problem}.",
        "en": "Statement {source} cannot be read: {problem}.",
    },
    "bank_payment_resolved": {
        "ru": "Платёж № {id} уже разобран (состояние «{status}»).",
        "en": "Bank payment {id} is already dealt with ('{status}').",
    },
    "bank_payment_reason_required": {
        "ru": "Укажите, почему платёж № {id} не наш: причина не может быть пустой.",
        "en": "Say why bank payment {id} is not ours: the reason cannot be blank.",
    },
    "bank_payment_reason_too_long": {
        "ru": "Причина длиннее {max} символов ({length}): сократите её.",
        "en": "The reason is longer than {max} characters ({length}): shorten it.",
    },
    "bank_payment_not_dismissed": {
        "ru": "Платёж № {id} не отмечен как «не наш» (состояние «{status}»): в очередь на "
        "разбор возвращается только такой платёж.",
        "en": "Bank payment {id} is not set aside as not ours ('{status}'): only such a "
        "payment goes back to the review queue.",
    },
    "login_failed": {
        "ru": "Неверный e-mail или пароль.",
        "en": "Wrong e-mail or password.",
    },
    "login_locked": {
        "ru": "Слишком много неудачных попыток входа: вход заблокирован до {until}.",
        "en": "Too many failed login attempts: logging in is locked until {until}.",
    },
    "person_exists": {
        "ru": "Пользователь с e-mail {email} уже есть.",
        "en": "A person with e-mail {email} already exists.",
    },
    "not_found": {
        "ru": "Не найдено: {what} № {id}.",
        "en": "{what} {id} was not found.",
    },
    "document_not_found": {
        "ru": "Документ «{what}» к {source} не выписан: {why}.",
        "en": "No {what} was issued for {source}: {why}.",
    },
    "license_expired": {
        "ru": "Лицензия {serial} истекла: оплачена по {paid_through}, льготный период "
        "закончился {grace_until}. Продлите подписку и установите новый файл лицензии.",
        "en": "License {serial} has expired: it was paid through {paid_through} and its grace "
        "period ended on {grace_until}. Renew the subscription and install the new license file.",
    },
    "license_tampered": {
        "ru": "Файл лицензии изменён после подписи: подпись не сходится ({problem}). "
        "Скачайте файл заново.",
        "en": "The license file was changed after it was signed: the signature does not match "
        "({problem}). Download the file again.",
    },
    "license_wrong_key": {
        "ru": "Лицензия подписана другим ключом ({key_id}), а проверяется ключом "
        "{expected_key_id}: возьмите открытый ключ, которым подписан файл.",
        "en": "The license was signed with another key ({key_id}) than the one checking it "
        "({expected_key_id}): use the public key the file was signed with.",
    },
    "license_malformed": {
        "ru": "Это не файл лицензии Podpiska: {problem}.",
        "en": "This is not a Podpiska license file: {problem}.",
    },
    "license_key_invalid": {
        "ru": "Ключ {source} не подходит: {problem}.",
        "en": "Key {source} cannot be used: {problem}.",
    },
    "license_not_on_premise": {
        "ru": "Портал № {account_id} работает в облаке: файл лицензии выдаётся только "
        "коробочной редакции (on_premise).",
        "en": "Account {account_id} is a cloud account: license files are issued to on-premise "
        "accounts only.",
    },
    "license_not_paid": {
        "ru": "У портала № {account_id} нет оплаченной подписки (состояние «{status}»): файл "
        "лицензии выдаётся на оплаченный период.",
        "en": "Account {account_id} has no paid subscription (state '{status}'): a license "
        "file is issued for a paid term.",
    },
    "license_not_found": {
        "ru": "Порталу № {account_id} ещё не выдан файл лицензии.",
        "en": "No license file has been issued to account {account_id} yet.",
    },
    "subscription_exists": {
        "ru": "У портала уже есть подписка № {subscription_id} в состоянии «{status}».",
        "en": "The account already has subscription {subscription_id} in state '{status}'.",
    },
    "no_subscription": {
        "ru": "У портала № {account_id} нет подписки.",
        "en": "Account {account_id} has no subscription.",
    },
    "add_on_not_sold": {
        "ru": "Подписка «{add_on}» продавалась новым клиентам до {until}; её владельцы "
        "продлевают её как прежде. Выберите подписку «Маркетплейс».",
        "en": "Add-on '{add_on}' was sold to new customers until {until}; its holders renew "
        "it as before. Choose the Marketplace subscription.",
    },
    "not_entitled": {
        "ru": "Нет доступа. {message}",
        "en": "Not entitled. {message}",
    },
    "no_trial": {
        "ru": "Пробный период «{add_on}» не предусмотрен каталогом.",
        "en": "The catalog offers no trial of '{add_on}'.",
    },
    "trial_used": {
        "ru": "Пробный период «{add_on}» уже был у этого портала ({starts_on} – {ends_on}).",
        "en": "This account already had its trial of '{add_on}' ({starts_on} – {ends_on}).",
    },
    "trial_not_needed": {
        "ru": "Подписка «{add_on}» уже подключена: пробный период не нужен.",
        "en": "The account already has '{add_on}': no trial needed.",
    },
    "unknown_app": {
        "ru": "Приложение «{app}» не найдено в каталоге приложений.",
        "en": "App '{app}' is not in the app registry.",
    },
    "invalid_app": {
        "ru": "Приложение {at}: {problem}.",
        "en": "App {at}: {problem}.",
    },
    "unknown_migration": {
        "ru": "План миграции «{migration}» не найден в прайс-листе. Есть: {allowed}.",
        "en": "Migration plan '{migration}' is not in the catalog. Plans: {allowed}.",
    },
    "invalid_method_type": {
        "ru": "Способ оплаты «{method_type}» не поддерживается. Доступны: {allowed}.",
        "en": "Payment method type '{method_type}' is not supported. Allowed: {allowed}.",
    },
    "method_not_savable": {
        "ru": "Способ оплаты «{method_type}» эта платёжная система не сохраняет для "
        "автоплатежа. Сохранить можно: {allowed}.",
        "en": "This payment provider cannot keep payment method type '{method_type}' for "
        "autopay. It can keep: {allowed}.",
    },
    "consent_required": {
        "ru": "Чтобы сохранить способ оплаты для автоплатежа, нужно согласие покупателя "
        "(consent_accepted: true).",
        "en": "Saving the payment method for autopay needs the customer's consent "
        "(consent_accepted: true).",
    },
    "payment_method_not_found": {
        "ru": "Сохранённый способ оплаты {method_id} не найден.",
        "en": "Saved payment method {method_id} not found.",
    },
    "payment_attempt_not_found": {
        "ru": "Попытка оплаты {attempt_id} не найдена.",
        "en": "Payment attempt {attempt_id} not found.",
    },
    "gateway_unavailable": {
        "ru": "Платёжный шлюз {gateway} не ответил: {reason}. Повторите позже — дважды деньги "
        "не спишутся.",
        "en": "Payment gateway {gateway} did not answer: {reason}. Try again later: nothing is "
        "charged twice.",
    },
    "gateway_refused": {
        "ru": "Платёжный шлюз {gateway} отклонил запрос: {reason}.",
        "en": "Payment gateway {gateway} refused the request: {reason}.",
    },
    "notification_rejected": {
        "ru": "Уведомление платёжного шлюза отклонено: {reason}.",
        "en": "Gateway notification rejected: {reason}.",
    },
    "unknown_gateway": {
        "ru": "Платёжный шлюз «{gateway}» не подключён. Подключён: {allowed}.",
        "en": "Payment gateway '{gateway}' is not configured. Configured: {allowed}.",
    },
    "payment_in_progress": {
        "ru": "Оплата счёта {number} уже идёт: дождитесь её результата.",
        "en": "A payment of invoice {number} is already in progress: wait for its result.",
    },
    "invoice_not_payable": {
        "ru": "Счёт {number} в состоянии «{status}»: оплатить его нельзя.",
        "en": "Invoice {number} is '{status}': it cannot be paid.",
    },
    "overpayment": {
        "ru": "Платёж {amount} больше остатка по счёту {number}: {due}.",
        "en": "A payment of {amount} exceeds what is due on invoice {number}: {due}.",
    },
    "invalid_amount": {
        "ru": "Сумма — это рубли цифрами 0–9, больше нуля, с точкой или запятой и не больше "
        "двух знаков после неё (не больше 13 цифр до неё), например 1500.00; указано {amount}.",
        "en": "An amount is roubles in digits 0-9, above zero, with a point or a comma and at "
        "most two decimals (at most 13 digits before it), e.g. 1500.00; got {amount}.",
    },
    "invalid_payment_method": {
        "ru": "Способ оплаты «{method}» не поддерживается. Доступны: {allowed}.",
        "en": "Payment method '{method}' is not supported. Allowed: {allowed}.",
    },
    "invalid_field": {
        "ru": "Поле «{field}»: {problem_ru}.",
        "en": "Field '{field}': {problem_en}.",
    },
    "user_exists": {
        "ru": "Пользователь {email} уже есть на портале.",
        "en": "User {email} already exists in the account.",
    },
    "user_limit_reached": {
        "ru": "На тарифе «{plan}» не больше {limit} активных пользователей, сейчас {active}. "
        "{advice}",
        "en": "Plan '{plan}' allows at most {limit} active users; there are {active}. {advice}",
    },
    "last_admin": {
        "ru": "{email} — единственный активный администратор портала: назначьте другого, "
        "прежде чем блокировать.",
        "en": "{email} is the account's only active administrator: make someone else an "
        "administrator before blocking.",
    },
    "cancel_not_allowed": {
        "ru": "Подписку в состоянии «{status}» нельзя отменить.",
        "en": "A subscription in state '{status}' cannot be cancelled.",
    },
    "idempotency_conflict": {
        "ru": "Ключ идемпотентности «{key}» уже использован с другими параметрами запроса.",
        "en": "Idempotency key '{key}' was already used with other request parameters.",
    },
    "idempotency_in_progress": {
        "ru": "Запрос с ключом идемпотентности «{key}» ещё выполняется. Повторите позже.",
        "en": "A request with idempotency key '{key}' is still in progress. Retry later.",
    },
    "unknown_action": {
        "ru": "Действие «{action}» неизвестно. Доступны: {allowed}.",
        "en": "Unknown action '{action}'. Allowed: {allowed}.",
    },
    "no_catalog_loaded": {
        "ru": "Прайс-лист не загружен: выполните podpiska init.",
        "en": "No catalog is loaded: run podpiska init.",
    },
    "catalog_version_in_use": {
        "ru": "Новый прайс-лист не содержит версию {version}, на которой продано подписок: "
        "{count}. Оставьте эту версию в файле.",
        "en": "The new catalog lacks version {version}, on which {count} subscriptions were "
        "sold. Keep that version in the file.",
    },
    "test_clock_backwards": {
        "ru": "Тестовые часы № {id} показывают {now}: двигать их можно только вперёд.",
        "en": "Test clock {id} is at {now}: it only moves forward.",
    },
    "no_catalog_version": {
        "ru": "На {at} прайс-лист ещё не действует: первая версия вступает в силу {first}.",
        "en": "No catalog version is in force on {at}: the first one starts on {first}.",
    },
    "unknown_event_type": {
        "ru": "Тип события «{event_type}» неизвестен. Доступны: {allowed}.",
        "en": "Unknown event type '{event_type}'. Allowed: {allowed}.",
    },
    # --- bounded work (engineer E): test clock advances, request bodies -------------------
    "test_clock_advance_too_far": {
        "ru": "Тестовые часы двигаются не больше чем на {max_days} дн. за один запрос "
        "(запрошено: {asked}). Двигайте их несколькими запросами.",
        "en": "A test clock moves at most {max_days} days per request (asked: {asked}). "
        "Move it in several requests.",
    },
    "body_too_large": {
        "ru": "Тело запроса больше допустимого: не более {limit} байт для этого адреса.",
        "en": "The request body is too large: at most {limit} bytes for this route.",
    },
    # -- payments: the customer's own consent, autopay, one open attempt (engineer B) --
    "consent_by_customer_only": {
        "ru": "Согласие на списания и автоплатёж даёт только сам клиент: администратор "
        "портала или ключ API этого портала ({actor} к ним не относится).",
        "en": "Only the customer gives consent to recurring charges and turns autopay on: "
        "the account's own administrator or API key ({actor} is neither).",
    },
    "autopay_needs_method": {
        "ru": "Автоплатёж нельзя включить: нет сохранённого способа оплаты. Оплатите счёт "
        "картой или кошельком с галочкой «сохранить для автоплатежа».",
        "en": "Autopay cannot be turned on: no payment method is saved. Pay an invoice by "
        "card or wallet and choose to keep it for autopay.",
    },
    # -- money: credit notes that take back a term's money (engineer F) --
    "credit_note_term_ahead": {
        "ru": "Счёт {number} оплачивает период, а следующий период (с {starts_on}) уже "
        "оплачен заранее: сначала выпишите корректировочный документ к счёту следующего "
        "периода, когда он начнётся, или дождитесь его начала.",
        "en": "Invoice {number} pays for a term while the next term (from {starts_on}) is "
        "already paid ahead: a credit note can take back a term once no later term is "
        "paid ahead of it; wait until {starts_on}.",
    },
    "credit_note_change_in_force": {
        "ru": "Счёт {number} оплатил изменение подписки, которое действует до {paid_through}: "
        "деньги за него нельзя вернуть, пока оно действует. Верните весь период "
        "(корректировочный документ к счёту периода) или дождитесь его конца.",
        "en": "Invoice {number} paid for a change in force until {paid_through}: its money "
        "cannot be taken back while it is in force. Take back the whole term (a credit note "
        "on the term's invoice) or wait until it ends.",
    },
}

# What each code means for HTTP: conflicts with the current state answer 409, what the
# caller may not see answers 404; everything else is bad input (422).
CONFLICT_CODES = frozenset(
    {
        "trial_used",
        "trial_not_needed",
        "subscription_exists",
        "invoice_not_payable",
        "payment_in_progress",
        "invalid_transition",
        "renewal_not_allowed",
        "renewal_too_early",
        "renewal_partly_paid",
        "downgrade_blocked",
        "change_stale",
        "bank_payment_resolved",
        "bank_payment_not_dismissed",
        "renewed_ahead",
        "change_not_allowed",
        "credit_note_not_allowed",
        "credit_note_exists",
        "change_pending",
        "cancel_not_allowed",
        "user_exists",
        "person_exists",
        "last_admin",
        "idempotency_conflict",
        "idempotency_in_progress",
        "catalog_version_in_use",
        "test_clock_backwards",
        "license_not_on_premise",
        "license_not_paid",
        "autopay_needs_method",
        # money (engineer F)
        "credit_note_term_ahead",
        "credit_note_change_in_force",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "not_found",
        "no_subscription",
        "payment_method_not_found",
        "payment_attempt_not_found",
        "unknown_app",
        "unknown_migration",
        "document_not_found",
        "license_not_found",
    }
)
# The outside world failed, not the request: 503 (a gateway retries its webhook later).
UNAVAILABLE_CODES = frozenset({"gateway_unavailable"})
TOO_LARGE_CODES = frozenset({"body_too_large"})  # 413
# The caller may not send this (a webhook from outside the gateway's networks).
FORBIDDEN_CODES = frozenset(
    {
        "notification_rejected",
        "not_entitled",
        "login_failed",
        "login_locked",
        "consent_by_customer_only",
    }
)


def is_error_code(code: str) -> bool:
    """True for a code this registry has a message for (a DomainError can be made of it)."""
    return code in _MESSAGES


class DomainError(Exception):
    """A business rule said no. `code` is stable; `details` are JSON-safe values."""

    def __init__(self, code: str, **details: Any) -> None:
        if code not in _MESSAGES:
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.details: Mapping[str, Any] = details
        super().__init__(self.message("en"))

    @property
    def http_status(self) -> int:
        if self.code in NOT_FOUND_CODES:
            return 404
        if self.code in UNAVAILABLE_CODES:
            return 503
        if self.code in FORBIDDEN_CODES:
            return 403
        if self.code in TOO_LARGE_CODES:
            return 413
        return 409 if self.code in CONFLICT_CODES else 422

    def message(self, lang: str = "ru") -> str:
        templates = _MESSAGES[self.code]
        values = {
            k: _show_status(v, lang) if k == "status" else _show(v, lang)
            for k, v in self.details.items()
        }
        return templates.get(lang, templates["en"]).format(**values).strip()


# The states a message names (`details.status` keeps the code): subscriptions, invoices,
# changes, bank statement payments. A state not here is shown as it is.
_STATUS_WORDS: dict[str, tuple[str, str]] = {
    "pending": ("ожидает оплаты", "awaiting payment"),
    "active": ("действует", "active"),
    "grace": ("льготный период, только чтение", "grace period, read-only"),
    "suspended": ("приостановлена", "suspended"),
    "cancelled": ("отменена", "cancelled"),
    "expired": ("срок истёк", "expired"),
    "draft": ("черновик", "draft"),
    "issued": ("выставлен, ждёт оплаты", "issued, awaiting payment"),
    "paid": ("оплачен", "paid"),
    "void": ("аннулирован", "void"),
    "stale": ("устарел", "out of date"),
    "partially paid": ("частично оплачен", "partially paid"),
    "applied": ("применено", "applied"),
    "scheduled": ("запланировано", "scheduled"),
    "partial": ("оплачен не полностью", "partly paid"),
    "overpaid": ("переплата", "overpaid"),
    "unmatched": ("не разобран", "unmatched"),
    "resolved": ("разобран", "resolved"),
    "credited": ("зачислен на баланс", "credited to the balance"),
    "dismissed": ("отмечен как «не наш»", "dismissed as not ours"),
}


def _show_status(value: Any, lang: str) -> str:
    words = _STATUS_WORDS.get(str(value))
    if words is None:
        return _show(value, lang)
    return words[0] if lang == "ru" else words[1]


def _show(value: Any, lang: str) -> str:
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if lang == "ru" else value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(v) for v in value) or ("нет" if lang == "ru" else "none")
    if isinstance(value, dict) and {"ru", "en"} <= value.keys():
        return str(value[lang if lang in value else "en"])
    return str(value)
