"""Property tests (hypothesis) of podpiska.subscriptions.domain.proration over random terms,
days and sequences of changes, on the shipped catalogs:

- seats added under `prorate`: what the term costs in all (its price + every change's
  charge) is the sum over its days of that day's configuration at the daily price, within
  half a kopeck per change line (each line is rounded once);
- upgrades under `prorate`: credit + charge create and lose no money; the basis after is
  the new configuration's term price;
- seats added under `shorten_term`: never a charge, never a later end, and the new end is
  the largest day whose days the value left pays for at the new daily price;
- upgrades under `convert_to_days`: a full period from day t plus the days the value left
  pays for at the new plan's daily price.

The reference amounts are computed here with `Fraction`, from the catalog's monthly prices
and discounts, independently of `term_price`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from podpiska.catalog.domain.catalog import CatalogVersion, SeatPolicy, UpgradePolicy
from podpiska.catalog.domain.pricing import term_price
from podpiska.catalog.loading import load_catalog
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.terms import add_months
from podpiska.subscriptions.domain.proration import (
    Change,
    License,
    add_add_on,
    change_plan,
    change_seats,
)

D = Decimal
CATALOGS = Path(__file__).resolve().parents[3] / "catalogs"
CRM = load_catalog(CATALOGS / "crm-shop.yaml").version("2026.1")
SITE = load_catalog(CATALOGS / "site-platform.yaml").version("2026.1")
SITE_PRORATE = replace(SITE, seat_policy=SeatPolicy.PRORATE)
SITE_ALL_PRORATE = replace(SITE_PRORATE, upgrade_policy=UpgradePolicy.PRORATE)
HALF_KOPECK = Fraction(1, 200)
FIRST_DAY = date(2026, 1, 1)

PROPERTY = settings(max_examples=150, deadline=None)


def exact_term_price(
    version: CatalogVersion, plan_code: str, seats: int, add_ons: tuple[str, ...], months: int
) -> Fraction:
    """The configuration's price for the term, exact (no rounding at all)."""
    plan = version.plan(plan_code)
    factor = (100 - Fraction(version.period(months).discount_percent)) / 100
    price = Fraction(plan.monthly_price) * months * factor
    extra = seats - plan.users_included
    if extra > 0 and plan.extra_user_price is not None:
        price += Fraction(plan.extra_user_price) * extra * months * factor
    for code in add_ons:
        add_on = version.add_on(code)
        price += (
            Fraction(add_on.prices[plan_code]) * months * (factor if add_on.term_discount else 1)
        )
    return price


def checked(change: Change) -> Change:
    assert sum((line.amount for line in change.lines), ZERO) == change.amount_due
    for line in change.lines:
        assert line.amount == line.amount.quantize(D("0.01"))
    return change


@st.composite
def licenses(draw: st.DrawFn, version: CatalogVersion, plans: tuple[str, ...]) -> License:
    """A license at its list term price, on a random term of a period the version offers."""
    plan = version.plan(draw(st.sampled_from(plans)))
    months = draw(st.sampled_from([p.months for p in version.periods]))
    starts_on = FIRST_DAY + timedelta(days=draw(st.integers(0, 2 * 366)))
    limit = plan.user_limit or plan.users_included + 60
    seats = plan.users_included
    if plan.extra_user_price is not None:
        seats = draw(st.integers(plan.users_included, min(limit, plan.users_included + 20)))
    add_ons: tuple[str, ...] = ()
    offered = sorted(code for code, a in version.add_ons.items() if plan.code in a.prices)
    with_add_on = draw(st.booleans())
    if offered and with_add_on:
        add_ons = (draw(st.sampled_from(offered)),)
    return License(
        starts_on=starts_on,
        ends_on=add_months(starts_on, months, starts_on.day),
        months=months,
        plan=plan,
        seats=seats,
        add_ons=add_ons,
        basis=term_price(version, plan, seats, add_ons, months),
        anchor_day=starts_on.day,
    )


def day_in(data: st.DataObject, license_: License, earliest: date) -> date:
    """A day of the term on or after `earliest`."""
    first = max(license_.starts_on, earliest)
    last = license_.ends_on - timedelta(days=1)
    return first + timedelta(days=data.draw(st.integers(0, (last - first).days)))


# --- seats under prorate: the term costs the sum of its days --------------------------------


