"""Unit tests of podpiska.subscriptions.domain.proration: worked examples of every mid-term
rule, and every refusal. The amounts in the comments are computed by hand from the issue's formulas
(days_in_term = ends_on − starts_on, days_left = ends_on − t, each line rounded once
ROUND_HALF_UP), never by the code under test.

The versions are the shipped catalogs: crm-shop (prorate upgrades, no extra seats sold) and
site-platform (380 ₽ per user above the free ones, shorten_term seats, convert_to_days
upgrades); `site_prorate` is site-platform with `seat_policy: prorate`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from podpiska.catalog.domain.catalog import CatalogVersion, SeatPolicy, UpgradePolicy
from podpiska.catalog.domain.pricing import term_price
from podpiska.catalog.loading import load_catalog
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.domain.money import ZERO
from podpiska.subscriptions.domain.proration import (
    Change,
    ChangeKind,
    License,
    add_add_on,
    change_plan,
    change_seats,
    downgrade_blockers,
)

D = Decimal
CATALOGS = Path(__file__).resolve().parents[3] / "catalogs"

# The term of every example: 22.11.2026 — 22.11.2027, 365 days (no 29 February inside).
STARTS = date(2026, 11, 22)
ENDS = date(2027, 11, 22)
DAY_123_LEFT = date(2027, 7, 22)  # 22.07 → 22.11: 9 + 31 + 30 + 31 + 22 = 123
DAY_100_LEFT = date(2027, 8, 14)  # 14.08 → 22.11: 17 + 30 + 31 + 22 = 100
DAY_200_LEFT = date(2027, 5, 6)  # 06.05 → 22.11: 25 + 30 + 31 + 31 + 30 + 31 + 22 = 200
DAY_184_LEFT = date(2027, 5, 22)  # 22.05 → 22.11: 9 + 30 + 31 + 31 + 30 + 31 + 22 = 184


@pytest.fixture(scope="module")
def crm() -> CatalogVersion:
    return load_catalog(CATALOGS / "crm-shop.yaml").version("2026.1")


@pytest.fixture(scope="module")
def site() -> CatalogVersion:
    return load_catalog(CATALOGS / "site-platform.yaml").version("2026.1")


@pytest.fixture(scope="module")
def site_prorate(site: CatalogVersion) -> CatalogVersion:
    return replace(site, seat_policy=SeatPolicy.PRORATE)


def lic(
    version: CatalogVersion,
    plan: str,
    basis: str,
    *,
    seats: int | None = None,
    add_ons: tuple[str, ...] = (),
    months: int = 12,
    starts_on: date = STARTS,
    ends_on: date = ENDS,
) -> License:
    chosen = version.plan(plan)
    return License(
        starts_on=starts_on,
        ends_on=ends_on,
        months=months,
        plan=chosen,
        seats=chosen.users_included if seats is None else seats,
        add_ons=add_ons,
        basis=D(basis),
        anchor_day=starts_on.day,
    )


def checked(change: Change) -> Change:
    """Every change: its lines sum to the amount due, each line is whole kopecks."""
    assert sum((line.amount for line in change.lines), ZERO) == change.amount_due
    for line in change.lines:
        assert line.amount == line.amount.quantize(D("0.01"))
    return change


def refused(call: object, *args: object, **kwargs: object) -> DomainError:
    assert callable(call)
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value


# --- term prices (the basis of a configuration) ----------------------------------------


def test_term_prices_by_hand(crm: CatalogVersion, site: CatalogVersion) -> None:
    # standard: 3 990 × 12 × 0,90 = 43 092,00; professional: 7 990 × 12 × 0,90 = 86 292,00
    assert term_price(crm, crm.plan("standard"), 50, (), 12) == D("43092.00")
    assert term_price(crm, crm.plan("professional"), 100, (), 12) == D("86292.00")
    # + marketplace on standard: 990 × 12 × 0,90 = 10 692,00
    assert term_price(crm, crm.plan("standard"), 50, ("marketplace",), 12) == D("53784.00")
    # business, 10 free users: 3 490 × 12 × 0,85 = 35 598,00
    assert term_price(site, site.plan("business"), 10, (), 12) == D("35598.00")
    # + 5 users: 380 × 5 × 12 × 0,85 = 19 380,00 → 54 978,00
    assert term_price(site, site.plan("business"), 15, (), 12) == D("54978.00")
    # 3 months at 5 %: 3 490 × 3 × 0,95 = 9 946,50; + 2 users 380 × 2 × 3 × 0,95 = 2 166,00
    assert term_price(site, site.plan("business"), 12, (), 3) == D("12112.50")


# --- upgrades, prorate (crm-shop) ----------------------------------------------------------


def test_upgrade_prorate_credits_the_old_plan_and_charges_the_new(crm: CatalogVersion) -> None:
    # standard 12 months, 43 092,00 ₽; professional on 22.07.2027, 123 of 365 days left.
    before = lic(crm, "standard", "43092.00")
    change = checked(change_plan(crm, before, "professional", DAY_123_LEFT))
    assert change.kind is ChangeKind.PLAN
    assert not change.scheduled
    assert change.on == change.effective_on == DAY_123_LEFT
    credit, charge = change.lines
    # credit: 43 092 × 123 / 365 = 5 300 316 / 365 = 14 521,4136… → −14 521,41
    assert (credit.code, credit.amount) == ("standard", D("-14521.41"))
    assert credit.explain("ru") == "−(43 092,00 ₽ × 123/365 дн.) = −14 521,41 ₽"
    assert credit.explain("en") == "−(43,092.00 ₽ × 123/365 days) = −14,521.41 ₽"
    assert credit.description("ru") == "Возврат за неиспользованные дни тарифа «Стандартный»"
    # charge: 86 292 × 123 / 365 = 10 613 916 / 365 = 29 079,2219… → 29 079,22
    assert (charge.code, charge.amount) == ("professional", D("29079.22"))
    assert charge.explain("ru") == "86 292,00 ₽ (12 мес. − 10 %) × 123/365 дн. = 29 079,22 ₽"
    # net due now: 29 079,22 − 14 521,41 = 14 557,81
    assert change.amount_due == D("14557.81")
    # the end does not move; the basis becomes the new configuration's term price
    after = change.after
    assert (after.plan.code, after.seats, after.starts_on, after.ends_on) == (
        "professional",
        100,
        STARTS,
        ENDS,
    )
    assert after.basis == D("86292.00")
    assert change.new_plan == "professional"
    assert change.new_seats == 100


def test_upgrade_on_the_first_day_credits_everything(crm: CatalogVersion) -> None:
    # 365/365 days left: −43 092,00 + 86 292,00 = 43 200,00 (the difference of the terms).
    change = checked(change_plan(crm, lic(crm, "standard", "43092.00"), "professional", STARTS))
    assert [line.amount for line in change.lines] == [D("-43092.00"), D("86292.00")]
    assert change.amount_due == D("43200.00")


def test_upgrade_on_the_last_day(crm: CatalogVersion) -> None:
    # 21.11.2027, 1/365 day left: −43 092/365 = −118,0603 → −118,06; 86 292/365 = 236,4164
    # → 236,42; due 118,36.
    last = ENDS - timedelta(days=1)
    change = checked(change_plan(crm, lic(crm, "standard", "43092.00"), "professional", last))
    assert [line.amount for line in change.lines] == [D("-118.06"), D("236.42")]
    assert change.amount_due == D("118.36")


def test_upgrade_credits_what_was_paid_not_the_list_price(crm: CatalogVersion) -> None:
    # Bought with a promotion for 40 000,00: the credit is 40 000 × 123/365 = 13 479,4520…
    # → −13 479,45; the charge stays 29 079,22; due 15 599,77.
    change = checked(
        change_plan(crm, lic(crm, "standard", "40000.00"), "professional", DAY_123_LEFT)
    )
    assert [line.amount for line in change.lines] == [D("-13479.45"), D("29079.22")]
    assert change.amount_due == D("15599.77")


def test_upgrade_with_an_add_on_moves_the_add_on_to_the_new_plan_price(
    crm: CatalogVersion,
) -> None:
    # standard + marketplace: (3 990 + 990) × 12 × 0,9 = 53 784,00; professional +
    # marketplace: (7 990 + 1 490) × 12 × 0,9 = 102 384,00.
    # credit 53 784 × 123/365 = 6 615 432 / 365 = 18 124,4712… → −18 124,47;
    # charge 102 384 × 123/365 = 12 593 232 / 365 = 34 502,0055… → 34 502,01;
    # due 34 502,01 − 18 124,47 = 16 377,54.
    before = lic(crm, "standard", "53784.00", add_ons=("marketplace",))
    change = checked(change_plan(crm, before, "professional", DAY_123_LEFT))
    assert [line.amount for line in change.lines] == [D("-18124.47"), D("34502.01")]
    assert change.amount_due == D("16377.54")
    assert change.after.basis == D("102384.00")
    assert change.after.add_ons == ("marketplace",)


# --- seats, prorate (site-platform with seat_policy: prorate) -----------------------------


def test_seats_prorate_charges_the_added_users_for_the_days_left(
    site_prorate: CatalogVersion,
) -> None:
    # business 12 months, 10 free users, 35 598,00; +5 users on 14.08.2027, 100/365 left:
    # 380 × 5 × 12 × (1 − 0,15) = 19 380,00 for the term; × 100/365 = 1 938 000 / 365
    # = 5 309,5890… → 5 309,59.
    before = lic(site_prorate, "business", "35598.00")
    change = checked(change_seats(site_prorate, before, 15, DAY_100_LEFT))
    assert change.kind is ChangeKind.SEATS
    assert not change.scheduled
    (line,) = change.lines
    assert line.code == "business.extra_users"
    assert line.amount == D("5309.59") == change.amount_due
    assert line.explain("ru") == (
        "380,00 ₽ × 5 польз. × 12 мес. × (1 − 15 %) × 100/365 дн. = 5 309,59 ₽"
    )
    assert (
        line.explain("en") == "380.00 ₽ × 5 users × 12 mo. × (1 − 15%) × 100/365 days = 5,309.59 ₽"
    )
    assert line.description("ru") == "Ещё 5 польз. до конца оплаченного периода"
    # the end does not move; the basis is the 15-user term price: 35 598 + 19 380 = 54 978
    assert (change.after.seats, change.after.ends_on) == (15, ENDS)
    assert change.after.basis == D("54978.00")
    assert change.new_seats == 15


def test_seats_prorate_counts_only_the_users_above_those_paid(
    site_prorate: CatalogVersion,
) -> None:
    # 12 users paid (2 above the free 10): 35 598 + 380 × 2 × 12 × 0,85 = 43 350,00.
    # To 13 on 22.07.2027 (123/365): 380 × 1 × 12 × 0,85 = 3 876,00 × 123/365 = 1 306,1589…
    # → 1 306,16.
    before = lic(site_prorate, "business", "43350.00", seats=12)
    change = checked(change_seats(site_prorate, before, 13, DAY_123_LEFT))
    assert change.amount_due == D("1306.16")
    assert change.after.basis == D("47226.00")


def test_seats_prorate_on_a_three_month_term(site_prorate: CatalogVersion) -> None:
    # business 3 months 22.11.2026 — 22.02.2027 = 92 days (8 + 31 + 31 + 22), 9 946,50.
    # +3 users on 01.02.2027, 21 days left: 380 × 3 × 3 × 0,95 = 3 249,00 × 21/92
    # = 68 229 / 92 = 741,6195… → 741,62.
    before = lic(site_prorate, "business", "9946.50", months=3, ends_on=date(2027, 2, 22))
    assert before.days_in_term == 92
    change = checked(change_seats(site_prorate, before, 13, date(2027, 2, 1)))
    assert change.amount_due == D("741.62")
    assert change.lines[0].explain("ru") == (
        "380,00 ₽ × 3 польз. × 3 мес. × (1 − 5 %) × 21/92 дн. = 741,62 ₽"
    )


# --- seats, shorten_term (site-platform) --------------------------------------------------


def test_seats_shorten_term_recounts_the_value_left_into_days(site: CatalogVersion) -> None:
    # business 12 months, 10 users, 35 598,00; 20 users on 06.05.2027, 200/365 days left.
    # value left = 35 598 × 200/365 = 19 505,7534…
    # new term price for 20 users = 35 598 + 380 × 10 × 12 × 0,85 = 35 598 + 38 760
    # = 74 358,00; new daily = 74 358 / 365 = 203,7205…
    # days = floor(19 505,7534 / 203,7205) = floor(7 119 600 / 74 358) = floor(95,747) = 95
    # (203,72 × 95 = 19 353,45 ≤ 19 505,75 < 19 557,17 = 203,72 × 96)
    # new end = 06.05.2027 + 95 days = 09.08.2027 (25 + 30 + 31 + 9 = 95): paid through 08.08.
    before = lic(site, "business", "35598.00")
    change = checked(change_seats(site, before, 20, DAY_200_LEFT))
    assert change.amount_due == ZERO
    (line,) = change.lines
    assert line.amount == ZERO
    assert change.after.ends_on == date(2027, 8, 9)
    assert change.after.starts_on == STARTS
    assert change.after.seats == 20
    assert line.explain("ru") == (
        "остаток 19 505,75 ₽ (35 598,00 ₽ × 200/365 дн.) ÷ 203,72 ₽ в день "
        "(74 358,00 ₽ ÷ 365 дн.) = 95 дн."
    )
    assert "08.08.2027" in line.description("ru")
    # the term is now [22.11.2026, 09.08.2027) = 260 days, but a day is still priced over the
    # 365 days of the period bought: the basis is the 20 users' period price, and what the
    # recount left over (19 505,7534 − 95 × 203,7205 = 0,747 of a day) is carried:
    # (7 119 600 − 95 × 74 358) kopecks·days / 365 = 55 590 / 365 = 152,30 ₽
    assert change.after.days_in_term == 260
    assert change.after.period_days == 365
    assert change.after.basis == D("74358.00")
    assert change.after.carry == D("152.30")


def test_seats_shorten_term_again_prices_the_day_over_the_period_not_the_shortened_term(
    site: CatalogVersion,
) -> None:
    # The case: after the 20 users of 06.05.2027 (end 09.08.2027), a 21st user on
    # 07.05.2027. Before the fix the day was priced over the shortened 260 days
    # (78 234 ÷ 260 = 300,90 a day → 63 days → end 09.07.2027: 26 days lost).
    # Now: 21 users cost 35 598 + 380 × 11 × 12 × 0,85 = 78 234,00 for the 365-day period,
    # 214,34 a day. Value left on 07.05 (94 days to 09.08): 74 358 × 94/365 = 19 149,73
    # plus the 152,30 carried from the first recount = 19 302,03 (exactly: (7 435 800 × 94 +
    # 15 230 × 365) / 365 kopecks); 19 302,03 / 214,3397 = 90,05 → 90 days → 05.08.2027.
    # (Without the carry, 19 149,73 / 214,34 = 89,34 → 89 days → 04.08.2027: the issue's
    # hand figure, which drops the first recount's 0,75 day.) Pricing both changes at once
    # gives the same: 35 598 × 200/365 − 74 358/365 × 1 day = 19 302,03 for 90 days.
    first = change_seats(site, lic(site, "business", "35598.00"), 20, DAY_200_LEFT).after
    change = checked(change_seats(site, first, 21, date(2027, 5, 7)))
    (line,) = change.lines
    assert line.explain("ru") == (
        "остаток 19 302,03 ₽ (74 358,00 ₽ × 94/365 дн. + 152,30 ₽) ÷ 214,34 ₽ в день "
        "(78 234,00 ₽ ÷ 365 дн.) = 90 дн."
    )
    assert change.after.ends_on == date(2027, 8, 5)
    assert "04.08.2027" in line.description("ru")  # paid through
    assert change.after.basis == D("78234.00")


def test_add_on_after_a_shortened_term_is_priced_over_the_period(site: CatalogVersion) -> None:
    # An add-on after the recount: the shortened term has 94 days left on 07.05.2027; the
    # add-on is charged for them over the 365 days of the period (not the 260 days of the
    # shortened term): 6 018 × 94/365, not 6 018 × 94/260 = 2 175,74.
    first = change_seats(site, lic(site, "business", "35598.00"), 20, DAY_200_LEFT).after
    code = next(c for c, a in sorted(site.add_ons.items()) if "business" in a.prices)
    add_on = site.add_on(code)
    factor = (100 - site.period(12).discount_percent) / 100 if add_on.term_discount else 1
    exact = add_on.prices["business"] * 12 * factor
    change = checked(add_add_on(site, first, code, date(2027, 5, 7)))
    assert change.amount_due == (exact * 94 / 365).quantize(D("0.01"))
    assert change.after.carry == first.carry  # the carry stays for the next recount


def test_seats_shorten_term_as_in_the_api_example(site: CatalogVersion) -> None:
    # 15 users on 22.07.2027 (123/365): 35 598 × 123 / 54 978 = 79,64 → 79 days:
    # 22.07.2027 + 79 = 09.10.2027.
    change = checked(change_seats(site, lic(site, "business", "35598.00"), 15, DAY_123_LEFT))
    assert change.after.ends_on == date(2027, 10, 9)
    assert change.amount_due == ZERO


def test_seats_shorten_term_never_moves_the_end_later(site: CatalogVersion) -> None:
    # On the first day: 35 598 × 365 / 54 978 = 236,33 → 236 days from 22.11.2026.
    change = checked(change_seats(site, lic(site, "business", "35598.00"), 15, STARTS))
    assert change.after.ends_on == STARTS + timedelta(days=236)
    assert change.after.ends_on < ENDS


def test_seats_shorten_term_with_less_than_a_day_of_value_left(site: CatalogVersion) -> None:
    # On the last day, 21.11.2027 (1/365 left): value left 35 598/365 = 97,53; 15 users cost
    # 54 978/365 = 150,62 a day; floor(97,53 / 150,62) = 0 days. A term never ends on the day
    # it is changed (it would drop into grace at once): the day of the change stays paid.
    last = ENDS - timedelta(days=1)
    change = change_seats(site, lic(site, "business", "35598.00"), 15, last)
    assert change.after.ends_on == last + timedelta(days=1)


def test_seats_shorten_term_when_the_value_left_pays_whole_days_exactly(
    site: CatalogVersion,
) -> None:
    # start 3 months 01.01.2026 — 01.04.2026 = 90 days, 5 users:
    # 1 490 × 3 × 0,95 + 380 × 2 × 3 × 0,95 = 4 246,50 + 2 166,00 = 6 412,50.
    # 10 users on 08.01.2026 (83/90 left): value left 6 412,50 × 83/90 = 5 913,75;
    # 10 users cost 4 246,50 + 380 × 7 × 3 × 0,95 = 4 246,50 + 7 581,00 = 11 827,50 a term,
    # 11 827,50 / 90 = 131,4166… a day; 6 412,50 × 83 = 532 237,50 = 11 827,50 × 45 exactly:
    # 45 days → the end is 08.01.2026 + 45 = 22.02.2026 (found by hypothesis).
    before = lic(
        site, "start", "6412.50", seats=5, months=3,
        starts_on=date(2026, 1, 1), ends_on=date(2026, 4, 1),
    )  # fmt: skip
    change = change_seats(site, before, 10, date(2026, 1, 8))
    assert change.after.ends_on == date(2026, 2, 22)


# --- upgrades, convert_to_days (site-platform) --------------------------------------------


def test_upgrade_convert_to_days_buys_a_full_period_and_adds_the_value_left(
    site: CatalogVersion,
) -> None:
    # start 12 months, 3 free users: 1 490 × 12 × 0,85 = 15 198,00; business on 22.05.2027,
    # 184/365 days left. Value left = 15 198 × 184 / 365 = 2 796 432 / 365 = 7 661,4575…
    # business for 12 months from 22.05.2027: 10 free users, 35 598,00, to 22.05.2028 = 366
    # days (29.02.2028 inside); new daily = 35 598 / 366 = 97,2622…
    # extra = floor(7 661,4575 / 97,2622) = floor(78,77) = 78 days
    # (97,26 × 78 = 7 586,46 ≤ 7 661,46 < 7 683,72 = 97,26 × 79)
    # new end = 22.05.2028 + 78 = 08.08.2028 (9 + 30 + 31 + 8 = 78).
    before = lic(site, "start", "15198.00")
    change = checked(change_plan(site, before, "business", DAY_184_LEFT))
    (line,) = change.lines
    assert line.code == "business"
    assert line.amount == D("35598.00") == change.amount_due
    assert line.description("ru") == (
        "Тариф «Бизнес» на 12 мес. с 22.05.2027 и 78 дн. за остаток тарифа «Старт»"
    )
    assert line.explain("ru") == (
        "35 598,00 ₽ за 12 мес. − 15 %; остаток 7 661,46 ₽ ÷ 97,26 ₽ в день = 78 дн."
    )
    after = change.after
    assert (after.plan.code, after.seats) == ("business", 10)
    assert (after.starts_on, after.ends_on) == (DAY_184_LEFT, date(2028, 8, 8))
    assert after.anchor_day == 22
    # basis: the new plan's period price; a day is priced over its 366 days; the rest of the
    # value left is carried: 7 661,4575 − 78 × 97,2623 = 74,998 (exactly
    # (279 643 200 × 366 − 78 × 365 × 3 559 800) / (365 × 366) kopecks = 7 499,83 → 75,00 ₽)
    assert after.days_in_term == 366 + 78
    assert after.period_days == 366
    assert after.basis == D("35598.00")
    assert after.carry == D("75.00")


def test_upgrade_convert_to_days_when_the_value_left_pays_whole_days_exactly(
    site: CatalogVersion,
) -> None:
    # start 3 months 01.04.2026 — 01.07.2026 = 91 days, 9 users:
    # 1 490 × 3 × 0,95 + 380 × 6 × 3 × 0,95 = 4 246,50 + 6 498,00 = 10 744,50.
    # corporate on 30.04.2026 (62/91 left), 25 free users: 8 990 × 3 × 0,95 = 25 621,50 for
    # 30.04.2026 — 30.07.2026 = 91 days. Value left 10 744,50 × 62/91; new daily 25 621,50/91;
    # their ratio 10 744,50 × 62 / 25 621,50 = 666 159 / 25 621,50 = 26 exactly:
    # the end is 30.07.2026 + 26 = 25.08.2026.
    before = lic(
        site, "start", "10744.50", seats=9, months=3,
        starts_on=date(2026, 4, 1), ends_on=date(2026, 7, 1),
    )  # fmt: skip
    change = change_plan(site, before, "corporate", date(2026, 4, 30))
    assert change.amount_due == D("25621.50")
    assert change.after.ends_on == date(2026, 8, 25)


# --- add-ons mid-term -------------------------------------------------------------------


def test_add_on_mid_term_is_charged_for_the_days_left(crm: CatalogVersion) -> None:
    # marketplace on standard: 990 × 12 × 0,9 = 10 692,00 a term; × 123/365 = 1 315 116 / 365
    # = 3 603,0575… → 3 603,06.
    change = checked(add_add_on(crm, lic(crm, "standard", "43092.00"), "marketplace", DAY_123_LEFT))
    assert change.kind is ChangeKind.ADD_ON
    (line,) = change.lines
    assert (line.code, line.amount) == ("marketplace", D("3603.06"))
    assert line.explain("ru") == "990,00 ₽ × 12 мес. × (1 − 10 %) × 123/365 дн. = 3 603,06 ₽"
    assert change.after.add_ons == ("marketplace",)
    assert change.after.ends_on == ENDS
    assert change.after.basis == D("53784.00")  # 43 092 + 10 692
    assert change.new_add_ons == ("marketplace",)


def test_add_on_twice_is_refused(crm: CatalogVersion) -> None:
    before = lic(crm, "standard", "53784.00", add_ons=("marketplace",))
    assert refused(add_add_on, crm, before, "marketplace", DAY_123_LEFT).code == "duplicate_add_on"


# --- fewer seats, downgrades: the next term ---------------------------------------------


def test_seats_removed_wait_for_the_next_term_without_refund(site: CatalogVersion) -> None:
    for version in (site, replace(site, seat_policy=SeatPolicy.PRORATE)):
        before = lic(version, "business", "54978.00", seats=15)
        change = checked(change_seats(version, before, 12, DAY_123_LEFT))
        assert change.scheduled
        assert change.lines == ()
        assert change.amount_due == ZERO
        assert change.effective_on == ENDS
        assert change.after == before
        assert change.new_seats == 12


def test_seats_below_the_free_users_become_the_free_users(site: CatalogVersion) -> None:
    before = lic(site, "business", "54978.00", seats=15)
    change = checked(change_seats(site, before, 4, DAY_123_LEFT))
    assert change.scheduled
    assert change.new_seats == 10  # business includes 10


def test_a_cheaper_plan_is_scheduled_for_the_end_of_the_term(crm: CatalogVersion) -> None:
    before = lic(crm, "standard", "43092.00")
    change = checked(
        change_plan(crm, before, "basic", DAY_123_LEFT, active_users=5, disk_used_mb=24 * 1024)
    )
    assert change.scheduled
    assert change.lines == ()
    assert change.effective_on == ENDS
    assert change.after == before
    assert (change.new_plan, change.new_seats) == ("basic", 5)


def test_downgrade_blockers_count_users_and_gigabytes(crm: CatalogVersion) -> None:
    standard, basic = crm.plan("standard"), crm.plan("basic")
    # basic: at most 5 users, 24 GB = 24 576 MB.
    assert downgrade_blockers(standard, basic, 5, 24 * 1024) == ()
    # 7 users: block 2; 30 GB + 1 MB = 30 721 MB: 6 145 MB over → ceil(6 145 / 1 024) = 7 GB
    users, disk = downgrade_blockers(standard, basic, 7, 30 * 1024 + 1)
    assert (users.code, users.need) == ("users", 2)
    assert users.message_ru == "заблокируйте 2 польз."
    assert users.message_en == "block 2 users"
    assert (disk.code, disk.need) == ("disk", 7)
    assert disk.message_ru == "освободите 7 ГБ"
    # exactly 1 GB over: 25 600 MB → 1 GB
    (only,) = downgrade_blockers(standard, basic, 1, 25 * 1024)
    assert (only.code, only.need) == ("disk", 1)


def test_a_downgrade_over_the_limits_is_refused_with_the_list(crm: CatalogVersion) -> None:
    before = lic(crm, "standard", "43092.00")
    error = refused(
        change_plan, crm, before, "basic", DAY_123_LEFT, active_users=7, disk_used_mb=30 * 1024 + 1
    )
    assert error.code == "downgrade_blocked"
    assert error.details["items"] == [{"code": "users", "need": 2}, {"code": "disk", "need": 7}]
    assert error.details["blockers"]["ru"] == "заблокируйте 2 польз.; освободите 7 ГБ"
    assert error.kind == Kind.CONFLICT


# --- refusals -----------------------------------------------------------------------------


def test_nothing_to_change(crm: CatalogVersion, site: CatalogVersion) -> None:
    standard = lic(crm, "standard", "43092.00")
    assert refused(change_plan, crm, standard, "standard", DAY_123_LEFT).code == "nothing_to_change"
    business = lic(site, "business", "35598.00")
    assert refused(change_seats, site, business, 10, DAY_123_LEFT).code == "nothing_to_change"
    # fewer than the free users on a license at the free users: still 10
    assert refused(change_seats, site, business, 3, DAY_123_LEFT).code == "nothing_to_change"


@pytest.mark.parametrize("on", [ENDS, ENDS + timedelta(days=30), STARTS - timedelta(days=1)])
def test_change_outside_the_term(crm: CatalogVersion, site: CatalogVersion, on: date) -> None:
    standard = lic(crm, "standard", "43092.00")
    business = lic(site, "business", "35598.00")
    for error in (
        refused(change_plan, crm, standard, "professional", on),
        refused(add_add_on, crm, standard, "marketplace", on),
        refused(change_seats, site, business, 15, on),
    ):
        assert error.code == "change_outside_term"
        assert error.details["paid_through"] == date(2027, 11, 21)


def test_seats_are_not_sold_on_crm_shop(crm: CatalogVersion) -> None:
    error = refused(change_seats, crm, lic(crm, "basic", "21492.00"), 6, DAY_123_LEFT)
    assert error.code == "seats_not_sold"
    assert error.details["plan"] == "basic"


def test_too_many_users(site: CatalogVersion) -> None:
    business = lic(site, "business", "35598.00")  # at most 100 users
    error = refused(change_seats, site, business, 101, DAY_123_LEFT)
    assert error.code == "too_many_users"
    assert error.details["max_users"] == 100
    checked(change_seats(site, business, 100, STARTS))  # the maximum itself is fine


@pytest.mark.parametrize("seats", [0, -1, True, "12", None])
def test_invalid_seat_counts(site: CatalogVersion, seats: object) -> None:
    business = lic(site, "business", "35598.00")
    assert refused(change_seats, site, business, seats, DAY_123_LEFT).code == "invalid_users"


def test_add_on_not_offered_on_the_new_plan(site: CatalogVersion) -> None:
    # api_access is sold with business and corporate only.
    business = lic(site, "business", "41616.00", add_ons=("api_access",))
    error = refused(change_plan, site, business, "start", DAY_123_LEFT)
    assert error.code == "add_on_not_offered"
    assert (error.details["add_on"], error.details["plan"]) == ("api_access", "start")
    start = lic(site, "start", "15198.00")
    assert refused(add_add_on, site, start, "api_access", DAY_123_LEFT).code == "add_on_not_offered"


def test_unknown_plan_and_add_on(crm: CatalogVersion) -> None:
    standard = lic(crm, "standard", "43092.00")
    assert refused(change_plan, crm, standard, "nope", DAY_123_LEFT).code == "unknown_plan"
    assert refused(add_add_on, crm, standard, "nope", DAY_123_LEFT).code == "unknown_add_on"


def test_upgrade_policy_prorate_on_a_per_user_plan(site: CatalogVersion) -> None:
    # site-platform with upgrade_policy prorate: business 15 users (54 978,00) → corporate
    # (25 free users: 8 990 × 12 × 0,85 = 91 698,00) on 22.07.2027, 123/365 left:
    # credit 54 978 × 123/365 = 6 762 294 / 365 = 18 526,8329… → −18 526,83;
    # charge 91 698 × 123/365 = 11 278 854 / 365 = 30 900,9699… → 30 900,97;
    # due 30 900,97 − 18 526,83 = 12 374,14.
    version = replace(site, upgrade_policy=UpgradePolicy.PRORATE)
    before = lic(version, "business", "54978.00", seats=15)
    change = checked(change_plan(version, before, "corporate", DAY_123_LEFT))
    assert [line.amount for line in change.lines] == [D("-18526.83"), D("30900.97")]
    assert change.amount_due == D("12374.14")
    assert (change.after.seats, change.after.basis) == (25, D("91698.00"))
