"""Entitlements: may this account do X now, and if not, why — one answer for everyone.

`check(state, action)` is a pure function of the license state: the plan's features and
limits, the add-ons' features, and the lifecycle state (grace restricts what the catalog
says; suspended leaves only billing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from podpiska.catalog.domain.catalog import ACTIONS, CatalogVersion, Plan
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import format_money, format_percent
from podpiska.core.domain.states import Status
from podpiska.core.domain.text import Text

# The feature an action needs (None: no feature, only the state and the limits decide).
FEATURE_OF: dict[str, str | None] = {
    "crm.read": "crm",
    "crm.create_deal": "crm",
    "crm.create_contact": "crm",
    "crm.update": "crm",
    "integrations.use": "integrations",
    "rest_api.call": "rest_api",
    "webhooks.use": "webhooks",
    "apps.install": "apps",
    "apps.use": "apps",
    "users.add": None,
    "disk.write": None,
    "billing.read": None,
    "billing.pay": None,
}
BILLING_ACTIONS = frozenset({"billing.read", "billing.pay"})

ACTION_LABELS: dict[str, Text] = {  # ru labels are neuter: "… недоступно"
    "crm.read": Text("чтение данных CRM", "reading the CRM"),
    "crm.create_deal": Text("создание сделок", "creating deals"),
    "crm.create_contact": Text("создание контактов", "creating contacts"),
    "crm.update": Text("изменение данных CRM", "changing CRM data"),
    "integrations.use": Text("использование интеграций", "using integrations"),
    "rest_api.call": Text("обращение к REST API", "calling the REST API"),
    "webhooks.use": Text("использование вебхуков", "using webhooks"),
    "apps.install": Text("подключение приложений", "installing apps"),
    "apps.use": Text("использование приложений", "using apps"),
    "users.add": Text("добавление пользователей", "adding users"),
    "disk.write": Text("сохранение файлов на диск", "writing to the disk"),
    "billing.read": Text("чтение счетов", "reading billing"),
    "billing.pay": Text("внесение оплаты", "paying"),
}


def action_label(action: str, lang: str = "ru") -> str:
    return ACTION_LABELS.get(action, Text(action, action)).get(lang)


# What the marketplace rule governs (catalog `marketplace`).
MARKETPLACE_ACTIONS = frozenset({"apps.install", "apps.use", "rest_api.call", "webhooks.use"})


@dataclass(frozen=True, slots=True)
class AppAccess:
    """An app as the check needs it, with its installation on the account if any."""

    code: str
    name: str
    kind: str  # migrator | vendor_basic | regular
    free_on_plans: frozenset[str] = frozenset()
    installed_on: date | None = None


@dataclass(frozen=True, slots=True)
class LicenseState:
    """What the check needs to know about an account, at one moment."""

    today: date
    status: Status | None  # None: the account never ordered
    version: CatalogVersion | None = None
    plan: Plan | None = None
    add_ons: frozenset[str] = frozenset()
    seats: int = 0
    active_users: int = 0
    disk_used_mb: int = 0
    paid_through: date | None = None
    grace_until: date | None = None  # the last day of grace
    edition: str = "cloud"
    trial_add_ons: frozenset[str] = frozenset()  # add-ons on an active trial
    trial_available: bool = False  # the catalog's one-time trial is still unused
    first_time_percent: Decimal | None = None  # a first-purchase promotion of the offer
    # The marketplace rule applies from this day (a migration cohort's cut-over; None: from
    # the catalog version), and apps installed before it keep working through this day.
    rule_from: date | None = None
    transition_until: date | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    allowed: bool
    reason: str  # a stable code
    message_ru: str
    message_en: str
    details: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "ru") -> str:
        return Text(self.message_ru, self.message_en).get(lang)


def _d(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "—"


def check(state: LicenseState, action: str, app: AppAccess | None = None) -> Decision:
    if action not in ACTIONS:
        raise DomainError("unknown_action", action=action, allowed=list(ACTIONS))
    label_ru, label_en = ACTION_LABELS[action].ru, ACTION_LABELS[action].en
    if action in BILLING_ACTIONS:
        return Decision(
            action,
            True,
            "billing_always_allowed",
            "Счета и оплата доступны всегда.",
            "Billing and paying are always available.",
        )
    status = state.status
    if status is None or status is Status.PENDING:
        return Decision(
            action,
            False,
            "not_paid",
            f"У портала нет оплаченной подписки: {label_ru} недоступно. Оплатите подписку.",
            f"The account has no paid subscription: {label_en} is unavailable. "
            "Pay for a subscription.",
        )
    if status is Status.CANCELLED:
        return Decision(
            action,
            False,
            "cancelled",
            f"Подписка отменена: {label_ru} недоступно. Оформите новую подписку.",
            f"The subscription is cancelled: {label_en} is unavailable. Order a new one.",
        )
    if status is Status.SUSPENDED:
        return Decision(
            action,
            False,
            "suspended",
            f"Портал приостановлен после окончания льготного периода: {label_ru} недоступно. "
            "Доступны только счета и оплата. Продлите подписку.",
            f"The account is suspended after its grace period: {label_en} is unavailable. "
            "Only billing and paying remain. Renew the subscription.",
            {"paid_through": state.paid_through.isoformat() if state.paid_through else None},
        )
    assert state.plan is not None and state.version is not None
    plan, version = state.plan, state.version
    granted = set(plan.features)
    for code in state.add_ons | state.trial_add_ons:
        add_on = version.add_ons.get(code)
        if add_on is not None:
            granted |= add_on.features
    because: tuple[str, str, str, dict[str, Any]] | None = None  # why allowed, if special
    if action in MARKETPLACE_ACTIONS and _under_rule(state):
        if "apps" not in granted:
            because = _without_marketplace(state, action, app)
            if because is None:
                return _marketplace_required(state, action, app)
    elif action in MARKETPLACE_ACTIONS and _rule_ahead(state):
        if "apps" not in granted:  # the old regime: integrations are free until rule_from
            because = _before_the_rule(state, action)
    elif action in MARKETPLACE_ACTIONS and _outside_rule(state):
        if "apps" not in granted:  # another edition (on-premise): integrations stay free
            because = _outside_the_rule(state, action)
    else:
        feature = FEATURE_OF[action]
        if feature is not None and feature not in granted:
            return _missing_feature(state, action, feature)
    if status is Status.GRACE and action in version.lifecycle.grace_restricts:
        return Decision(
            action,
            False,
            "grace_restricted",
            f"Портал в льготном периоде до {_d(state.grace_until)}: {label_ru} недоступно. "
            "Продлите подписку.",
            f"The account is in its grace period until {_d(state.grace_until)}: {label_en} "
            "is unavailable. Renew the subscription.",
            {"grace_until": state.grace_until.isoformat() if state.grace_until else None},
        )
    if action == "users.add":
        limit = (
            plan.user_limit
            if plan.extra_user_price is None
            else max(state.seats, plan.users_included)
        )
        if limit is not None and state.active_users >= limit:
            fitting = [p for p in version.plans_fitting(state.active_users + 1)
                       if p.code != plan.code]  # fmt: skip
            if plan.extra_user_price is not None:
                advice_ru, advice_en, suggested = "Докупите пользователей.", "Buy more seats.", None
            elif fitting:
                target = fitting[0]
                advice_ru = f"Перейдите на тариф «{target.name.ru}»."
                advice_en = f"Upgrade to {target.name.en}."
                suggested = target.code
            else:
                advice_ru, advice_en, suggested = (
                    "Заблокируйте неактивных пользователей.",
                    "Block inactive users.",
                    None,
                )
            return Decision(
                action,
                False,
                "user_limit",
                f"На тарифе «{plan.name.ru}» не больше {limit} пользователей, активных уже "
                f"{state.active_users}. {advice_ru}",
                f"Plan {plan.name.en} allows at most {limit} users and {state.active_users} "
                f"are active. {advice_en}",
                {"limit": limit, "active_users": state.active_users, "suggested_plan": suggested},
            )
    if action == "disk.write" and plan.disk_gb is not None:
        limit_mb = plan.disk_gb * 1024
        if state.disk_used_mb >= limit_mb:
            fitting_disk = sorted(
                (p for p in version.plans.values() if (p.disk_gb or 0) > plan.disk_gb),
                key=lambda p: p.monthly_price,
            )
            advice_ru = (
                f"Перейдите на тариф «{fitting_disk[0].name.ru}»."
                if fitting_disk
                else "Освободите место."
            )
            advice_en = (
                f"Upgrade to {fitting_disk[0].name.en}." if fitting_disk else "Free some space."
            )
            return Decision(
                action,
                False,
                "disk_full",
                f"Диск заполнен: {plan.disk_gb} ГБ на тарифе «{plan.name.ru}». {advice_ru}",
                f"The disk is full: {plan.disk_gb} GB on plan {plan.name.en}. {advice_en}",
                {"disk_gb": plan.disk_gb, "disk_used_mb": state.disk_used_mb},
            )
    if because is not None:
        reason, ru, en, extra = because
        return Decision(action, True, reason, ru, en, extra)
    if status is Status.GRACE:
        return Decision(
            action,
            True,
            "grace_allowed",
            f"Разрешено в льготном периоде до {_d(state.grace_until)}. Продлите подписку.",
            f"Allowed during the grace period until {_d(state.grace_until)}. Renew soon.",
            {"grace_until": state.grace_until.isoformat() if state.grace_until else None},
        )
    return Decision(
        action,
        True,
        "allowed",
        f"Разрешено: тариф «{plan.name.ru}», оплачен по {_d(state.paid_through)}.",
        f"Allowed: plan {plan.name.en}, paid through {_d(state.paid_through)}.",
        {
            "plan": plan.code,
            "paid_through": state.paid_through.isoformat() if state.paid_through else None,
        },
    )


def _under_rule(state: LicenseState) -> bool:
    rule = state.version.marketplace if state.version is not None else None
    if rule is None or state.edition not in rule.editions:
        return False
    return state.rule_from is None or state.today >= state.rule_from


def _rule_ahead(state: LicenseState) -> bool:
    """A migration plan switches the rule on for this account later (or never)."""
    rule = state.version.marketplace if state.version is not None else None
    if rule is None or state.edition not in rule.editions:
        return False
    return state.rule_from is not None and state.today < state.rule_from


def _outside_rule(state: LicenseState) -> bool:
    """The catalog version has a marketplace rule, but not for the account's edition (the
    rule is cloud-only): apps, the REST API and webhooks need no subscription there."""
    rule = state.version.marketplace if state.version is not None else None
    return rule is not None and state.edition not in rule.editions


EDITION_WORDS: dict[str, tuple[str, str]] = {
    "cloud": ("в облачной версии", "in the cloud edition"),
    "on_premise": ("в коробочной версии", "in the on-premise edition"),
}


def _outside_the_rule(state: LicenseState, action: str) -> tuple[str, str, str, dict[str, Any]]:
    assert state.version is not None and state.version.marketplace is not None
    rule = state.version.marketplace
    offer = state.version.add_ons.get(rule.offer)
    name_ru = offer.name.ru if offer else rule.offer
    name_en = offer.name.en if offer else rule.offer
    label_ru, label_en = ACTION_LABELS[action].ru, ACTION_LABELS[action].en
    where_ru, where_en = EDITION_WORDS.get(
        state.edition, (f"в редакции {state.edition}", f"in the {state.edition} edition")
    )
    return (
        "outside_marketplace_rule",
        f"Разрешено: {where_ru} {label_ru} не требует подписки «{name_ru}».",
        f"Allowed: {where_en}, {label_en} does not need the {name_en} subscription.",
        {"edition": state.edition, "add_on": rule.offer},
    )


def _before_the_rule(state: LicenseState, action: str) -> tuple[str, str, str, dict[str, Any]]:
    assert state.version is not None and state.version.marketplace is not None
    rule = state.version.marketplace
    offer = state.version.add_ons.get(rule.offer)
    name_ru = offer.name.ru if offer else rule.offer
    name_en = offer.name.en if offer else rule.offer
    label_ru, label_en = ACTION_LABELS[action].ru, ACTION_LABELS[action].en
    starts = state.rule_from if state.rule_from != date.max else None
    ru = f"Разрешено: {label_ru} пока не требует подписки «{name_ru}»"
    en = f"Allowed: {label_en} does not need the {name_en} subscription"
    if starts is not None:
        ru += f"; она понадобится с {_d(starts)}."
        en += f" until {_d(starts)}."
    else:
        ru += "."
        en += "."
    details = {"add_on": rule.offer, "rule_from": starts.isoformat() if starts else None}
    return ("before_marketplace_rule", ru, en, details)


def _without_marketplace(
    state: LicenseState, action: str, app: AppAccess | None
) -> tuple[str, str, str, dict[str, Any]] | None:
    """What an account without the Marketplace may still do (None: nothing here)."""
    assert state.plan is not None
    if app is None or action not in ("apps.use", "apps.install"):
        return None
    if app.kind == "migrator":
        return (
            "migrator_app",
            f"Приложение «{app.name}» для переноса данных доступно всем.",
            f"App {app.name} moves data in: it is available to everyone.",
            {"app": app.code},
        )
    if app.kind == "vendor_basic" and state.plan.code in app.free_on_plans:
        return (
            "included_in_plan",
            f"Приложение «{app.name}» входит в тариф «{state.plan.name.ru}».",
            f"App {app.name} is included in plan {state.plan.name.en}.",
            {"app": app.code, "plan": state.plan.code},
        )
    if (
        action == "apps.use"
        and state.transition_until is not None
        and state.rule_from is not None
        and app.installed_on is not None
        and app.installed_on < state.rule_from
        and state.today <= state.transition_until
    ):
        until = _d(state.transition_until)
        return (
            "transition",
            f"Приложение «{app.name}» установлено до перехода и работает до {until}. "
            "Чтобы пользоваться им дальше, подключите Маркетплейс.",
            f"App {app.name} was installed before the change and works until {until}. "
            "Add the Marketplace to keep it.",
            {"app": app.code, "until": state.transition_until.isoformat()},
        )
    return None


def _marketplace_required(state: LicenseState, action: str, app: AppAccess | None) -> Decision:
    assert state.plan is not None and state.version is not None
    rule = state.version.marketplace
    assert rule is not None
    plan, offer = state.plan, state.version.add_ons.get(rule.offer)
    label_ru, label_en = ACTION_LABELS[action].ru, ACTION_LABELS[action].en
    what_ru = f"приложение «{app.name}»" if app is not None else label_ru
    what_en = f"app {app.name}" if app is not None else label_en
    details: dict[str, Any] = {"add_on": rule.offer, "app": app.code if app else None}
    price_ru = price_en = ""
    if offer is not None and plan.code in offer.prices:
        price = offer.prices[plan.code]
        details["monthly_price"] = str(price)
        price_ru = f" ({format_money(price, 'RUB', 'ru')} в месяц"
        price_en = f" ({format_money(price, 'RUB', 'en')} a month"
        if state.first_time_percent:
            percent = format_percent(state.first_time_percent, "ru")
            details["first_time_percent"] = str(state.first_time_percent)
            price_ru += f", −{percent} при первой покупке"
            price_en += f", {format_percent(state.first_time_percent, 'en')} off the first time"
        price_ru += ")"
        price_en += ")"
    trial_ru = trial_en = ""
    if state.trial_available and rule.trial_days:
        details["trial_days"] = rule.trial_days
        trial_ru = f" Можно попробовать бесплатно {rule.trial_days} дн."
        trial_en = f" A free {rule.trial_days}-day trial is available."
    name_ru = offer.name.ru if offer else rule.offer
    name_en = offer.name.en if offer else rule.offer
    return Decision(
        action,
        False,
        "marketplace_required",
        f"Без подписки «{name_ru}» {what_ru} недоступно: подключите её{price_ru}.{trial_ru}",
        f"Without the {name_en} subscription, {what_en} is unavailable: add it{price_en}."
        f"{trial_en}",
        details,
    )


def _missing_feature(state: LicenseState, action: str, feature: str) -> Decision:
    assert state.plan is not None and state.version is not None
    plan, version = state.plan, state.version
    label_ru, label_en = ACTION_LABELS[action].ru, ACTION_LABELS[action].en
    add_ons = [a for a in version.add_ons.values()
               if feature in a.features and plan.code in a.prices]  # fmt: skip
    plans = sorted(
        (p for p in version.plans.values() if feature in p.features), key=lambda p: p.monthly_price
    )
    if add_ons:
        buy = add_ons[0]
        advice_ru = f"Подключите подписку «{buy.name.ru}»."
        advice_en = f"Add the {buy.name.en} subscription."
        details: dict[str, Any] = {"feature": feature, "add_on": buy.code}
    elif plans:
        advice_ru = f"Перейдите на тариф «{plans[0].name.ru}»."
        advice_en = f"Upgrade to {plans[0].name.en}."
        details = {"feature": feature, "suggested_plan": plans[0].code}
    else:
        advice_ru, advice_en = "Эта возможность не продаётся.", "This feature is not sold."
        details = {"feature": feature}
    return Decision(
        action,
        False,
        "feature_not_included",
        f"Тариф «{plan.name.ru}» не включает {label_ru}. {advice_ru}",
        f"Plan {plan.name.en} does not include {label_en}. {advice_en}",
        details,
    )
