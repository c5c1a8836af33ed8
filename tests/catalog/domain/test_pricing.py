"""Unit tests of podpiska.catalog.domain.pricing: worked quotes and every refusal.

Every quote checked here goes through `check_quote`: its lines sum to its total and
subtotal − discount == total. Amounts in comments are computed by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from podpiska.catalog.domain.catalog import Catalog, priced_under
from podpiska.catalog.domain.pricing import (
    Discount,
    DiscountKind,
    LineKind,
    Quote,
    QuoteLine,
    QuoteRequest,
    quote,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, Vat, VatMode
from podpiska.core.domain.text import Text
from tests.factories import (
    AT,
    VAT_EXCLUDED_22,
    VAT_EXEMPT,
    VAT_INCLUDED_22,
    check_quote,
    per_user_catalog,
    seed_catalog,
)

D = Decimal


@pytest.fixture
def catalog() -> Catalog:
    return seed_catalog()


@pytest.fixture
def per_user() -> Catalog:
    return per_user_catalog()


def priced(catalog: Catalog, at: date = AT, **request: object) -> Quote:
    q = quote(catalog, QuoteRequest(**request), at)  # type: ignore[arg-type]
    check_quote(q)
    return q


def refused(catalog: Catalog, at: date = AT, **request: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        quote(catalog, QuoteRequest(**request), at)  # type: ignore[arg-type]
    return info.value


def assert_says(err: DomainError, code: str, *values: object) -> None:
    """The error has `code`, and both its sentences are non-empty and name `values`."""
    assert err.code == code
    for lang in ("ru", "en"):
        message = err.message(lang)
        assert message
        for value in values:
            assert str(value) in message, (lang, value, message)


# --- worked examples ---------------------------------------------------------------------


def test_standard_12_months(catalog: Catalog) -> None:
    # 3 990 × 12 = 47 880; − 10 % for 12 months = 43 092.00.
    # VAT 22 % included: 43 092 × 22 / 122 = 7 770.6885… → 7 770.69.
    q = priced(catalog, plan="standard", months=12)
    assert q.total == D("43092.00")
    assert q.subtotal == D("47880.00")
    assert q.discount == D("4788.00")
    assert q.vat_amount == D("7770.69")
    assert q.vat == VAT_INCLUDED_22
    assert q.payable == D("43092.00")
    assert q.monthly_equivalent == D("3591.00")  # 43 092 / 12
    assert (q.catalog, q.catalog_version, q.currency, q.at) == ("cloud", "2026-01", "RUB", AT)
    assert (q.plan, q.months, q.users) == ("standard", 12, 50)

    [line] = q.lines
    assert line.kind is LineKind.PLAN
    assert line.code == "standard"
    assert (line.quantity, line.months, line.unit_price) == (1, 12, D(3990))
    assert line.discounts == (Discount(DiscountKind.TERM, D(10)),)
    assert line.list_amount == D("47880.00")
    assert line.amount == D("43092.00")
    assert line.discount_amount == D("4788.00")
    assert line.discount_percent == D(10)
    assert line.vat == VAT_INCLUDED_22
    assert line.explain("RUB") == "3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽"
    assert line.explain("RUB", "ru") == "3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽"
    assert line.explain("RUB", "en") == "3,990.00 ₽ × 12 mo. − 10% for 12 months = 43,092.00 ₽"
    assert line.description() == "Тариф «Стандартный»"
    assert line.description("en") == "Plan “Standard”"

    [share] = q.vat_shares
    assert (share.vat, share.base, share.amount) == (VAT_INCLUDED_22, q.total, D("7770.69"))
    assert share.base - share.amount == D("35321.31")  # the net of VAT


def test_basic_1_month_has_no_discount(catalog: Catalog) -> None:
    # 1 990 × 1; VAT 1 990 × 22 / 122 = 358.852… → 358.85.
    q = priced(catalog, plan="basic", months=1)
    assert q.total == q.subtotal == D("1990.00")
    assert q.discount == ZERO
    assert q.vat_amount == D("358.85")
    assert q.users == 5
    [line] = q.lines
    assert line.discounts == ()
    assert line.discount_percent == 0
    assert line.explain("RUB") == "1 990,00 ₽ × 1 мес. = 1 990,00 ₽"
    assert line.explain("RUB", "en") == "1,990.00 ₽ × 1 mo. = 1,990.00 ₽"


def test_standard_3_months_has_no_term_discount(catalog: Catalog) -> None:
    # 3 990 × 3 = 11 970; the 3-month period has 0 %, so no discount is listed.
    q = priced(catalog, plan="standard", months=3)
    assert q.total == D("11970.00")
    assert q.lines[0].discounts == ()
    assert q.lines[0].explain("RUB") == "3 990,00 ₽ × 3 мес. = 11 970,00 ₽"


@pytest.mark.parametrize(
    ("plan", "months", "total"),
    [
        ("basic", 1, "1990.00"),
        ("basic", 3, "5970.00"),  # 1 990 × 3
        ("basic", 6, "11343.00"),  # 1 990 × 6 × 0.95
        ("basic", 12, "21492.00"),  # 1 990 × 12 × 0.90
        ("basic", 24, "40596.00"),  # 1 990 × 24 × 0.85
        ("standard", 6, "22743.00"),  # 3 990 × 6 × 0.95
        ("standard", 24, "81396.00"),  # 3 990 × 24 × 0.85
        ("professional", 1, "7990.00"),
        ("professional", 12, "86292.00"),  # 7 990 × 12 × 0.90
        ("enterprise", 1, "13990.00"),
        ("enterprise", 24, "285396.00"),  # 13 990 × 24 × 0.85
    ],
)
def test_plan_and_period_table(catalog: Catalog, plan: str, months: int, total: str) -> None:
    q = priced(catalog, plan=plan, months=months)
    assert q.total == D(total)


def test_enterprise_24_months_explained(catalog: Catalog) -> None:
    q = priced(catalog, plan="enterprise", months=24)
    assert q.lines[0].explain("RUB") == ("13 990,00 ₽ × 24 мес. − 15 % за 24 мес. = 285 396,00 ₽")


def test_marketplace_at_half_price(catalog: Catalog) -> None:
    # Plan: 3 990 × 6 = 23 940, − 5 % = 22 743.00.
    # Marketplace (example price 1 990 on standard): 1 990 × 6 = 11 940, − 5 % − 50 % = 5 671.50.
    # Total 28 414.50; list 35 880.00; discount 7 465.50.
    # VAT 28 414.50 × 22 / 122 = 5 123.926… → 5 123.93.
    q = priced(
        catalog,
        plan="standard",
        months=6,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50",),
    )
    assert [line.code for line in q.lines] == ["standard", "marketplace"]
    plan_line, market = q.lines
    assert plan_line.amount == D("22743.00")
    assert plan_line.discounts == (Discount(DiscountKind.TERM, D(5)),)
    assert market.kind is LineKind.ADD_ON
    assert market.amount == D("5671.50")
    assert market.discounts == (
        Discount(DiscountKind.TERM, D(5)),
        Discount(DiscountKind.PROMOTION, D(50), "MARKETPLACE50"),
    )
    assert market.discount_percent == D("52.5")  # 1 − 0.95 × 0.5
    assert market.explain("RUB") == (
        "1 990,00 ₽ × 6 мес. − 5 % за 6 мес. − 50 % по акции MARKETPLACE50 = 5 671,50 ₽"
    )
    assert market.explain("RUB", "en") == (
        "1,990.00 ₽ × 6 mo. − 5% for 6 months − 50% promotion MARKETPLACE50 = 5,671.50 ₽"
    )
    assert market.description() == "Подписка «Маркетплейс»"
    assert market.description("en") == "Add-on “Marketplace”"
    assert q.total == D("28414.50")
    assert q.subtotal == D("35880.00")
    assert q.discount == D("7465.50")
    assert q.vat_amount == D("5123.93")


def test_two_promotions_on_different_products(catalog: Catalog) -> None:
    # Plan: 7 990 × 6 = 47 940, − 5 % − 10 % (WELCOME10) = 40 988.70.
    # Marketplace (example 2 990 on professional): 2 990 × 6 = 17 940, − 5 % − 20 % = 13 634.40.
    # Total 54 623.10; VAT 54 623.10 × 22 / 122 = 9 850.067… → 9 850.07.
    q = priced(
        catalog,
        plan="professional",
        months=6,
        add_ons=("marketplace",),
        promotions=("WELCOME10", "APPS20"),
    )
    plan_line, market = q.lines
    assert plan_line.amount == D("40988.70")
    assert plan_line.explain("RUB") == (
        "7 990,00 ₽ × 6 мес. − 5 % за 6 мес. − 10 % по акции WELCOME10 = 40 988,70 ₽"
    )
    assert market.amount == D("13634.40")
    assert q.total == D("54623.10")
    assert q.subtotal == D("65880.00")
    assert q.discount == D("11256.90")
    assert q.vat_amount == D("9850.07")


def test_half_kopeck_rounds_up_and_exempt_vat_is_kept_apart(catalog: Catalog) -> None:
    # Plan: 1 990 × 6 × 0.95 = 11 343.00 (VAT included: 11 343 × 22 / 122 = 2 045.459… → 2 045.46).
    # REST API (example 299.65, VAT exempt): 299.65 × 6 = 1 797.90; × 0.95 = 1 708.005 → 1 708.01.
    # Total 13 051.01; list 11 940 + 1 797.90 = 13 737.90; discount 686.89.
    q = priced(catalog, plan="basic", months=6, add_ons=("rest_api",))
    plan_line, api = q.lines
    assert plan_line.amount == D("11343.00")
    assert api.list_amount == D("1797.90")
    assert api.amount == D("1708.01")
    assert api.vat == VAT_EXEMPT
    assert api.explain("RUB") == "299,65 ₽ × 6 мес. − 5 % за 6 мес. = 1 708,01 ₽"
    assert q.total == D("13051.01")
    assert q.subtotal == D("13737.90")
    assert q.discount == D("686.89")
    assert q.vat is None  # the lines mix VAT modes
    shares = {share.vat: share for share in q.vat_shares}
    assert shares[VAT_INCLUDED_22].base == D("11343.00")
    assert shares[VAT_INCLUDED_22].amount == D("2045.46")
    assert shares[VAT_EXEMPT].base == D("1708.01")
    assert shares[VAT_EXEMPT].amount == ZERO
    assert q.vat_amount == D("2045.46")
    assert q.payable == q.total
    assert q.monthly_equivalent == D("2175.17")  # 13 051.01 / 6 = 2 175.168…


def test_add_on_without_term_discount_and_vat_on_top(catalog: Catalog) -> None:
    # Plan: 1 990 × 12 × 0.90 = 21 492.00 (VAT included: 472 824 / 122 = 3 875.606… → 3 875.61).
    # Webhooks (example 500, no term discount, VAT 22 % on top): 500 × 12 = 6 000.00,
    # VAT 1 320.00. Total 27 492.00; the buyer pays 27 492 + 1 320 = 28 812.00.
    q = priced(catalog, plan="basic", months=12, add_ons=("webhooks",))
    plan_line, hooks = q.lines
    assert plan_line.amount == D("21492.00")
    assert hooks.discounts == ()
    assert hooks.amount == D("6000.00")
    assert hooks.explain("RUB") == "500,00 ₽ × 12 мес. = 6 000,00 ₽"
    assert q.total == D("27492.00")
    assert q.subtotal == D("29880.00")
    assert q.discount == D("2388.00")
    shares = {share.vat: share for share in q.vat_shares}
    assert shares[VAT_INCLUDED_22].amount == D("3875.61")
    assert shares[VAT_EXCLUDED_22].amount == D("1320.00")
    assert q.vat_amount == D("5195.61")
    assert q.payable == D("28812.00")
    assert q.vat is None


def test_a_usn_vendor_prices_every_line_exempt_at_the_catalogs_price(catalog: Catalog) -> None:
    """The tax system's rule (docs/documents.md, "Pricing under usn"): on usn every line of
    every version is "Без НДС", VAT 0, the amounts those of the catalog; osno changes
    nothing. A product with VAT on top costs its catalog price, nothing on top."""
    assert priced_under(catalog, "osno") is catalog
    usn = priced_under(catalog, "usn")
    requests: tuple[dict[str, object], ...] = (
        {"plan": "basic", "months": 6, "add_ons": ("rest_api",)},
        {"plan": "basic", "months": 12, "add_ons": ("webhooks",)},
        {"plan": "standard", "months": 12},
    )
    for request in requests:
        general, simplified = priced(catalog, AT, **request), priced(usn, AT, **request)
        assert [line.vat for line in simplified.lines] == [VAT_EXEMPT] * len(simplified.lines)
        assert [line.amount for line in simplified.lines] == [line.amount for line in general.lines]
        assert simplified.vat == VAT_EXEMPT
        assert (simplified.vat_amount, simplified.payable) == (ZERO, general.total)
        assert sum((line.amount for line in simplified.lines), ZERO) == simplified.total
    assert all(version.vat == VAT_EXEMPT for version in usn.versions)
    with pytest.raises(ValueError, match="eshn"):
        priced_under(catalog, "eshn")


def test_add_ons_keep_the_order_requested(catalog: Catalog) -> None:
    q = priced(
        catalog,
        plan="enterprise",
        months=1,
        add_ons=("market_plus", "marketplace"),
        bought_before=frozenset({"market_plus"}),
    )
    assert [line.code for line in q.lines] == ["enterprise", "market_plus", "marketplace"]
    # 13 990 + 5 990 + 4 990 (example add-on prices on enterprise)
    assert q.total == D("24970.00")


def test_fewer_users_than_included_costs_the_same(catalog: Catalog) -> None:
    q = priced(catalog, plan="basic", months=1, users=3)
    assert q.users == 3
    assert q.total == D("1990.00")
    assert len(q.lines) == 1
    assert priced(catalog, plan="basic", months=1, users=5).total == D("1990.00")


def test_single_promotion_reusable_when_not_once_per_account(catalog: Catalog) -> None:
    # APPS20 may be used again: 2 990 × 1 × 0.8 = 2 392.00 for Market Plus on standard.
    q = priced(
        catalog,
        plan="standard",
        months=1,
        add_ons=("market_plus",),
        promotions=("APPS20",),
        promotions_used=frozenset({"APPS20"}),
    )
    assert q.lines[1].amount == D("2392.00")
    assert q.total == D("6382.00")  # 3 990 + 2 392


def test_marketplace50_for_account_that_bought_something_else(catalog: Catalog) -> None:
    q = priced(
        catalog,
        plan="basic",
        months=1,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50",),
        bought_before=frozenset({"basic", "marketplace"}),
        promotions_used=frozenset({"WELCOME10"}),
    )
    assert q.lines[1].amount == D("495.00")  # 990 × 0.5
    assert q.total == D("2485.00")


# --- versions ----------------------------------------------------------------------------


def test_the_version_in_force_sets_the_prices(catalog: Catalog) -> None:
    # Version 2027-01 (example): standard at 4 390; 4 390 × 12 × 0.90 = 47 412.00.
    old = priced(catalog, at=date(2026, 12, 31), plan="standard", months=12)
    new = priced(catalog, at=date(2027, 1, 1), plan="standard", months=12)
    assert (old.catalog_version, old.total) == ("2026-01", D("43092.00"))
    assert (new.catalog_version, new.total) == ("2027-01", D("47412.00"))
    assert new.lines[0].explain("RUB") == "4 390,00 ₽ × 12 мес. − 10 % за 12 мес. = 47 412,00 ₽"


def test_quote_before_the_first_version(catalog: Catalog) -> None:
    err = refused(catalog, at=date(2025, 12, 31), plan="standard", months=12)
    assert_says(err, "no_catalog_version", "2025-12-31", "2026-01-01")


# --- extra users -------------------------------------------------------------------------


def test_extra_users_with_term_discount(per_user: Catalog) -> None:
    # Start: 1 490 × 24 = 35 760, − 15 % = 30 396.00.
    # 10 users, 3 free: 7 × 380 × 24 = 63 840, − 15 % = 54 264.00.
    # Total 84 660.00; list 99 600.00; VAT 84 660 × 22 / 122 = 15 266.557… → 15 266.56.
    q = priced(per_user, plan="start", months=24, users=10)
    plan_line, users = q.lines
    assert plan_line.amount == D("30396.00")
    assert users.kind is LineKind.EXTRA_USERS
    assert users.code == "start.extra_users"
    assert (users.quantity, users.unit_price) == (7, D(380))
    assert users.discounts == (Discount(DiscountKind.TERM, D(15)),)
    assert users.list_amount == D("63840.00")
    assert users.amount == D("54264.00")
    assert users.explain("RUB") == "380,00 ₽ × 7 польз. × 24 мес. − 15 % за 24 мес. = 54 264,00 ₽"
    assert users.explain("RUB", "en") == (
        "380.00 ₽ × 7 users × 24 mo. − 15% for 24 months = 54,264.00 ₽"
    )
    assert users.description() == "Пользователи сверх включённых в тариф «Старт»"
    assert users.description("en") == "Users above those included in “Start”"
    assert q.total == D("84660.00")
    assert q.subtotal == D("99600.00")
    assert q.discount == D("14940.00")
    assert q.vat_amount == D("15266.56")
    assert q.users == 10


def test_extra_users_one_month(per_user: Catalog) -> None:
    # Business: 2 990 + 1 × 380 = 3 370.00
    q = priced(per_user, plan="business", months=1, users=11)
    assert [line.kind for line in q.lines] == [LineKind.PLAN, LineKind.EXTRA_USERS]
    assert q.lines[1].explain("RUB") == "380,00 ₽ × 1 польз. × 1 мес. = 380,00 ₽"
    assert q.total == D("3370.00")


@pytest.mark.parametrize("users", [None, 1, 3])
def test_no_extra_line_within_free_users(per_user: Catalog, users: int | None) -> None:
    q = priced(per_user, plan="start", months=1, users=users)
    assert len(q.lines) == 1
    assert q.total == D("1490.00")


def test_unlimited_plan_takes_many_users(per_user: Catalog) -> None:
    # 2 990 + 990 × 380 = 379 190.00
    q = priced(per_user, plan="business", months=1, users=1000)
    assert q.total == D("379190.00")


def test_extra_users_with_promotion_on_the_plan() -> None:
    # A promotion on the plan also applies to its extra users.
    catalog = per_user_catalog()
    version = catalog.versions[0]
    promo = seed_catalog().versions[0].promotions["WELCOME10"]
    promo = replace(promo, plans=frozenset({"start"}))
    catalog = replace(catalog, versions=(replace(version, promotions={"WELCOME10": promo}),))
    # Plan: 1 490 × 12 × 0.9 × 0.9 = 14 482.80; users: 2 × 380 × 12 × 0.9 × 0.9 = 7 387.20.
    q = priced(catalog, plan="start", months=12, users=5, promotions=("WELCOME10",))
    assert [line.amount for line in q.lines] == [D("14482.80"), D("7387.20")]
    assert q.total == D("21870.00")


# --- refusals ----------------------------------------------------------------------------


def test_unknown_plan(catalog: Catalog) -> None:
    err = refused(catalog, plan="gold", months=12)
    assert_says(err, "unknown_plan", "gold", "basic, standard, professional, enterprise")


def test_unknown_add_on(catalog: Catalog) -> None:
    err = refused(catalog, plan="standard", months=12, add_ons=("telephony",))
    assert_says(err, "unknown_add_on", "telephony", "marketplace, market_plus")


@pytest.mark.parametrize("months", [2, 4, 9, 36])
def test_period_not_offered(catalog: Catalog, months: int) -> None:
    err = refused(catalog, plan="standard", months=months)
    assert_says(err, "period_not_offered", months, "1, 3, 6, 12, 24")
    assert err.details["allowed"] == [1, 3, 6, 12, 24]


@pytest.mark.parametrize("months", [0, -1, -12])
def test_invalid_months(catalog: Catalog, months: int) -> None:
    err = refused(catalog, plan="standard", months=months)
    assert_says(err, "invalid_months", months, "1, 3, 6, 12, 24")


@pytest.mark.parametrize("months", [True, "12", D(12)])
def test_months_must_be_an_int(catalog: Catalog, months: object) -> None:
    err = refused(catalog, plan="standard", months=months)
    assert_says(err, "invalid_months", "1, 3, 6, 12, 24")


@pytest.mark.parametrize("users", [0, -1, -50])
def test_invalid_users(catalog: Catalog, users: int) -> None:
    err = refused(catalog, plan="standard", months=12, users=users)
    assert_says(err, "invalid_users", users)


@pytest.mark.parametrize("users", [True, "5", D(5)])
def test_users_must_be_an_int(catalog: Catalog, users: object) -> None:
    err = refused(catalog, plan="standard", months=12, users=users)
    assert err.code == "invalid_users"


@pytest.mark.parametrize(
    ("plan", "users", "limit", "suggested", "ru_name", "en_name"),
    [
        ("basic", 6, 5, "standard", "Стандартный", "Standard"),
        ("basic", 50, 5, "standard", "Стандартный", "Standard"),
        ("basic", 51, 5, "professional", "Профессиональный", "Professional"),
        ("standard", 51, 50, "professional", "Профессиональный", "Professional"),
        ("professional", 101, 100, "enterprise", "Энтерпрайз", "Enterprise"),
    ],
)
def test_too_many_users_suggests_the_cheapest_plan_that_fits(
    catalog: Catalog,
    plan: str,
    users: int,
    limit: int,
    suggested: str,
    ru_name: str,
    en_name: str,
) -> None:
    err = refused(catalog, plan=plan, months=1, users=users)
    assert_says(err, "too_many_users", plan, limit, users, suggested)
    assert err.details["suggested_plan"] == suggested
    assert err.details["max_users"] == limit
    assert err.details["users"] == users
    assert ru_name in err.message("ru")
    assert en_name in err.message("en")


def test_too_many_users_for_every_plan(catalog: Catalog) -> None:
    err = refused(catalog, plan="enterprise", months=1, users=251)
    assert_says(err, "too_many_users", "enterprise", 250, 251)
    assert err.details["suggested_plan"] is None
    assert "Ни один тариф не допускает столько пользователей." in err.message("ru")
    assert "No plan allows that many users." in err.message("en")


def test_too_many_users_per_user_plan(per_user: Catalog) -> None:
    err = refused(per_user, plan="start", months=1, users=101)
    assert_says(err, "too_many_users", "start", 100, 101, "business")
    assert err.details["suggested_plan"] == "business"


def test_add_on_not_offered_with_the_plan(catalog: Catalog) -> None:
    err = refused(catalog, plan="basic", months=12, add_ons=("market_plus",))
    assert_says(
        err, "add_on_not_offered", "market_plus", "basic", "standard, professional, enterprise"
    )


def test_duplicate_add_on(catalog: Catalog) -> None:
    err = refused(catalog, plan="standard", months=12, add_ons=("marketplace", "marketplace"))
    assert_says(err, "duplicate_add_on", "marketplace")


def test_unknown_promotion_lists_the_active_ones(catalog: Catalog) -> None:
    err = refused(catalog, plan="standard", months=12, promotions=("BLACKFRIDAY",))
    assert_says(err, "unknown_promotion", "BLACKFRIDAY", "MARKETPLACE50, WELCOME10, APPS20")
    # In January WELCOME10 has not started yet.
    err = refused(
        catalog, at=date(2026, 1, 15), plan="standard", months=12, promotions=("BLACKFRIDAY",)
    )
    assert err.details["allowed"] == ["MARKETPLACE50", "APPS20"]


def test_unknown_promotion_when_none_is_active(per_user: Catalog) -> None:
    err = refused(per_user, plan="start", months=12, promotions=("BLACKFRIDAY",))
    assert_says(err, "unknown_promotion", "BLACKFRIDAY")
    assert err.details["allowed"] == []
    assert err.message("ru").endswith("Действующие акции: нет.")
    assert err.message("en").endswith("Active promotions: none.")


def test_duplicate_promotion(catalog: Catalog) -> None:
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50", "MARKETPLACE50"),
    )
    assert_says(err, "duplicate_promotion", "MARKETPLACE50")


def test_promotion_over(catalog: Catalog) -> None:
    err = refused(
        catalog,
        at=date(2027, 2, 1),
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50",),
    )
    assert_says(err, "promotion_not_active", "MARKETPLACE50", "2027-02-01")
    assert "с 2026-01-01 по 2026-12-31" in err.message("ru")
    assert "from 2026-01-01 to 2026-12-31" in err.message("en")


def test_promotion_not_started(catalog: Catalog) -> None:
    err = refused(
        catalog, at=date(2026, 1, 31), plan="standard", months=12, promotions=("WELCOME10",)
    )
    assert_says(err, "promotion_not_active", "WELCOME10", "2026-01-31", "2026-02-01")
    assert "с 2026-02-01" in err.message("ru")
    assert "from 2026-02-01" in err.message("en")


def test_promotion_without_start_ended(catalog: Catalog) -> None:
    err = refused(
        catalog,
        at=date(2026, 7, 1),
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("APPS20",),
    )
    assert_says(err, "promotion_not_active", "APPS20", "2026-07-01", "2026-06-30")
    assert "по 2026-06-30" in err.message("ru")
    assert "until 2026-06-30" in err.message("en")


def test_promotion_not_applicable(catalog: Catalog) -> None:
    err = refused(catalog, plan="standard", months=12, promotions=("MARKETPLACE50",))
    assert_says(err, "promotion_not_applicable", "MARKETPLACE50", "marketplace")
    err = refused(catalog, plan="basic", months=12, promotions=("WELCOME10",))
    assert_says(err, "promotion_not_applicable", "WELCOME10", "professional, standard")


def test_promotion_not_eligible_after_buying_market_plus(catalog: Catalog) -> None:
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50",),
        bought_before=frozenset({"market_plus", "standard"}),
    )
    assert_says(err, "promotion_not_eligible", "MARKETPLACE50", "market_plus")
    assert "не покупали market_plus" in err.message("ru")
    assert "never bought market_plus" in err.message("en")


def test_promotion_not_eligible_when_market_plus_is_in_the_same_order(catalog: Catalog) -> None:
    # Buying Market Plus together with the Marketplace does not make a first-timer either.
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("market_plus", "marketplace"),
        promotions=("MARKETPLACE50",),
    )
    assert_says(err, "promotion_not_eligible", "MARKETPLACE50", "market_plus")


def test_promotion_once_per_account(catalog: Catalog) -> None:
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("MARKETPLACE50",),
        promotions_used=frozenset({"MARKETPLACE50"}),
    )
    assert_says(err, "promotion_not_eligible", "MARKETPLACE50")
    assert "уже воспользовался" in err.message("ru")
    assert "already used" in err.message("en")


def test_promotions_overlap(catalog: Catalog) -> None:
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("marketplace",),
        promotions=("APPS20", "MARKETPLACE50"),
    )
    assert_says(err, "promotions_overlap", "APPS20", "MARKETPLACE50", "marketplace")
    assert dict(err.details) == {
        "first": "APPS20",
        "second": "MARKETPLACE50",
        "product": "marketplace",
    }


def test_overlap_only_counts_products_in_the_order(catalog: Catalog) -> None:
    # APPS20 and MARKETPLACE50 share marketplace, but the order has only market_plus for
    # APPS20, so MARKETPLACE50 is simply not applicable.
    err = refused(
        catalog,
        plan="standard",
        months=12,
        add_ons=("market_plus",),
        promotions=("APPS20", "MARKETPLACE50"),
    )
    assert err.code == "promotion_not_applicable"


def test_first_problem_wins(catalog: Catalog) -> None:
    # The plan is checked before the period, the period before the users.
    assert refused(catalog, plan="gold", months=2, users=0).code == "unknown_plan"
    assert refused(catalog, plan="basic", months=2, users=0).code == "period_not_offered"
    assert refused(catalog, plan="basic", months=1, users=0).code == "invalid_users"


# --- QuoteLine on its own ----------------------------------------------------------------


def test_line_with_quantity_shows_it() -> None:
    line = QuoteLine(
        kind=LineKind.ADD_ON,
        code="disk",
        name=Text("Диск", "Disk"),
        quantity=3,
        months=12,
        unit_price=D("100.00"),
        discounts=(Discount(DiscountKind.TERM, D("12.5")),),
        list_amount=D("3600.00"),
        amount=D("3150.00"),
        vat=Vat(VatMode.INCLUDED),
    )
    assert line.explain("RUB") == "100,00 ₽ × 3 × 12 мес. − 12,5 % за 12 мес. = 3 150,00 ₽"
    assert line.explain("USD", "en") == "100.00 $ × 3 × 12 mo. − 12.5% for 12 months = 3,150.00 $"
    assert line.discount_amount == D("450.00")
    assert line.discount_percent == D("12.5")


def test_discount_factor() -> None:
    assert Discount(DiscountKind.TERM, D(15)).factor == D("0.85")
    assert Discount(DiscountKind.PROMOTION, D(50), "X").factor == D("0.5")
