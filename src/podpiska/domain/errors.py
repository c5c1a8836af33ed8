"""Business errors: a stable code, structured details, and a human sentence in ru or en.

Entry points turn a `DomainError` into HTTP 422/409 with `{"error": {code, message,
details}}` or a CLI exit code 2 with one line. The sentence names the problem and, where
it helps, the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    "no_catalog_version": {
        "ru": "На {at} прайс-лист ещё не действует: первая версия вступает в силу {first}.",
        "en": "No catalog version is in force on {at}: the first one starts on {first}.",
    },
}


class DomainError(Exception):
    """A business rule said no. `code` is stable; `details` are JSON-safe values."""

    def __init__(self, code: str, **details: Any) -> None:
        if code not in _MESSAGES:
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.details: Mapping[str, Any] = details
        super().__init__(self.message("en"))

    def message(self, lang: str = "ru") -> str:
        templates = _MESSAGES[self.code]
        values = {k: _show(v, lang) for k, v in self.details.items()}
        return templates.get(lang, templates["en"]).format(**values).strip()


def _show(value: Any, lang: str) -> str:
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(v) for v in value) or ("нет" if lang == "ru" else "none")
    if isinstance(value, dict) and {"ru", "en"} <= value.keys():
        return str(value[lang if lang in value else "en"])
    return str(value)
