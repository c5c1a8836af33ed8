"""Test catalogs built directly in Python, and checks every quote test shares.

`seed_catalog()` is modelled on the vendor's seed price list: four tariffs, periods of
1-24 months with term discounts, VAT 22 % included, the Marketplace add-ons and the
MARKETPLACE50 promotion. Add-on prices and the extra promotions are *examples* chosen for
the tests (they are not the vendor's real prices). It has two versions: "2026-01" from
2026-01-01 and "2027-01" from 2027-01-01 with higher plan prices.

`per_user_catalog()` sells users above the free users at 380 RUB per user per month, with
the term discount applied to those users too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from podpiska.catalog.domain.catalog import AddOn, Catalog, CatalogVersion, Period, Plan, Promotion
from podpiska.catalog.domain.pricing import Quote
from podpiska.core.domain.money import ZERO, Vat, VatMode, round_money
from podpiska.core.domain.text import Text

D = Decimal

V1_FROM = date(2026, 1, 1)
V2_FROM = date(2027, 1, 1)
AT = date(2026, 3, 1)  # a day inside version 1 when every promotion of the seed is active

VAT_INCLUDED_22 = Vat(VatMode.INCLUDED, D(22))
VAT_EXCLUDED_22 = Vat(VatMode.EXCLUDED, D(22))
VAT_EXEMPT = Vat(VatMode.EXEMPT)

PLAN_CODES = ("basic", "standard", "professional", "enterprise")

# The seed's periods: 1, 3, 6, 12, 24 months; 6 → 5 %, 12 → 10 %, 24 → 15 %.
PERIODS = (
    Period(1),
    Period(3),
    Period(6, D(5)),
    Period(12, D(10)),
    Period(24, D(15)),
)
PERIOD_MONTHS = tuple(p.months for p in PERIODS)


def _plans(prices: dict[str, Decimal]) -> dict[str, Plan]:
    """The seed's tariffs: users included = the maximum; extra users are not sold."""
    return {
        "basic": Plan(
            code="basic",
            name=Text("Базовый", "Basic"),
            monthly_price=prices["basic"],
            users_included=5,
            max_users=5,
            disk_gb=24,
            features=frozenset({"crm.read", "crm.create_deal"}),
        ),
        "standard": Plan(
            code="standard",
            name=Text("Стандартный", "Standard"),
            monthly_price=prices["standard"],
            users_included=50,
            max_users=50,
            disk_gb=100,
            features=frozenset({"crm.read", "crm.create_deal", "rest_api.call"}),
        ),
        "professional": Plan(
            code="professional",
            name=Text("Профессиональный", "Professional"),
            monthly_price=prices["professional"],
            users_included=100,
            max_users=100,
            disk_gb=1024,
        ),
        "enterprise": Plan(
            code="enterprise",
            name=Text("Энтерпрайз", "Enterprise"),
            monthly_price=prices["enterprise"],
            users_included=250,
            max_users=250,
            disk_gb=3072,
        ),
    }


def _add_ons() -> dict[str, AddOn]:
    return {
        # Example prices per plan (not the vendor's real ones).
        "marketplace": AddOn(
            code="marketplace",
            name=Text("Маркетплейс", "Marketplace"),
            prices={
                "basic": D(990),
                "standard": D(1990),
                "professional": D(2990),
                "enterprise": D(4990),
            },
            features=frozenset({"apps.install", "apps.use"}),
        ),
        # Example: Market Plus is not offered with Basic.
        "market_plus": AddOn(
            code="market_plus",
            name=Text("Маркет Плюс", "Market Plus"),
            prices={"standard": D(2990), "professional": D(3990), "enterprise": D(5990)},
            features=frozenset({"apps.install", "apps.use"}),
        ),
        # Example: a kopeck price, VAT exempt. 299.65 × 6 × 0.95 = 1 708.005, exactly half a
        # kopeck: ROUND_HALF_UP gives 1 708.01 where banker's rounding would give 1 708.00.
        "rest_api": AddOn(
            code="rest_api",
            name=Text("REST API", "REST API"),
            prices={code: D("299.65") for code in PLAN_CODES},
            features=frozenset({"rest_api.call"}),
            vat=VAT_EXEMPT,
        ),
        # Example: no term discount, VAT added on top of the price.
        "webhooks": AddOn(
            code="webhooks",
            name=Text("Вебхуки", "Webhooks"),
            prices={code: D(500) for code in PLAN_CODES},
            features=frozenset({"webhooks.use"}),
            term_discount=False,
            vat=VAT_EXCLUDED_22,
        ),
    }