@PROPERTY
@given(st.data())
def test_prorated_seats_cost_the_sum_of_the_days(data: st.DataObject) -> None:
    version = SITE_PRORATE
    first = data.draw(licenses(version, ("start", "business", "corporate")))
    plan = first.plan
    assert plan.extra_user_price is not None
    term_days = first.days_in_term
    # The original price, by hand: each line of the quote rounded once.
    paid = Fraction(first.basis)
    current, on = first, first.starts_on
    seats_from: list[tuple[date, int]] = [(first.starts_on, first.seats)]
    changes = 0
    for _ in range(data.draw(st.integers(1, 6))):
        limit = plan.user_limit or 500
        if current.seats >= limit:
            break
        on = day_in(data, current, on)
        seats = data.draw(st.integers(current.seats + 1, min(limit, current.seats + 15)))
        change = checked(change_seats(version, current, seats, on))
        assert not change.scheduled
        assert change.amount_due > ZERO
        assert (change.after.starts_on, change.after.ends_on) == (first.starts_on, first.ends_on)
        assert change.after.basis == term_price(version, plan, seats, current.add_ons, first.months)
        paid += Fraction(change.amount_due)
        changes += len(change.lines)
        current = change.after
        seats_from.append((on, seats))
    # Day by day: the plan (and add-on) share of the day, and each paid user above the free
    # ones at the seat's full-term price at the term discount ÷ days in the term.
    factor = (100 - Fraction(version.period(first.months).discount_percent)) / 100
    seat_daily = Fraction(plan.extra_user_price) * first.months * factor / term_days
    base_daily = exact_term_price(version, plan.code, 0, first.add_ons, first.months) / term_days
    owed = Fraction(0)
    for n in range(term_days):
        day = first.starts_on + timedelta(days=n)
        seats_that_day = [s for since, s in seats_from if since <= day][-1]
        owed += base_daily + seat_daily * (seats_that_day - plan.users_included)
    # The original price rounds its lines too: at most half a kopeck each.
    original_lines = 1 + (first.seats > plan.users_included) + len(first.add_ons)
    assert abs(paid - owed) <= HALF_KOPECK * (changes + original_lines)


# --- upgrades (and seats, add-ons) under prorate: no money created or lost ------------------


@PROPERTY
@given(st.data(), st.sampled_from(["crm", "site"]))
def test_prorated_changes_create_and_lose_no_money(data: st.DataObject, which: str) -> None:
    version = CRM if which == "crm" else SITE_ALL_PRORATE
    first = data.draw(licenses(version, tuple(version.plans)))
    term_days = first.days_in_term
    paid = Fraction(first.basis)
    owed = Fraction(0)
    current, since = first, first.starts_on
    lines = 0
    for _ in range(data.draw(st.integers(1, 5))):
        on = day_in(data, current, since)
        kind = data.draw(st.sampled_from(["plan", "seats", "add_on"]))
        try:
            if kind == "plan":
                target = data.draw(st.sampled_from(sorted(version.plans)))
                change = change_plan(version, current, target, on)
            elif kind == "seats":
                change = change_seats(
                    version, current, current.seats + data.draw(st.integers(1, 9)), on
                )
            else:
                code = data.draw(st.sampled_from(sorted(version.add_ons)))
                change = add_add_on(version, current, code, on)
        except DomainError as error:
            assert error.code in {
                "nothing_to_change",
                "seats_not_sold",
                "too_many_users",
                "add_on_not_offered",
                "duplicate_add_on",
            }
            continue
        checked(change)
        if change.scheduled:  # a cheaper plan: nothing now
            assert change.lines == ()
            assert change.after == current
            continue
        after = change.after
        assert (after.starts_on, after.ends_on) == (first.starts_on, first.ends_on)
        new_price = term_price(version, after.plan, after.seats, after.add_ons, after.months)
        assert after.basis == new_price
        if kind == "plan":
            left = current.days_left(on)
            credit, charge = change.lines
            # −(what the old configuration was paid for the days left), + the new one for them
            assert abs(Fraction(credit.amount) + Fraction(current.basis) * left / term_days) <= (
                HALF_KOPECK
            )
            assert abs(Fraction(charge.amount) - Fraction(new_price) * left / term_days) <= (
                HALF_KOPECK
            )
            assert change.amount_due > ZERO
        # The days before `on` were lived on the old configuration.
        owed += Fraction(current.basis) * (on - since).days / term_days
        paid += Fraction(change.amount_due)
        lines += len(change.lines)
        current, since = after, on
    owed += Fraction(current.basis) * (first.ends_on - since).days / term_days
    assert abs(paid - owed) <= HALF_KOPECK * lines


# --- seats under shorten_term ------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_shorten_term_never_charges_nor_extends(data: st.DataObject) -> None:
    version = SITE
    current = data.draw(licenses(version, ("start", "business", "corporate")))
    on = current.starts_on
    for _ in range(data.draw(st.integers(1, 5))):
        limit = current.plan.user_limit or 500
        if current.seats >= limit or on >= current.ends_on:
            break
        on = day_in(data, current, on)
        seats = data.draw(st.integers(current.seats + 1, min(limit, current.seats + 30)))
        change = checked(change_seats(version, current, seats, on))
        after = change.after
        assert change.amount_due == ZERO
        assert all(line.amount == ZERO for line in change.lines)
        assert after.starts_on == current.starts_on
        assert on < after.ends_on <= current.ends_on
        assert after.seats == seats
        # The largest whole number of days the value left pays for at the new daily price,
        # a day priced over the period bought (never over a term already shortened).
        assert after.period_days == current.period_days
        value_left = Fraction(current.basis) * current.days_left(
            on
        ) / current.period_days + Fraction(current.carry)
        new_daily = (
            Fraction(term_price(version, current.plan, seats, current.add_ons, current.months))
            / current.period_days
        )
        days = (after.ends_on - on).days
        # Under a day of value left keeps the day of the change (see test_proration.py).
        ratio = value_left / new_daily
        if ratio >= 1:
            assert new_daily * days <= value_left < new_daily * (days + 1)
            # what is left over is carried to the next recount
            assert abs(Fraction(after.carry) - (value_left - new_daily * days)) <= HALF_KOPECK
        current = after


