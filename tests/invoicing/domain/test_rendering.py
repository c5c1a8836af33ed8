"""Service rendered by period (invoicing/domain/rendering.py, issue 16 item 1): worked
examples by hand, then properties (hypothesis) over any start, term, and amounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.core.domain.money import ZERO
from podpiska.core.domain.terms import add_months
from podpiska.invoicing.domain.rendering import (
    Period,
    RenderBy,
    Schedule,
    ServiceLine,
    before,
    cut,
    move_end,
    remaining,
    render_schedule,
    rendered_by,
    services_of,
    take_back,
)

D = Decimal


def _rows(schedule: Schedule) -> list[tuple[str, str, int, str, str]]:
    return [
        (
            p.first_day.strftime("%d.%m.%Y"),
            p.last_day.strftime("%d.%m.%Y"),
            p.days,
            str(p.amount),
            str(p.vat),
        )
        for p in schedule.periods
    ]


# The audit's order: 12 months from 23.12.2026 for 43 092,00 ₽ incl. VAT 22 %
# (43 092 × 22 / 122 = 7 770,688… → 7 770,69). 365 days; each period but the last is
# round(43 092 × days / 365), round(7 770,69 × days / 365); the last takes the remainder.
ORDER = ServiceLine("Тариф «Бизнес», 12 мес.", D("43092.00"), D("7770.69"))
ORDER_TABLE = [
    ("23.12.2026", "31.12.2026", 9, "1062.54", "191.61"),
    ("01.01.2027", "31.01.2027", 31, "3659.87", "659.98"),
    ("01.02.2027", "28.02.2027", 28, "3305.69", "596.11"),
    ("01.03.2027", "31.03.2027", 31, "3659.87", "659.98"),
    ("01.04.2027", "30.04.2027", 30, "3541.81", "638.69"),
    ("01.05.2027", "31.05.2027", 31, "3659.87", "659.98"),
    ("01.06.2027", "30.06.2027", 30, "3541.81", "638.69"),
    ("01.07.2027", "31.07.2027", 31, "3659.87", "659.98"),
    ("01.08.2027", "31.08.2027", 31, "3659.87", "659.98"),
    ("01.09.2027", "30.09.2027", 30, "3541.81", "638.69"),
    ("01.10.2027", "31.10.2027", 31, "3659.87", "659.98"),
    ("01.11.2027", "30.11.2027", 30, "3541.81", "638.69"),
    ("01.12.2027", "22.12.2027", 22, "2597.31", "468.33"),
]


def _order() -> Schedule:
    return render_schedule(date(2026, 12, 23), date(2027, 12, 23), [ORDER])


def test_the_12_month_order_from_23_12_2026_by_hand() -> None:
    schedule = _order()
    assert _rows(schedule) == ORDER_TABLE
    # 1 062,54 + 6 × 3 659,87 + 3 305,69 + 4 × 3 541,81 = 40 494,69; 43 092 − that = 2 597,31
    assert D("1062.54") + 6 * D("3659.87") + D("3305.69") + 4 * D("3541.81") == D("40494.69")
    assert D("43092.00") - D("40494.69") == D("2597.31")
    # VAT: 191,61 + 6 × 659,98 + 596,11 + 4 × 638,69 = 7 302,36; the last 468,33
    assert D("191.61") + 6 * D("659.98") + D("596.11") + 4 * D("638.69") == D("7302.36")
    assert sum(D(r[3]) for r in ORDER_TABLE) == D("43092.00") == schedule.amount
    assert sum(D(r[4]) for r in ORDER_TABLE) == D("7770.69") == schedule.vat
    assert sum(r[2] for r in ORDER_TABLE) == 365
    assert [p.rendered_on for p in schedule.periods] == [p.last_day for p in schedule.periods]


def test_a_one_month_term_inside_one_calendar_month() -> None:
    schedule = render_schedule(date(2027, 2, 1), date(2027, 3, 1), [ORDER])
    assert _rows(schedule) == [("01.02.2027", "28.02.2027", 28, "43092.00", "7770.69")]


def test_a_term_starting_on_the_1st_is_twelve_whole_months() -> None:
    # 3 990 × 12 = 47 880,00 incl. VAT 8 634,10; 365 days: 31 days → 4 066,52, 30 → 3 935,34,
    # 28 → 3 672,99; 6 × 4 066,52 + 4 × 3 935,34 + 3 672,99 = 43 813,47 (Jan–Nov) → Dec 4 066,53
    line = ServiceLine("plan", D("47880.00"), D("8634.10"))
    schedule = render_schedule(date(2027, 1, 1), date(2028, 1, 1), [line])
    assert [p.first_day for p in schedule.periods] == [date(2027, m, 1) for m in range(1, 13)]
    monthly = ["4066.52", "3672.99", "4066.52", "3935.34", "4066.52", "3935.34"]
    monthly += ["4066.52", "4066.52", "3935.34", "4066.52", "3935.34", "4066.53"]
    assert [p.amount for p in schedule.periods] == [D(a) for a in monthly]
    assert 6 * D("4066.52") + 4 * D("3935.34") + D("3672.99") == D("43813.47")
    assert schedule.periods[-1].vat == D("733.30")  # 8 634,10 − 11 rounded shares
    assert schedule.amount == D("47880.00")
    assert schedule.vat == D("8634.10")


def test_february_of_a_leap_year() -> None:
    # 15.02.2028–14.03.2028: 29 days, 15 in February (29 days in 2028) and 14 in March;
    # 2 900 × 15 / 29 = 1 500,00 exactly; VAT 522,95 × 15 / 29 = 270,491… → 270,49
    line = ServiceLine("plan", D("2900.00"), D("522.95"))
    schedule = render_schedule(date(2028, 2, 15), date(2028, 3, 15), [line])
    assert _rows(schedule) == [
        ("15.02.2028", "29.02.2028", 15, "1500.00", "270.49"),
        ("01.03.2028", "14.03.2028", 14, "1400.00", "252.46"),
    ]


def test_a_term_of_24_months() -> None:
    # 02.01.2027–01.01.2029: 731 days (2028 is leap), 25 periods: January 2027 from the 2nd
    # (30 days: 86 184 × 30 / 731 = 3 536,963… → 3 536,96) to 01.01.2029 (1 day).
    line = ServiceLine("plan", D("86184.00"), D("15541.38"))
    schedule = render_schedule(date(2027, 1, 2), add_months(date(2027, 1, 2), 24, 2), [line])
    assert len(schedule.periods) == 25
    assert sum(p.days for p in schedule.periods) == 731
    first, last = schedule.periods[0], schedule.periods[-1]
    assert (first.first_day, first.last_day, first.amount) == (
        date(2027, 1, 2),
        date(2027, 1, 31),
        D("3536.96"),
    )
    # 86 184 / 731 = 117,898…; the 24 rounded periods before leave 117,95 to the last day
    assert (last.first_day, last.last_day, last.days, last.amount) == (
        date(2029, 1, 1),
        date(2029, 1, 1),
        1,
        D("117.95"),
    )
    feb_2028 = next(p for p in schedule.periods if p.first_day == date(2028, 2, 1))
    assert (feb_2028.days, feb_2028.amount) == (29, D("3419.06"))  # 86 184 × 29 / 731 = 3 419,064…
    assert (schedule.amount, schedule.vat) == (D("86184.00"), D("15541.38"))


def test_a_tiny_amount_never_leaves_a_negative_last_month() -> None:
    # 0,07 over 365 days: 0,07 × 28..31 / 365 = 0,0054..0,0059 → 0,01 for each of the 11 whole
    # months: 0,11 > 0,07, the last would get −0,04. So this line is shared cumulatively:
    # round(0,07 × days so far / 365) at each month's end: 9 → 0,00; 40 → 0,01; 68 → 0,01;
    # 99 → 0,02; 129 → 0,02; 160 → 0,03; 190 → 0,04; 221 → 0,04; 252 → 0,05; 282 → 0,05;
    # 313 → 0,06; 343 → 0,07; 365 → 0,07, and each month gets the difference.
    tiny = ServiceLine("x", D("0.07"))
    schedule = render_schedule(date(2026, 12, 23), date(2027, 12, 23), [tiny])
    amounts = [p.amount for p in schedule.periods]
    kopecks_each = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0]
    assert amounts == [D(k) / 100 for k in kopecks_each]
    assert sum(amounts) == D("0.07")
    # a normal amount in the same schedule keeps the per-period rule
    both = render_schedule(date(2026, 12, 23), date(2027, 12, 23), [tiny, ORDER])
    assert [p.shares[1].amount for p in both.periods] == [D(r[3]) for r in ORDER_TABLE]


def test_by_term_is_one_period_rendered_on_the_last_day() -> None:
    schedule = render_schedule(date(2026, 12, 23), date(2027, 12, 23), [ORDER], by="term")
    assert schedule.by is RenderBy.TERM
    assert _rows(schedule) == [("23.12.2026", "22.12.2027", 365, "43092.00", "7770.69")]


def test_several_lines_each_sum_to_their_amount() -> None:
    lines = [ServiceLine("plan", D("36000.00"), D("6491.80")), ServiceLine("users", D("7092.00"))]
    schedule = render_schedule(date(2026, 12, 23), date(2027, 12, 23), lines)
    for j, line in enumerate(lines):
        assert sum(p.shares[j].amount for p in schedule.periods) == line.amount
        assert sum(p.shares[j].vat for p in schedule.periods) == line.vat
    assert schedule.amount == D("43092.00")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="end after"):
        render_schedule(date(2027, 1, 1), date(2027, 1, 1), [ORDER])
    with pytest.raises(ValueError, match="kopecks"):
        ServiceLine("x", D("1.005"))
    with pytest.raises(ValueError, match="kopecks"):
        ServiceLine("x", D("-1.00"))
    with pytest.raises(ValueError, match="own key"):
        render_schedule(date(2027, 1, 1), date(2027, 2, 1), [ORDER, ORDER])
    with pytest.raises(ValueError):
        render_schedule(date(2027, 1, 1), date(2027, 2, 1), [ORDER], by="week")
    with pytest.raises(ValueError, match="outside the term"):
        cut(_order(), date(2027, 12, 23), [])


def test_rendered_by_the_month_end() -> None:
    schedule = _order()
    rendered, deferred = rendered_by(schedule, date(2027, 1, 30))
    assert [p.last_day for p in rendered] == [date(2026, 12, 31)]
    assert len(deferred) == 12
    rendered, deferred = rendered_by(schedule, date(2027, 1, 31))
    assert [p.amount for p in rendered] == [D("1062.54"), D("3659.87")]
    assert sum(p.amount for p in deferred) == D("38369.59")  # 43 092 − 4 722,41 deferred
    assert rendered_by(schedule, date(2026, 12, 22)) == ((), schedule.periods)


def test_an_upgrade_on_16_03_2027_changes_the_rest_never_the_past() -> None:
    schedule = _order()
    day = date(2027, 3, 16)
    # March's first 15 days at the old lines: 3 659,87 × 15 / 31 = 1 770,904… → 1 770,90
    kept = before(schedule, day)
    assert _rows(Schedule(schedule.starts_on, schedule.ends_on, schedule.by, kept)) == [
        *ORDER_TABLE[:3],
        ("01.03.2027", "15.03.2027", 15, "1770.90", "319.35"),
    ]
    # 43 092 − (1 062,54 + 3 659,87 + 3 305,69 + 1 770,90 = 9 799,00) = 33 293,00 left
    left = remaining(schedule, day)
    assert left == (ServiceLine(ORDER.key, D("33293.00"), D("6003.64")),)
    # the upgrade: the rest at the old lines plus the change's charge for the new tariff
    new = [*left, ServiceLine("Переход на «Корпоративный»", D("12000.00"), D("2163.93"))]
    changed = cut(schedule, day, new)
    assert changed.periods[:3] == schedule.periods[:3]
    assert changed.periods[3].last_day == date(2027, 3, 15)
    assert changed.periods[4].first_day == day
    assert changed.periods[4].last_day == date(2027, 3, 31)
    assert len(changed.periods) == 14
    assert changed.amount == D("9799.00") + D("33293.00") + D("12000.00")


def test_a_suspension_renders_nothing_from_its_day() -> None:
    schedule = _order()
    day = date(2027, 6, 1)  # on a month's first day: nothing to split
    suspended = cut(schedule, day, [ServiceLine(ORDER.key, ZERO)])
    assert suspended.periods[:6] == schedule.periods[:6]
    assert all(p.amount == 0 for p in suspended.periods[6:])
    assert suspended.amount == sum((p.amount for p in schedule.periods[:6]), ZERO)


def test_a_credit_note_takes_back_part_of_the_rest() -> None:
    schedule = _order()
    day = date(2027, 9, 10)
    (left,) = remaining(schedule, day)
    credited = cut(schedule, day, [ServiceLine(left.key, left.amount - D("5000.00"), left.vat)])
    assert credited.amount == D("43092.00") - D("5000.00")


# Properties -------------------------------------------------------------------------------

kopecks = st.integers(min_value=0, max_value=10**11).map(lambda k: Decimal(k) / 100)
lines_st = st.lists(st.tuples(kopecks, kopecks), min_size=1, max_size=4).map(
    lambda pairs: [ServiceLine(f"line {i}", a, v) for i, (a, v) in enumerate(pairs)]
)
starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))
months = st.integers(min_value=1, max_value=24)
bys = st.sampled_from([RenderBy.MONTH, RenderBy.TERM])


def _schedule(start: date, n: int, lines: list[ServiceLine], by: RenderBy) -> Schedule:
    return render_schedule(start, add_months(start, n, start.day), lines, by)


def _check_exact(periods: tuple[Period, ...], start: date, end: date) -> None:
    assert periods[0].first_day == start
    assert periods[-1].last_day == end - timedelta(days=1)
    for a, b in pairwise(periods):
        assert b.first_day == a.last_day + timedelta(days=1)
    for p in periods:
        assert p.first_day <= p.last_day
        assert all(s.amount >= 0 and s.vat >= 0 for s in p.shares)


@settings(max_examples=300, deadline=None)
@given(starts, months, lines_st, bys)
def test_periods_cover_the_term_and_shares_sum_exactly(
    start: date, n: int, lines: list[ServiceLine], by: RenderBy
) -> None:
    schedule = _schedule(start, n, lines, by)
    _check_exact(schedule.periods, schedule.starts_on, schedule.ends_on)
    if by is RenderBy.MONTH:
        assert all(
            (p.first_day.year, p.first_day.month) == (p.last_day.year, p.last_day.month)
            for p in schedule.periods
        )
    for j, line in enumerate(lines):
        assert sum((p.shares[j].amount for p in schedule.periods), ZERO) == line.amount
        assert sum((p.shares[j].vat for p in schedule.periods), ZERO) == line.vat


@settings(max_examples=200, deadline=None)
@given(starts, months, lines_st, st.integers(min_value=-40, max_value=800))
def test_rendered_by_partitions(start: date, n: int, lines: list[ServiceLine], k: int) -> None:
    schedule = _schedule(start, n, lines, RenderBy.MONTH)
    day = start + timedelta(days=k)
    rendered, deferred = rendered_by(schedule, day)
    assert rendered + deferred == schedule.periods
    assert all(p.last_day <= day for p in rendered)
    assert all(p.last_day > day for p in deferred)


@settings(max_examples=300, deadline=None)
@given(starts, months, lines_st, bys, st.integers(min_value=0, max_value=800), lines_st)
def test_cut_keeps_the_past_and_the_totals_exact(
    start: date,
    n: int,
    lines: list[ServiceLine],
    by: RenderBy,
    k: int,
    new: list[ServiceLine],
) -> None:
    schedule = _schedule(start, n, lines, by)
    day = start + timedelta(days=k % (schedule.ends_on - start).days)
    kept = before(schedule, day)
    left = remaining(schedule, day)
    # before + remaining = the schedule, line by line
    for j, line in enumerate(lines):
        done = sum((p.shares[j].amount for p in kept), ZERO)
        done_vat = sum((p.shares[j].vat for p in kept), ZERO)
        assert done + left[j].amount == line.amount
        assert done_vat + left[j].vat == line.vat
        assert left[j].amount >= 0
        assert left[j].vat >= 0
    changed = cut(schedule, day, new)
    whole_before = tuple(p for p in schedule.periods if p.last_day < day)
    assert changed.periods[: len(whole_before)] == whole_before
    _check_exact(changed.periods, schedule.starts_on, schedule.ends_on)
    rest = tuple(p for p in changed.periods if p.first_day >= day)
    assert rest[0].first_day == day
    assert changed.periods == kept + rest
    for j, line in enumerate(new):
        assert sum((p.shares[j].amount for p in rest), ZERO) == line.amount
        assert sum((p.shares[j].vat for p in rest), ZERO) == line.vat
    assert changed.amount == sum((p.amount for p in kept), ZERO) + sum(
        (line.amount for line in new), ZERO
    )


# -- services_of and take_back (the month-end run's rules) -----------------------------------


def test_a_change_invoice_renders_its_services_less_the_unused_balance() -> None:
    # The upgrade of docs/changes.md: 29 079,22 ₽ for Professional less 14 521,41 ₽ unused of
    # Standard = 14 557,81 ₽ incl. VAT 2 625,18 ₽: one service, the credit deducted.
    (line,) = services_of(
        [("1", D("-14521.41")), ("2", D("29079.22"))], D("14557.81"), D("2625.18")
    )
    assert line == ServiceLine("2", D("14557.81"), D("2625.18"))


def test_services_of_refuses_a_negative_invoice_and_money_without_a_service() -> None:
    with pytest.raises(ValueError, match="total ≥ 0"):
        services_of([("1", D("-5.00"))], D("-5.00"), ZERO)
    with pytest.raises(ValueError, match="no service line"):
        services_of([("1", D("-5.00"))], D("5.00"), ZERO)
    assert services_of([], ZERO, ZERO) == ()


amounts = st.integers(min_value=0, max_value=10_000_000).map(lambda k: D(k) / 100)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=-5_000_000, max_value=5_000_000), min_size=1, max_size=6),
    amounts,
    st.integers(min_value=0, max_value=22),
)
def test_services_of_sums_exactly_and_is_never_negative(
    kopecks: list[int], total: Decimal, rate: int
) -> None:
    lines = [(str(i), D(k) / 100) for i, k in enumerate(kopecks)]
    vat = (total * rate / (100 + rate)).quantize(D("0.01"))
    if not any(amount > 0 for _, amount in lines):
        return
    services = services_of(lines, total, vat)
    assert sum((s.amount for s in services), ZERO) == total
    assert sum((s.vat for s in services), ZERO) == vat
    assert all(s.amount >= 0 and s.vat >= 0 for s in services)


@settings(max_examples=300, deadline=None)
@given(starts, months, lines_st, st.integers(min_value=-40, max_value=800), amounts)
def test_take_back_never_touches_before_its_day_and_is_exact(
    start: date, n: int, lines: list[ServiceLine], k: int, amount: Decimal
) -> None:
    schedule = _schedule(start, n, lines, RenderBy.MONTH)
    day = start + timedelta(days=k)
    left = (
        sum((line.amount for line in remaining(schedule, max(day, start))), ZERO)
        if day < schedule.ends_on
        else ZERO
    )
    result = take_back(schedule, day, amount)
    assert result.taken == min(amount, left)
    assert result.taken + result.uncovered == amount
    if result.schedule is None:
        assert day >= schedule.ends_on
        return
    changed = result.schedule
    assert changed.amount == schedule.amount - result.taken
    assert changed.vat == schedule.vat - result.taken_vat
    assert result.taken_vat >= 0
    whole_before = tuple(p for p in schedule.periods if p.last_day < day)
    assert changed.periods[: len(whole_before)] == whole_before
    _check_exact(changed.periods, schedule.starts_on, schedule.ends_on)
    assert all(s.amount >= 0 and s.vat >= 0 for p in changed.periods for s in p.shares)


def test_take_back_everything_from_the_10th_of_february() -> None:
    schedule = _order()
    result = take_back(schedule, date(2027, 2, 10), schedule.amount)
    assert result.schedule is not None
    kept = [p for p in result.schedule.periods if p.amount]
    # 23.12.2026–09.02.2027 stays: December, January and 9 days of February (by hand:
    # 3 305,69 × 9 / 28 = 1 062,5432… → 1 062,54).
    assert [(p.first_day, p.last_day, p.amount) for p in kept] == [
        (date(2026, 12, 23), date(2026, 12, 31), D("1062.54")),
        (date(2027, 1, 1), date(2027, 1, 31), D("3659.87")),
        (date(2027, 2, 1), date(2027, 2, 9), D("1062.54")),
    ]
    # What was rendered before the 10th cannot be taken: it is uncovered (a УКД's work).
    assert result.uncovered == D("1062.54") + D("3659.87") + D("1062.54") == D("5784.95")
    assert result.taken == D("43092.00") - D("5784.95")


def test_a_moved_end_re_splits_what_is_left_from_the_day_over_the_new_dates() -> None:
    # 35 598,00 ₽ (VAT 6 419,34 ₽) over 22.11.2026 – 21.11.2027; on 06.05.2027 the end moves
    # to 09.08.2027 (exclusive). Left at the day: 35 598,00 − 15 604,60 (22.11 – 30.04) −
    # 487,64 (01.05 – 05.05: 3 023,39 × 5/31) = 19 505,76 ₽, over 95 days: May 26 days
    # 5 338,42, June 6 159,71, July 6 365,04, August (8 days) the rest 1 642,59.
    schedule = render_schedule(
        date(2026, 11, 22),
        date(2027, 11, 22),
        [ServiceLine("1", Decimal("35598.00"), Decimal("6419.34"))],
    )
    day, new_end = date(2027, 5, 6), date(2027, 8, 9)
    moved = move_end(schedule, day, new_end)
    assert moved.ends_on == new_end and moved.periods[-1].last_day == date(2027, 8, 8)
    assert moved.amount == schedule.amount and moved.vat == schedule.vat
    kept = before(schedule, day)
    assert moved.periods[: len(kept)] == kept
    rest = moved.periods[len(kept) :]
    assert [(p.first_day, p.last_day, p.amount) for p in rest] == [
        (date(2027, 5, 6), date(2027, 5, 31), Decimal("5338.42")),
        (date(2027, 6, 1), date(2027, 6, 30), Decimal("6159.71")),
        (date(2027, 7, 1), date(2027, 7, 31), Decimal("6365.04")),
        (date(2027, 8, 1), date(2027, 8, 8), Decimal("1642.59")),
    ]
    left = remaining(schedule, day)[0]
    assert sum((p.amount for p in rest), ZERO) == left.amount == Decimal("19505.76")
    assert sum((p.vat for p in rest), ZERO) == left.vat  # the VAT in proportion, exact
    # Longer too (a dearer plan converted to days): the rest over a later end.
    longer = move_end(schedule, day, date(2028, 7, 1))
    assert longer.amount == schedule.amount and longer.periods[-1].last_day == date(2028, 6, 30)


def test_a_moved_end_of_a_term_rendered_by_term_re_dates_its_one_period() -> None:
    schedule = render_schedule(
        date(2026, 11, 22), date(2027, 11, 22), [ServiceLine("1", Decimal("100.00"))], "term"
    )
    moved = move_end(schedule, date(2027, 5, 6), date(2027, 8, 9))
    ((first, last, amount),) = [(p.first_day, p.last_day, p.amount) for p in moved.periods]
    assert (first, last, amount) == (date(2026, 11, 22), date(2027, 8, 8), Decimal("100.00"))
