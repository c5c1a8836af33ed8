"""Entitlements as a pure function: `check(LicenseState, action)` → `Decision`, with the
license states built by hand from the shipped crm-shop catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from podpiska.catalog.domain.catalog import (
    ACTIONS,
    GRACE_READ_ONLY,
    CatalogVersion,
    LifecycleSettings,
)
from podpiska.catalog.loading import load_catalog
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.entitlements.domain import (
    BILLING_ACTIONS,
    MARKETPLACE_ACTIONS,
    AppAccess,
    LicenseState,
    check,
)

CRM_SHOP = Path(__file__).resolve().parents[2] / "catalogs" / "crm-shop.yaml"
TODAY = date(2027, 1, 10)


@pytest.fixture(scope="module")
def version() -> CatalogVersion:
    return load_catalog(CRM_SHOP).version("2026.1")


def state(
    version: CatalogVersion,
    status: Status | None = Status.ACTIVE,
    *,
    plan: str = "basic",
    add_ons: frozenset[str] = frozenset(),
    active_users: int = 1,
    disk_used_mb: int = 0,
) -> LicenseState:
    if status is None:
        return LicenseState(today=TODAY, status=None)
    return LicenseState(
        today=TODAY,
        status=status,
        version=version,
        plan=version.plans[plan],
        add_ons=add_ons,
        seats=version.plans[plan].users_included,
        active_users=active_users,
        disk_used_mb=disk_used_mb,
        paid_through=date(2027, 1, 12),
        grace_until=date(2027, 2, 12),
    )


def test_no_subscription_is_not_paid(version: CatalogVersion) -> None:
    decision = check(state(version, None), "crm.read")
    assert (decision.allowed, decision.reason) == (False, "not_paid")
    assert decision.message_ru == (
        "У портала нет оплаченной подписки: чтение данных CRM недоступно. Оплатите подписку."
    )


def test_pending_is_not_paid(version: CatalogVersion) -> None:
    decision = check(state(version, Status.PENDING), "crm.create_deal")
    assert (decision.allowed, decision.reason) == (False, "not_paid")


def test_active_basic_may_create_deals(version: CatalogVersion) -> None:
    decision = check(state(version), "crm.create_deal")
    assert (decision.allowed, decision.reason) == (True, "allowed")
    assert decision.details == {"plan": "basic", "paid_through": "2027-01-12"}
    assert decision.message_ru == "Разрешено: тариф «Базовый», оплачен по 12.01.2027."


def test_rest_api_on_basic_needs_the_marketplace(version: CatalogVersion) -> None:
    decision = check(state(version), "rest_api.call")
    assert (decision.allowed, decision.reason) == (False, "marketplace_required")
    assert decision.details == {"add_on": "marketplace", "app": None, "monthly_price": "490.00"}
    assert decision.message_ru == (
        "Без подписки «Маркетплейс» обращение к REST API недоступно: подключите её "
        "(490,00 ₽ в месяц)."
    )
    assert "Marketplace" in decision.message_en


@pytest.mark.parametrize("add_on", ["marketplace", "market_plus"])
def test_rest_api_with_an_add_on_is_allowed(version: CatalogVersion, add_on: str) -> None:
    decision = check(state(version, add_ons=frozenset({add_on})), "rest_api.call")
    assert (decision.allowed, decision.reason) == (True, "allowed")


def test_grace_refuses_creating_deals_with_the_exact_message(version: CatalogVersion) -> None:
    decision = check(state(version, Status.GRACE), "crm.create_deal")
    assert (decision.allowed, decision.reason) == (False, "grace_restricted")
    assert decision.message("ru") == (
        "Портал в льготном периоде до 12.02.2027: создание сделок недоступно. Продлите подписку."
    )
    assert decision.details == {"grace_until": "2027-02-12"}


def test_grace_allows_reading(version: CatalogVersion) -> None:
    decision = check(state(version, Status.GRACE), "crm.read")
    assert (decision.allowed, decision.reason) == (True, "grace_allowed")
    assert "12.02.2027" in decision.message_ru


def test_grace_restricts_what_the_catalog_says(version: CatalogVersion) -> None:
    grace = state(version, Status.GRACE, add_ons=frozenset({"marketplace"}))
    refused = {a for a in ACTIONS if not check(grace, a).allowed}
    assert refused == set(version.lifecycle.grace_restricts)


def test_grace_is_read_only(version: CatalogVersion) -> None:
    """Seed 001: in grace the portal stays readable and billing works; new deals and
    contacts, changes, integrations (REST API, webhooks, apps), users and the disk are off,
    even with the Marketplace held."""
    grace = state(version, Status.GRACE, add_ons=frozenset({"marketplace"}))
    allowed = {a for a in ACTIONS if check(grace, a).allowed}
    assert allowed == {"crm.read", "billing.read", "billing.pay"}
    for action in ("crm.update", "disk.write", "users.add", "apps.use", "rest_api.call"):
        decision = check(grace, action)
        assert (decision.allowed, decision.reason) == (False, "grace_restricted"), action
        assert decision.details == {"grace_until": "2027-02-12"}
        assert decision.message_ru.startswith("Портал в льготном периоде до 12.02.2027: ")
        assert decision.message_en.endswith("is unavailable. Renew the subscription.")
    assert check(grace, "disk.write").message_ru == (
        "Портал в льготном периоде до 12.02.2027: сохранение файлов на диск недоступно. "
        "Продлите подписку."
    )


@pytest.mark.parametrize(
    "app",
    [
        AppAccess("delivery", "Доставка СДЭК", "regular"),
        AppAccess("import-amo", "Перенос из amoCRM", "migrator"),
        AppAccess("telephony", "Телефония", "vendor_basic", frozenset({"basic"})),
    ],
)
def test_in_grace_no_app_works_while_the_rest_api_is_off(
    version: CatalogVersion, app: AppAccess
) -> None:
    """An app acts through the REST API and webhooks: it cannot keep working in grace
    while `rest_api.call` is refused (an app free without the Marketplace neither)."""
    for add_ons in (frozenset(), frozenset({"marketplace"})):
        grace = state(version, Status.GRACE, add_ons=add_ons)
        assert check(grace, "apps.use", app).allowed is False
        assert check(grace, "apps.install", app).allowed is False
        assert check(grace, "rest_api.call").allowed is False
    with_market = state(version, Status.GRACE, add_ons=frozenset({"marketplace"}))
    assert check(with_market, "apps.use", app).reason == "grace_restricted"


def test_a_catalog_cannot_make_grace_writable() -> None:
    """Grace is read-only whoever builds the settings: an empty list restricts every write
    and integration, and reading or billing cannot be restricted."""
    assert LifecycleSettings(grace_restricts=frozenset()).grace_restricts == GRACE_READ_ONLY
    assert "disk.write" in LifecycleSettings().grace_restricts
    with pytest.raises(ValueError, match=r"crm\.read"):
        LifecycleSettings(grace_restricts=frozenset({"crm.read"}))


@pytest.mark.parametrize("action", sorted(MARKETPLACE_ACTIONS))
def test_on_premise_is_never_told_to_buy_the_marketplace(
    version: CatalogVersion, action: str
) -> None:
    """Seed 000: the marketplace rule is cloud-only. An on-premise account without the
    Marketplace may use apps, the REST API and webhooks, and no answer suggests buying it."""
    on_premise = replace(state(version, plan="standard"), edition="on_premise")
    delivery = AppAccess("delivery", "Доставка СДЭК", "regular")
    decision = check(on_premise, action, delivery if action.startswith("apps.") else None)
    assert (decision.allowed, decision.reason) == (True, "outside_marketplace_rule")
    assert decision.details == {"edition": "on_premise", "add_on": "marketplace"}
    assert "не требует подписки «Маркетплейс»" in decision.message_ru
    assert "в коробочной версии" in decision.message_ru
    assert "does not need the Marketplace subscription" in decision.message_en
    assert "подключите" not in decision.message_ru.lower()
    # The same account in the cloud is told to buy it; in grace it is read-only either way.
    cloud = check(state(version, plan="standard"), action, delivery if "apps" in action else None)
    assert cloud.reason == "marketplace_required"
    grace = replace(on_premise, status=Status.GRACE)
    refused = check(grace, action, delivery if action.startswith("apps.") else None)
    assert (refused.allowed, refused.reason) == (False, "grace_restricted")
    assert "Маркетплейс" not in refused.message_ru


@pytest.mark.parametrize("action", ACTIONS)
def test_suspended_leaves_only_billing(version: CatalogVersion, action: str) -> None:
    decision = check(state(version, Status.SUSPENDED, add_ons=frozenset({"marketplace"})), action)
    if action in BILLING_ACTIONS:
        assert (decision.allowed, decision.reason) == (True, "billing_always_allowed")
    else:
        assert (decision.allowed, decision.reason) == (False, "suspended")
        assert decision.details == {"paid_through": "2027-01-12"}


def test_cancelled_refuses_everything_but_billing(version: CatalogVersion) -> None:
    cancelled = state(version, Status.CANCELLED)
    assert check(cancelled, "crm.read").reason == "cancelled"
    assert check(cancelled, "billing.pay").allowed is True


def test_the_sixth_user_on_basic_is_refused_with_standard_suggested(
    version: CatalogVersion,
) -> None:
    decision = check(state(version, active_users=5), "users.add")
    assert (decision.allowed, decision.reason) == (False, "user_limit")
    assert decision.details == {"limit": 5, "active_users": 5, "suggested_plan": "standard"}
    assert "«Стандартный»" in decision.message_ru
    assert check(state(version, active_users=4), "users.add").allowed is True


def test_the_last_plan_has_no_plan_to_suggest(version: CatalogVersion) -> None:
    decision = check(state(version, plan="enterprise", active_users=250), "users.add")
    assert decision.reason == "user_limit"
    assert decision.details["suggested_plan"] is None


def test_a_full_disk_refuses_writing_and_suggests_a_bigger_plan(version: CatalogVersion) -> None:
    full = 24 * 1024  # basic: 24 GB
    decision = check(state(version, disk_used_mb=full), "disk.write")
    assert (decision.allowed, decision.reason) == (False, "disk_full")
    assert decision.details == {"disk_gb": 24, "disk_used_mb": full}
    assert "«Стандартный»" in decision.message_ru
    assert check(state(version, disk_used_mb=full - 1), "disk.write").allowed is True


def test_an_unknown_action_is_an_error(version: CatalogVersion) -> None:
    with pytest.raises(DomainError) as caught:
        check(state(version), "crm.delete_everything")
    assert caught.value.code == "unknown_action"
    assert caught.value.details["allowed"] == list(ACTIONS)


STATES: list[Status | None] = [None, *Status]


@pytest.mark.parametrize("status", STATES, ids=[str(s) for s in STATES])
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_an_answer_in_every_state(
    version: CatalogVersion, action: str, status: Status | None
) -> None:
    for limits in ({}, {"active_users": 5, "disk_used_mb": 24 * 1024}):
        base = state(version, status)
        if status is not None:
            base = replace(base, **limits)  # type: ignore[arg-type]
        decision = check(base, action)
        assert decision.action == action
        assert decision.reason
        assert decision.message_ru.strip() and decision.message_en.strip()
        assert decision.message("ru") == decision.message_ru
        assert decision.message("en") == decision.message_en
        if action in BILLING_ACTIONS:
            assert decision.allowed is True