# --- upgrades under convert_to_days --------------------------------------------------------


@PROPERTY
@given(st.data())
def test_convert_to_days_adds_the_days_the_value_left_pays_for(data: st.DataObject) -> None:
    version = SITE
    before = data.draw(licenses(version, tuple(version.plans)))
    on = day_in(data, before, before.starts_on)
    target = data.draw(st.sampled_from(sorted(version.plans)))
    try:
        change = checked(change_plan(version, before, target, on))
    except DomainError as error:
        assert error.code in {"nothing_to_change", "add_on_not_offered"}
        return
    assume(not change.scheduled)
    after = change.after
    new_price = term_price(version, after.plan, after.seats, after.add_ons, before.months)
    assert change.amount_due == new_price
    period_end = add_months(on, before.months, on.day)
    assert after.starts_on == on
    assert after.ends_on >= period_end
    value_left = Fraction(before.basis) * before.days_left(on) / before.period_days
    new_daily = Fraction(new_price) / (period_end - on).days
    extra = (after.ends_on - period_end).days
    assert new_daily * extra <= value_left < new_daily * (extra + 1)
    # The new term: the new period's price as its basis, a day priced over that period, and
    # what the value left pays for less than a day of carried to the next recount.
    assert after.basis == new_price
    assert after.period_days == (period_end - on).days
    assert abs(Fraction(after.carry) - (value_left - new_daily * extra)) <= HALF_KOPECK


@pytest.mark.parametrize("months", [1, 3, 6, 12])
def test_convert_to_days_on_the_first_day_gives_the_old_term_as_days(months: int) -> None:
    # The whole old term left: every day of it (less than one) comes back as new days.
    plan = SITE.plan("start")
    starts_on = date(2026, 11, 22)
    before = License(
        starts_on=starts_on,
        ends_on=add_months(starts_on, months, 22),
        months=months,
        plan=plan,
        seats=3,
        add_ons=(),
        basis=term_price(SITE, plan, 3, (), months),
        anchor_day=22,
    )
    change = checked(change_plan(SITE, before, "business", starts_on))
    assert change.after.ends_on > before.ends_on


# --- a sequence of recounts gives the days of pricing them all at once ----------------------


@PROPERTY
@given(st.data())
def test_recounts_give_the_days_of_pricing_all_changes_at_once(data: st.DataObject) -> None:
    """Seats added under `shorten_term` (and upgrades under `convert_to_days`), any number of
    times: the end is the one found by pricing the whole history at once (the money paid
    for the term, less each configuration's days at its daily price, the rest turned into
    days at the last configuration's daily price), within one day."""
    version = SITE
    first = data.draw(licenses(version, tuple(version.plans)))
    current, on = first, first.starts_on
    # The history, exact: the money paid for the current term, what it has spent, since when.
    paid = Fraction(first.basis)
    spent = Fraction(0)
    term_start, period_days = first.starts_on, first.period_days
    daily = Fraction(first.basis) / period_days
    since = first.starts_on
    changed = False
    for _ in range(data.draw(st.integers(1, 6))):
        if on >= current.ends_on - timedelta(days=1):
            break
        on = day_in(data, current, on + timedelta(days=1) if changed else on)
        kind = data.draw(st.sampled_from(["seats", "plan"]))
        try:
            if kind == "seats":
                limit = current.plan.user_limit or 500
                seats = min(limit, current.seats + data.draw(st.integers(1, 30)))
                change = change_seats(version, current, seats, on)
            else:
                target = data.draw(st.sampled_from(sorted(version.plans)))
                change = change_plan(version, current, target, on)
        except DomainError as error:
            assert error.code in {"nothing_to_change", "add_on_not_offered", "too_many_users"}
            continue
        checked(change)
        if change.scheduled:
            continue
        after = change.after
        spent += daily * (on - since).days
        left = paid - spent
        new_daily = Fraction(after.basis) / after.period_days
        # Under a day of value left keeps the day of the change: a gift, not a recount.
        assume(left >= new_daily)
        if kind == "plan":  # convert_to_days: a new period bought from `on`, the rest carried
            paid, spent = Fraction(change.amount_due) + left, Fraction(0)
            term_start = on
        changed = True
        daily, since, current = new_daily, on, after
        # All at once: the days the money not yet spent pays for at today's daily price.
        exact_end = since + timedelta(days=int((paid - spent) // daily))
        assert exact_end - timedelta(days=1) <= current.ends_on <= exact_end
        assert current.starts_on == term_start
    assume(changed)