def _promotions() -> dict[str, Promotion]:
    return {
        # The seed's promotion.
        "MARKETPLACE50": Promotion(
            code="MARKETPLACE50",
            name=Text("Маркетплейс за полцены", "Marketplace at half price"),
            percent=D(50),
            add_ons=frozenset({"marketplace"}),
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            never_bought=frozenset({"market_plus"}),
        ),
        # Example: plans only, open-ended, from 2026-02-01.
        "WELCOME10": Promotion(
            code="WELCOME10",
            name=Text("Добро пожаловать", "Welcome"),
            percent=D(10),
            plans=frozenset({"standard", "professional"}),
            valid_from=date(2026, 2, 1),
        ),
        # Example: overlaps MARKETPLACE50 on marketplace; no start date, may be reused.
        "APPS20": Promotion(
            code="APPS20",
            name=Text("Приложения −20 %", "Apps −20%"),
            percent=D(20),
            add_ons=frozenset({"marketplace", "market_plus"}),
            valid_to=date(2026, 6, 30),
            once_per_account=False,
        ),
    }


def seed_version(
    version: str = "2026-01",
    effective_from: date = V1_FROM,
    prices: dict[str, Decimal] | None = None,
) -> CatalogVersion:
    return CatalogVersion(
        version=version,
        effective_from=effective_from,
        vat=VAT_INCLUDED_22,
        periods=PERIODS,
        plans=_plans(
            prices
            or {
                "basic": D(1990),
                "standard": D(3990),
                "professional": D(7990),
                "enterprise": D(13990),
            }
        ),
        add_ons=_add_ons(),
        promotions=_promotions(),
    )


# Version 2: example price rise from 2027-01-01.
V2_PRICES = {
    "basic": D(2190),
    "standard": D(4390),
    "professional": D(8790),
    "enterprise": D(15390),
}


def seed_catalog() -> Catalog:
    """The seed price list with two versions (given out of order on purpose)."""
    return Catalog(
        code="cloud",
        name=Text("Облако", "Cloud"),
        currency="RUB",
        timezone="Europe/Moscow",
        versions=(
            seed_version("2027-01", V2_FROM, V2_PRICES),
            seed_version(),
        ),
    )


EXTRA_USER_PRICE = D(380)


def per_user_catalog(extra_user_price: Decimal = EXTRA_USER_PRICE) -> Catalog:
    """Plans with free users, and each user above them at `extra_user_price` a month."""
    plans = {
        # Example: 3 free users, at most 100.
        "start": Plan(
            code="start",
            name=Text("Старт", "Start"),
            monthly_price=D(1490),
            users_included=3,
            max_users=100,
            extra_user_price=extra_user_price,
        ),
        # Example: 10 free users, no upper limit.
        "business": Plan(
            code="business",
            name=Text("Бизнес", "Business"),
            monthly_price=D(2990),
            users_included=10,
            extra_user_price=extra_user_price,
        ),
    }
    version = CatalogVersion(
        version="2026-01",
        effective_from=V1_FROM,
        vat=VAT_INCLUDED_22,
        periods=PERIODS,
        plans=plans,
    )
    return Catalog(
        code="accounting",
        name=Text("Бухгалтерия", "Accounting"),
        currency="RUB",
        timezone="Europe/Moscow",
        versions=(version,),
    )


def check_quote(q: Quote) -> None:
    """The invariants every quote keeps: lines sum to the total, the discount closes the
    gap between list amounts and the total, each line is rounded once from its exact
    value, and the VAT shares cover the total."""
    assert q.lines, "a quote has at least its plan line"
    assert sum((line.amount for line in q.lines), ZERO) == q.total
    assert q.subtotal - q.discount == q.total
    assert sum((line.list_amount for line in q.lines), ZERO) == q.subtotal
    for line in q.lines:
        exact = line.unit_price * line.quantity * line.months
        assert line.list_amount == round_money(exact)
        for discount in line.discounts:
            exact *= discount.factor
        assert line.amount == round_money(exact)
        assert line.list_amount - line.discount_amount == line.amount
        assert line.amount == round_money(line.amount)
        assert line.months == q.months
    assert sum((share.base for share in q.vat_shares), ZERO) == q.total
    for share in q.vat_shares:
        assert share.amount == share.vat.amount_of(share.base)
