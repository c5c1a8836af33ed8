"""The catalog's error codes: plans, add-ons, periods, promotions, versions, migrations."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "unknown_plan": Code(
        Kind.INVALID,
        ru="Тариф «{plan}» не найден. Доступны: {allowed}.",
        en="Unknown plan '{plan}'. Allowed: {allowed}.",
    ),
    "unknown_add_on": Code(
        Kind.INVALID,
        ru="Дополнительная подписка «{add_on}» не найдена. Доступны: {allowed}.",
        en="Unknown add-on '{add_on}'. Allowed: {allowed}.",
    ),
    "add_on_not_offered": Code(
        Kind.INVALID,
        ru="Подписка «{add_on}» не продаётся с тарифом «{plan}». Она доступна с тарифами: "
        "{allowed}.",
        en="Add-on '{add_on}' is not offered with plan '{plan}'. It is offered with: {allowed}.",
    ),
    "duplicate_add_on": Code(
        Kind.INVALID,
        ru="Подписка «{add_on}» указана дважды.",
        en="Add-on '{add_on}' is given twice.",
    ),
    "period_not_offered": Code(
        Kind.INVALID,
        ru="Срок {months} мес. не предлагается. Доступные сроки, мес.: {allowed}.",
        en="A period of {months} months is not offered. Allowed periods (months): {allowed}.",
    ),
    "invalid_users": Code(
        Kind.INVALID,
        ru="Число пользователей должно быть целым и не меньше 1, указано {users}.",
        en="The number of users must be a whole number of at least 1, got {users}.",
    ),
    "invalid_months": Code(
        Kind.INVALID,
        ru="Срок должен быть целым числом месяцев не меньше 1, указано {months}. "
        "Доступные сроки, мес.: {allowed}.",
        en="The period must be a whole number of months of at least 1, got {months}. "
        "Allowed periods (months): {allowed}.",
    ),
    "too_many_users": Code(
        Kind.INVALID,
        ru="Тариф «{plan}» допускает не больше {max_users} пользователей, указано {users}. "
        "{advice}",
        en="Plan '{plan}' allows at most {max_users} users, got {users}. {advice}",
    ),
    "unknown_promotion": Code(
        Kind.INVALID,
        ru="Промокод «{promotion}» не найден. Действующие акции: {allowed}.",
        en="Unknown promotion code '{promotion}'. Active promotions: {allowed}.",
    ),
    "promotion_not_active": Code(
        Kind.INVALID,
        ru="Акция «{promotion}» действует {window}, а дата расчёта {at}.",
        en="Promotion '{promotion}' is valid {window}; the quote is for {at}.",
    ),
    "promotion_not_applicable": Code(
        Kind.INVALID,
        ru="Акция «{promotion}» действует только на: {applies_to}; в заказе их нет.",
        en="Promotion '{promotion}' applies only to: {applies_to}; none is in the order.",
    ),
    "promotion_not_eligible": Code(
        Kind.INVALID,
        ru="Акция «{promotion}» недоступна: {reason}.",
        en="Promotion '{promotion}' is not available: {reason}.",
    ),
    "promotions_overlap": Code(
        Kind.INVALID,
        ru="Акции «{first}» и «{second}» действуют на одну позицию «{product}»: "
        "применить можно только одну.",
        en="Promotions '{first}' and '{second}' both apply to '{product}': only one can be used.",
    ),
    "duplicate_promotion": Code(
        Kind.INVALID,
        ru="Промокод «{promotion}» указан дважды.",
        en="Promotion code '{promotion}' is given twice.",
    ),
    "add_on_not_sold": Code(
        Kind.INVALID,
        ru="Подписка «{add_on}» продавалась новым клиентам до {until}; её владельцы "
        "продлевают её как прежде. Выберите подписку «Маркетплейс».",
        en="Add-on '{add_on}' was sold to new customers until {until}; its holders renew "
        "it as before. Choose the Marketplace subscription.",
    ),
    "unknown_migration": Code(
        Kind.NOT_FOUND,
        ru="План миграции «{migration}» не найден в прайс-листе. Есть: {allowed}.",
        en="Migration plan '{migration}' is not in the catalog. Plans: {allowed}.",
    ),
    "no_catalog_loaded": Code(
        Kind.INVALID,
        ru="Прайс-лист не загружен: выполните podpiska init.",
        en="No catalog is loaded: run podpiska init.",
    ),
    "catalog_version_in_use": Code(
        Kind.CONFLICT,
        ru="Новый прайс-лист не содержит версию {version}, на которой продано подписок: "
        "{count}. Оставьте эту версию в файле.",
        en="The new catalog lacks version {version}, on which {count} subscriptions were "
        "sold. Keep that version in the file.",
    ),
    "no_catalog_version": Code(
        Kind.INVALID,
        ru="На {at} прайс-лист ещё не действует: первая версия вступает в силу {first}.",
        en="No catalog version is in force on {at}: the first one starts on {first}.",
    ),
}

register("catalog", CODES)
