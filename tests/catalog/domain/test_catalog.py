"""Unit tests of podpiska.catalog.domain.catalog: values, look-ups and versions."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from podpiska.catalog.domain.catalog import (
    ACTIONS,
    Catalog,
    LifecycleSettings,
    Period,
    Plan,
    Promotion,
    SeatPolicy,
    UpgradePolicy,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.text import Text
from tests.factories import (
    PERIOD_MONTHS,
    PLAN_CODES,
    V1_FROM,
    V2_FROM,
    VAT_EXCLUDED_22,
    VAT_EXEMPT,
    VAT_INCLUDED_22,
    per_user_catalog,
    seed_catalog,
    seed_version,
)

D = Decimal


def _plan(**changes: object) -> Plan:
    base = Plan(code="p", name=Text("П", "P"), monthly_price=D(100), users_included=5)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --- Text --------------------------------------------------------------------------------


def test_text_get() -> None:
    text = Text("Стандартный", "Standard")
    assert text.get() == "Стандартный"
    assert text.get("ru") == "Стандартный"
    assert text.get("en") == "Standard"
    assert text.get("de") == "Standard"


# --- Plan.user_limit ---------------------------------------------------------------------


def test_user_limit_without_extra_users_is_the_maximum() -> None:
    assert _plan(max_users=5).user_limit == 5


def test_user_limit_without_extra_users_or_maximum_is_the_free_users() -> None:
    assert _plan().user_limit == 5


def test_user_limit_with_extra_users_is_the_maximum() -> None:
    assert _plan(extra_user_price=D(380), max_users=100).user_limit == 100


def test_user_limit_with_extra_users_and_no_maximum_is_unlimited() -> None:
    assert _plan(extra_user_price=D(380)).user_limit is None


def test_seed_plans() -> None:
    version = seed_catalog().version_at(V1_FROM)
    assert tuple(version.plans) == PLAN_CODES
    basic = version.plan("basic")
    assert basic.monthly_price == D(1990)
    assert (basic.users_included, basic.max_users, basic.disk_gb) == (5, 5, 24)
    assert basic.user_limit == 5
    assert version.plan("standard").monthly_price == D(3990)
    assert version.plan("standard").user_limit == 50
    assert version.plan("professional").monthly_price == D(7990)
    assert version.plan("professional").user_limit == 100
    assert version.plan("enterprise").monthly_price == D(13990)
    assert version.plan("enterprise").user_limit == 250


# --- Promotion ---------------------------------------------------------------------------


def test_promotion_applies_to_plans_and_add_ons() -> None:
    promo = Promotion(
        code="X",
        name=Text("X", "X"),
        percent=D(10),
        plans=frozenset({"standard"}),
        add_ons=frozenset({"marketplace"}),
    )
    assert promo.applies_to("standard")
    assert promo.applies_to("marketplace")
    assert not promo.applies_to("basic")
    assert not promo.applies_to("market_plus")


def test_promotion_window_is_inclusive() -> None:
    promo = seed_catalog().version_at(V1_FROM).promotions["MARKETPLACE50"]
    assert not promo.active_on(date(2025, 12, 31))
    assert promo.active_on(date(2026, 1, 1))
    assert promo.active_on(date(2026, 6, 15))
    assert promo.active_on(date(2026, 12, 31))
    assert not promo.active_on(date(2027, 1, 1))


def test_promotion_open_ends() -> None:
    version = seed_catalog().version_at(V1_FROM)
    welcome = version.promotions["WELCOME10"]  # from 2026-02-01, no end
    assert not welcome.active_on(date(2026, 1, 31))
    assert welcome.active_on(date(2099, 1, 1))
    apps = version.promotions["APPS20"]  # no start, until 2026-06-30
    assert apps.active_on(date(2000, 1, 1))
    assert apps.active_on(date(2026, 6, 30))
    assert not apps.active_on(date(2026, 7, 1))
    always = Promotion(code="A", name=Text("A", "A"), percent=D(1))
    assert always.active_on(date(1970, 1, 1))
    assert always.active_on(date(2999, 12, 31))


@pytest.mark.parametrize(
    ("percent", "factor"),
    [("50", "0.5"), ("10", "0.9"), ("0", "1"), ("100", "0"), ("12.5", "0.875")],
)
def test_promotion_factor(percent: str, factor: str) -> None:
    promo = Promotion(code="X", name=Text("X", "X"), percent=D(percent))
    assert promo.factor == D(factor)


def test_promotion_defaults() -> None:
    promo = Promotion(code="X", name=Text("X", "X"), percent=D(5))
    assert promo.once_per_account is True
    assert promo.never_bought == frozenset()


# --- CatalogVersion ----------------------------------------------------------------------


def test_period_lookup() -> None:
    version = seed_version()
    assert [version.period(m).months for m in PERIOD_MONTHS] == [1, 3, 6, 12, 24]
    assert version.period(1).discount_percent == 0
    assert version.period(3).discount_percent == 0
    assert version.period(6).discount_percent == D(5)
    assert version.period(12).discount_percent == D(10)
    assert version.period(24).discount_percent == D(15)


@pytest.mark.parametrize("months", [2, 5, 36, 100])
def test_period_not_offered(months: int) -> None:
    with pytest.raises(DomainError) as info:
        seed_version().period(months)
    assert info.value.code == "period_not_offered"
    assert info.value.details["allowed"] == [1, 3, 6, 12, 24]
    assert info.value.details["months"] == months
    for lang in ("ru", "en"):
        message = info.value.message(lang)
        assert str(months) in message
        assert "1, 3, 6, 12, 24" in message


@pytest.mark.parametrize("months", [0, -1, -12])
def test_period_of_zero_or_negative_months(months: int) -> None:
    with pytest.raises(DomainError) as info:
        seed_version().period(months)
    assert info.value.code == "invalid_months"
    assert info.value.details["allowed"] == [1, 3, 6, 12, 24]
    for lang in ("ru", "en"):
        assert str(months) in info.value.message(lang)
        assert "1, 3, 6, 12, 24" in info.value.message(lang)


def test_plan_lookup_and_unknown_plan() -> None:
    version = seed_version()
    assert version.plan("standard").name == Text("Стандартный", "Standard")
    with pytest.raises(DomainError) as info:
        version.plan("gold")
    err = info.value
    assert err.code == "unknown_plan"
    assert err.details["allowed"] == list(PLAN_CODES)
    assert err.message("ru") == (
        "Тариф «gold» не найден. Доступны: basic, standard, professional, enterprise."
    )
    assert err.message("en") == (
        "Unknown plan 'gold'. Allowed: basic, standard, professional, enterprise."
    )


def test_add_on_lookup_and_unknown_add_on() -> None:
    version = seed_version()
    assert version.add_on("marketplace").prices["basic"] == D(990)
    with pytest.raises(DomainError) as info:
        version.add_on("telephony")
    err = info.value
    assert err.code == "unknown_add_on"
    for lang in ("ru", "en"):
        assert "telephony" in err.message(lang)
        assert "marketplace, market_plus, rest_api, webhooks" in err.message(lang)


def test_vat_for_product_or_catalog() -> None:
    version = seed_version()
    assert version.vat == VAT_INCLUDED_22
    assert version.vat_for(version.plan("basic")) == VAT_INCLUDED_22
    assert version.vat_for(version.add_on("marketplace")) == VAT_INCLUDED_22
    assert version.vat_for(version.add_on("rest_api")) == VAT_EXEMPT
    assert version.vat_for(version.add_on("webhooks")) == VAT_EXCLUDED_22
    own = dataclasses.replace(version.plan("basic"), vat=VAT_EXEMPT)
    assert version.vat_for(own) == VAT_EXEMPT


def test_plans_fitting_cheapest_first() -> None:
    version = seed_version()
    assert [p.code for p in version.plans_fitting(1)] == list(PLAN_CODES)
    assert [p.code for p in version.plans_fitting(5)] == list(PLAN_CODES)
    assert [p.code for p in version.plans_fitting(6)] == [
        "standard",
        "professional",
        "enterprise",
    ]
    assert [p.code for p in version.plans_fitting(51)] == ["professional", "enterprise"]
    assert [p.code for p in version.plans_fitting(250)] == ["enterprise"]
    assert version.plans_fitting(251) == []


def test_plans_fitting_sorts_by_price_not_by_order() -> None:
    version = seed_version()
    plans = dict(reversed(list(version.plans.items())))
    shuffled = dataclasses.replace(version, plans=plans)
    assert [p.code for p in shuffled.plans_fitting(1)] == list(PLAN_CODES)


def test_plans_fitting_counts_unlimited_plans() -> None:
    version = per_user_catalog().version_at(V1_FROM)
    assert [p.code for p in version.plans_fitting(100)] == ["start", "business"]
    assert [p.code for p in version.plans_fitting(101)] == ["business"]
    assert [p.code for p in version.plans_fitting(100_000)] == ["business"]


def test_version_defaults() -> None:
    version = seed_version()
    assert version.lifecycle == LifecycleSettings()
    assert version.lifecycle.reminder_days == (30, 7, 0)
    assert version.seat_policy is SeatPolicy.PRORATE
    assert version.upgrade_policy is UpgradePolicy.PRORATE


def test_period_default_discount() -> None:
    assert Period(1).discount_percent == 0


def test_actions_are_unique() -> None:
    assert len(set(ACTIONS)) == len(ACTIONS)
    assert "billing.pay" in ACTIONS


# --- Catalog and versions ----------------------------------------------------------------


def test_catalog_sorts_versions_by_date() -> None:
    catalog = seed_catalog()  # given newest first
    assert [v.version for v in catalog.versions] == ["2026-01", "2027-01"]
    assert [v.effective_from for v in catalog.versions] == [V1_FROM, V2_FROM]


def test_catalog_needs_a_version() -> None:
    with pytest.raises(ValueError, match="at least one version"):
        Catalog(code="c", name=Text("К", "C"), currency="RUB", timezone="UTC", versions=())


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2026, 1, 1), "2026-01"),  # the first day of version 1
        (date(2026, 7, 15), "2026-01"),
        (date(2026, 12, 31), "2026-01"),  # the last day before version 2
        (date(2027, 1, 1), "2027-01"),  # version 2 starts on its own day
        (date(2030, 5, 5), "2027-01"),
    ],
)
def test_version_at(at: date, expected: str) -> None:
    assert seed_catalog().version_at(at).version == expected


def test_version_at_uses_the_version_prices() -> None:
    catalog = seed_catalog()
    assert catalog.version_at(date(2026, 12, 31)).plan("standard").monthly_price == D(3990)
    assert catalog.version_at(date(2027, 1, 1)).plan("standard").monthly_price == D(4390)


def test_version_at_before_the_first_version() -> None:
    with pytest.raises(DomainError) as info:
        seed_catalog().version_at(date(2025, 12, 31))
    err = info.value
    assert err.code == "no_catalog_version"
    assert dict(err.details) == {"at": "2025-12-31", "first": "2026-01-01"}
    for lang in ("ru", "en"):
        assert "2025-12-31" in err.message(lang)
        assert "2026-01-01" in err.message(lang)


def test_version_by_name() -> None:
    catalog = seed_catalog()
    assert catalog.version("2027-01").effective_from == V2_FROM
    with pytest.raises(KeyError):
        catalog.version("1999-01")


def test_three_versions_pick_the_latest_started() -> None:
    middle = seed_version("2026-07", date(2026, 7, 1))
    catalog = dataclasses.replace(seed_catalog(), versions=(*seed_catalog().versions, middle))
    assert [v.version for v in catalog.versions] == ["2026-01", "2026-07", "2027-01"]
    assert catalog.version_at(date(2026, 6, 30)).version == "2026-01"
    assert catalog.version_at(date(2026, 7, 1)).version == "2026-07"
    assert catalog.version_at(date(2027, 1, 1)).version == "2027-01"


def test_catalog_values_are_frozen() -> None:
    catalog = seed_catalog()
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.code = "other"  # type: ignore[misc]
