"""The tariff advisor (catalog/domain/advisor.py): examples on the seed and per-user catalogs, and
properties (hypothesis): the recommended option fits and is never dearer per month than
any other fitting option, and the budget covers 12 months."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.catalog.domain.advisor import (
    VENDOR_GUIDANCE,
    Need,
    advise,
    fit_problem,
    fitting_options,
    guidance_for,
)
from podpiska.catalog.domain.catalog import Catalog, Period, Plan
from podpiska.catalog.domain.pricing import QuoteRequest, quote
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import round_money
from podpiska.core.domain.terms import add_months
from podpiska.core.domain.text import Text
from tests.factories import AT, V1_FROM, V2_FROM, per_user_catalog, seed_catalog

D = Decimal
SEED = seed_catalog()
PER_USER = per_user_catalog()


def test_a_small_shop_gets_basic_for_24_months_and_the_guidance_with_numbers() -> None:
    advice = advise(SEED, Need(users=3, disk_gb=10, orders_per_month=50), AT)
    assert advice.best is not None
    assert (advice.best.plan.code, advice.best.months) == ("basic", 24)
    # 1 990 × 24 × 0.85 = 40 596.00, i.e. 1 691.50 a month
    assert advice.best.term_price == D("40596.00")
    assert advice.best.monthly == D("1691.50")
    assert advice.guidance == ("basic", "standard")
    basic, standard = advice.candidates
    assert basic.fits and basic.per_month == D("1990.00")
    assert basic.twelve_months == D("21492.00")  # 1 990 × 12 × 0.9
    assert standard.per_month == D("3990.00") and standard.twelve_months == D("43092.00")


def test_users_and_disk_rule_out_plans_and_the_guidance_says_why() -> None:
    advice = advise(SEED, Need(users=60, disk_gb=10, orders_per_month=40), AT)
    assert advice.best is not None and advice.best.plan.code == "professional"
    basic, standard = advice.candidates
    assert (basic.fits, basic.problem, basic.per_month) == (False, "users", None)
    assert (standard.fits, standard.problem) == (False, "users")
    disk = advise(SEED, Need(users=5, disk_gb=2000, orders_per_month=2000), AT)
    assert disk.best is not None and disk.best.plan.code == "enterprise"
    assert [c.problem for c in disk.candidates] == ["disk", ""]


def test_seats_above_the_free_users_are_priced_per_user() -> None:
    advice = advise(PER_USER, Need(users=12), AT)
    start = next(o for o in advice.options if o.plan.code == "start" and o.months == 1)
    assert start.extra_users == 9 and start.term_price == D("1490") + 9 * D("380")
    business = next(o for o in advice.options if o.plan.code == "business" and o.months == 1)
    assert business.extra_users == 2 and business.term_price == D("2990") + 2 * D("380")
    assert advice.best is not None and advice.best.plan.code == "business"


def test_the_budget_lists_the_payments_of_12_months_at_the_scheduled_prices() -> None:
    advice = advise(SEED, Need(users=3), date(2026, 9, 15))
    monthly = next(o for o in advice.options if o.plan.code == "basic" and o.months == 3)
    from podpiska.catalog.domain.advisor import budget

    payments = budget(SEED, monthly, advice.need, date(2026, 9, 15))
    assert [p.day for p in payments] == [
        date(2026, 9, 15),
        date(2026, 12, 15),
        date(2027, 3, 15),
        date(2027, 6, 15),
    ]
    assert payments[0].amount == D("5970.00")  # 1 990 × 3
    assert payments[1].amount == D("5970.00")  # ordered on the old version's last days
    assert payments[2].amount == D("6570.00")  # 2 190 × 3: the 2027 version's price
    assert payments[-1].covers_until == date(2027, 9, 15)
    assert advice.best is not None and advice.budget[0].day == date(2026, 9, 15)
    # the best option is 24 months: what is paid (its term) is not what 12 months cost
    assert advice.budget_paid == sum(p.amount for p in advice.budget)
    assert advice.budget_total < advice.budget_paid
    # 3-month terms inside the 12 months: the cost is what is paid
    assert sum(p.share for p in payments) == sum(p.amount for p in payments)


def test_nothing_fits_gives_no_recommendation() -> None:
    advice = advise(SEED, Need(users=1000), AT)
    assert advice.best is None and advice.options == () and advice.budget == ()


def test_a_need_must_be_whole_numbers_not_below_zero() -> None:
    with pytest.raises(DomainError):
        Need(users=-1)
    with pytest.raises(DomainError):
        Need(users=True)


def test_the_guidance_bands() -> None:
    assert guidance_for(0, VENDOR_GUIDANCE) == ("basic", "standard")
    assert guidance_for(99, VENDOR_GUIDANCE) == ("basic", "standard")
    assert guidance_for(100, VENDOR_GUIDANCE) == ("standard", "professional")
    assert guidance_for(1000, VENDOR_GUIDANCE) == ("standard", "professional")
    assert guidance_for(1001, VENDOR_GUIDANCE) == ("professional", "enterprise")
    assert advise(PER_USER, Need(users=2, orders_per_month=10), AT).candidates == ()


# --- properties -------------------------------------------------------------------------------


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    """The seed or the per-user catalog with random prices, limits and term discounts."""
    base = draw(st.sampled_from([SEED, PER_USER]))
    version = base.version_at(AT)
    plans = {}
    for code, plan in version.plans.items():
        price = D(draw(st.integers(100, 50_000)))
        extra = D(draw(st.integers(50, 2_000))) if plan.extra_user_price is not None else None
        disk = draw(st.one_of(st.none(), st.integers(1, 5_000)))
        plans[code] = replace(plan, monthly_price=price, extra_user_price=extra, disk_gb=disk)
    discounts = sorted(draw(st.lists(st.integers(0, 30), min_size=4, max_size=4)))
    periods = (
        Period(1),
        *(Period(m, D(d)) for m, d in zip((3, 6, 12, 24), discounts, strict=False)),
    )
    changed = replace(version, plans=plans, periods=periods, promotions={}, add_ons={})
    return Catalog(base.code, Text("x", "x"), "RUB", "Europe/Moscow", (changed,))


needs = st.builds(
    Need,
    users=st.integers(0, 300),
    disk_gb=st.integers(0, 6_000),
    orders_per_month=st.integers(0, 5_000),
)


@settings(max_examples=150, deadline=None)
@given(catalogs(), needs)
def test_the_recommendation_is_never_dearer_than_any_fitting_option(
    catalog: Catalog, need: Need
) -> None:
    advice = advise(catalog, need, AT)
    version = catalog.version_at(AT)
    fitting: list[tuple[Plan, int]] = [
        (plan, period.months)
        for plan in version.plans.values()
        if not fit_problem(plan, need)
        for period in version.periods
    ]
    if not fitting:
        assert advice.best is None
        return
    best = advice.best
    assert best is not None
    assert not fit_problem(best.plan, need)
    assert best.users >= need.users
    for option in fitting_options(catalog, need, AT):
        assert best.monthly_exact <= option.monthly_exact
        assert best.monthly <= option.monthly
    # and the budget covers the next 12 months without a gap
    days = [p.day for p in advice.budget]
    assert days[0] == AT and days == sorted(days)
    for earlier, later in zip(advice.budget, advice.budget[1:], strict=False):
        assert earlier.covers_until == later.day
    assert advice.budget[-1].covers_until >= add_months(AT, 12, AT.day)


@settings(max_examples=60, deadline=None)
@given(needs)
def test_every_guidance_candidate_that_fits_has_its_numbers(need: Need) -> None:
    advice = advise(SEED, need, V2_FROM)
    for candidate in advice.candidates:
        assert candidate.plan.code in advice.guidance
        if candidate.fits:
            assert candidate.per_month is not None and candidate.twelve_months is not None
            assert candidate.best is not None
            assert advice.best is not None
            assert advice.best.monthly_exact <= candidate.best.monthly_exact
        else:
            assert candidate.problem in ("users", "disk")


def test_version_one_starts_on_its_day() -> None:
    assert advise(SEED, Need(users=1), V1_FROM).version == "2026-01"


# --- the 12-month budget: a window of 12 months, a term's price shared by its days in it ------


def test_a_24_month_best_option_costs_about_half_its_price_in_12_months() -> None:
    advice = advise(SEED, Need(users=3, disk_gb=10, orders_per_month=50), AT)
    assert advice.best is not None and advice.best.months == 24
    price = advice.best.term_price  # 40 596.00 for 24 months
    (payment,) = advice.budget  # one payment, covering 24 months from today
    assert payment.amount == price and payment.day == AT
    assert payment.covers_until == add_months(AT, 24, AT.day)
    # 12 months' share: the term's price × its days inside the window ÷ its days, rounded once
    # (365 of 731 days: 2026-03-01 → 2027-03-01 of 2026-03-01 → 2028-03-01)
    assert advice.budget_total == D("20270.23")
    assert abs(advice.budget_total - price / 2) < price / 100
    assert advice.budget_total < sum(p.amount for p in advice.budget)


def test_the_budget_starts_where_asked_and_prices_the_add_ons_held() -> None:
    start = date(2027, 5, 6)  # the day after a paid-through date of 5 May 2027
    advice = advise(SEED, Need(users=3), AT, budget_from=start, add_ons=("marketplace",))
    assert advice.best is not None and advice.best.add_ons == ("marketplace",)
    assert advice.budget[0].day == start
    assert all(p.day >= start for p in advice.budget)
    first = quote(
        SEED,
        QuoteRequest(
            plan=advice.best.plan.code,
            months=advice.best.months,
            users=advice.best.users,
            add_ons=("marketplace",),
            held_add_ons=frozenset({"marketplace"}),
        ),
        start,
    )
    assert advice.budget[0].amount == first.total
    assert any(line.code == "marketplace" for line in first.lines)


starts = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=150, deadline=None)
@given(catalogs(), needs, starts, st.integers(1, 31))
def test_the_12_month_total_is_the_sum_of_the_shares_inside_the_window(
    catalog: Catalog, need: Need, start: date, anchor_day: int
) -> None:
    advice = advise(catalog, need, AT, budget_from=start, anchor_day=anchor_day)
    if advice.best is None:
        assert advice.budget == () and advice.budget_total == 0
        return
    window_ends = add_months(start, 12, anchor_day)
    assert advice.budget_from == start and advice.budget_until == window_ends
    assert advice.budget[0].day == start
    assert advice.budget_total == round_money(sum((p.share for p in advice.budget), D(0)))
    assert advice.budget_total <= advice.budget_paid == sum(p.amount for p in advice.budget)
    # every day of the window is paid for exactly once, and no payment starts outside it
    assert sum(p.days_inside for p in advice.budget) == (window_ends - start).days
    for payment in advice.budget:
        assert start <= payment.day < window_ends
        assert 0 <= payment.share <= payment.amount
        assert payment.beyond_window == (payment.covers_until > window_ends)
        if not payment.beyond_window:
            assert payment.share == payment.amount
