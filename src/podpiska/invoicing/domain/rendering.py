"""Service rendered by period (issue 16, item 1): the pure rule, no database.

A paid term [starts_on, ends_on) (end exclusive, as `core.domain.terms.Term`) is rendered
month by month by default: each calendar month's part of the term is a period (the first
and the last may be partial), rendered on its last day. Each service line of the invoice
(its amount as the invoice stores it, and its VAT) is shared over the periods by days.

**Rounding.** Each period's share of a line is `round_money(amount × period days / term
days)`, and the last period takes the remainder, so the shares sum exactly to the line's
amount (and the VAT shares to its VAT), and months of equal length read equal amounts (what
an accountant checks). The rounding of the earlier periods may drift by up to half a kopeck
each: for a tiny amount (0,07 ₽ over the twelve months from 23.12.2026 rounds to 0,01 ₽
for each of the eleven whole months) the remainder would be negative (−0,04 ₽). Then, and
only then, that line is shared by cumulative rounding instead (each period gets the rounded
amount rendered by its last day minus the rounded amount rendered before it began): every
share ≥ 0, the last still takes the remainder.

`by="term"` renders the whole term as one period, on its last day.

**Mid-term changes** (`cut`): a change, suspension or credit note changes what is rendered
from its day on, never back. The periods that end before the day stay as they were (their
closing documents may already be issued and are never changed); the period containing the
day is split at it: its part before the day keeps its own lines, shared by days within the
period; the rest of the term is re-split from the new amounts. So rendered before the day
+ the new rest = exactly what the caller says is owed. A correction of a period already
rendered is a corrective document (issue 16, item 4), never a cut.

Not built on this yet: the month-end run, the УПД, the link from invoices and changes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import accumulate

from podpiska.core.domain.money import ZERO, is_money, round_money
from podpiska.core.domain.terms import ONE_DAY, Term


class RenderBy(StrEnum):
    """How a term is rendered: month by month (the default) or the whole term at its end."""

    MONTH = "month"
    TERM = "term"


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A service of an invoice: its key (code or description), its amount as the invoice line
    stores it, and its VAT (in the amount or on top of it: the rule shares both alike)."""

    key: str
    amount: Decimal
    vat: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("amount", "vat"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not is_money(value) or value < 0:
                raise ValueError(f"{name} of {self.key!r} must be kopecks ≥ 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Period:
    """[first_day, last_day] (both inside) and each line's share of it."""

    first_day: date
    last_day: date
    shares: tuple[ServiceLine, ...]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def rendered_on(self) -> date:
        """The day the period is rendered: its last day (the closing document's date)."""
        return self.last_day

    @property
    def amount(self) -> Decimal:
        return sum((s.amount for s in self.shares), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((s.vat for s in self.shares), ZERO)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A term's periods, contiguous from `starts_on` to `ends_on` (exclusive)."""

    starts_on: date
    ends_on: date
    by: RenderBy
    periods: tuple[Period, ...]

    @property
    def amount(self) -> Decimal:
        return sum((p.amount for p in self.periods), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((p.vat for p in self.periods), ZERO)


def month_bounds(starts_on: date, ends_on: date, by: RenderBy) -> list[tuple[date, date]]:
    """The periods' [first, last] days of [starts_on, ends_on): calendar months, or one."""
    last_inside = ends_on - ONE_DAY
    if by is RenderBy.TERM:
        return [(starts_on, last_inside)]
    bounds = []
    first = starts_on
    while first <= last_inside:
        month_end = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        last = min(month_end, last_inside)
        bounds.append((first, last))
        first = last + ONE_DAY
    return bounds


def _shares(total: Decimal, days: Sequence[int]) -> list[Decimal]:
    """`total` over parts of `days` days: each part but the last rounded on its own, the
    last takes the remainder; cumulative rounding when that remainder would be negative."""
    whole = sum(days)
    shares = [round_money(total * d / whole) for d in days[:-1]]
    last = total - sum(shares, ZERO)
    if last >= 0:
        return [*shares, last]
    upto = [round_money(total * done / whole) for done in accumulate(days[:-1])]
    return [b - a for a, b in zip([ZERO, *upto], [*upto, total], strict=True)]


def _split(lines: Sequence[ServiceLine], bounds: Sequence[tuple[date, date]]) -> tuple[Period, ...]:
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise ValueError(f"each line needs its own key: {keys}")
    days = [(last - first).days + 1 for first, last in bounds]
    amounts = [_shares(line.amount, days) for line in lines]
    vats = [_shares(line.vat, days) for line in lines]
    return tuple(
        Period(
            first,
            last,
            tuple(ServiceLine(line.key, amounts[j][i], vats[j][i]) for j, line in enumerate(lines)),
        )
        for i, (first, last) in enumerate(bounds)
    )


def render_schedule(
    start: date,
    end: date,
    lines: Iterable[ServiceLine],
    by: RenderBy | str = RenderBy.MONTH,
) -> Schedule:
    """The term [start, end) (end exclusive) rendered by month or as a whole, with each
    line's share of each period by days, exact in kopecks."""
    term = Term(start, end)
    how = RenderBy(by)
    periods = _split(tuple(lines), month_bounds(term.starts_on, term.ends_on, how))
    return Schedule(term.starts_on, term.ends_on, how, periods)


def rendered_by(schedule: Schedule, day: date) -> tuple[tuple[Period, ...], tuple[Period, ...]]:
    """(rendered, deferred): the periods whose last day is on or before `day`, and the rest.
    A period not yet rendered gets no closing document."""
    rendered = tuple(p for p in schedule.periods if p.last_day <= day)
    return rendered, schedule.periods[len(rendered) :]


def _check_day(schedule: Schedule, day: date) -> None:
    if not schedule.starts_on <= day < schedule.ends_on:
        raise ValueError(
            f"{day} is outside the term {schedule.starts_on} – {schedule.ends_on} (exclusive)"
        )


def _head(period: Period, day: date) -> Period:
    """The part of `period` before `day` (first_day < day ≤ last_day), its lines by days."""
    head_days = (day - period.first_day).days
    return Period(
        period.first_day,
        day - ONE_DAY,
        tuple(
            ServiceLine(
                s.key,
                round_money(s.amount * head_days / period.days),
                round_money(s.vat * head_days / period.days),
            )
            for s in period.shares
        ),
    )


def before(schedule: Schedule, day: date) -> tuple[Period, ...]:
    """What stays of `schedule` when it is cut at `day`: the periods that end before it and
    the part before it of the period containing it."""
    _check_day(schedule, day)
    kept: list[Period] = []
    for period in schedule.periods:
        if period.last_day < day:
            kept.append(period)
        elif period.first_day < day:
            kept.append(_head(period, day))
    return tuple(kept)


def remaining(schedule: Schedule, day: date) -> tuple[ServiceLine, ...]:
    """Each line's amount and VAT not rendered before `day`: the lines "as they are from
    that day on", before a change, a suspension (all of it taken back) or a credit note
    (part of it) says otherwise. `before` + `remaining` = the schedule, exactly."""
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for period in schedule.periods:
        if period.last_day < day:
            continue
        head = _head(period, day).shares if period.first_day < day else ()
        taken = {s.key: s for s in head}
        for s in period.shares:
            amount, vat = totals.get(s.key, (ZERO, ZERO))
            gone = taken.get(s.key, ServiceLine(s.key, ZERO))
            totals[s.key] = (amount + s.amount - gone.amount, vat + s.vat - gone.vat)
    return tuple(ServiceLine(key, amount, vat) for key, (amount, vat) in totals.items())


def cut(schedule: Schedule, day: date, new_lines_for_rest: Iterable[ServiceLine]) -> Schedule:
    """`schedule` changed from `day` on (start ≤ day < end): what is rendered before the day
    stays, the rest [day, end) is re-split by days (by month or as one period, as the
    schedule was) from `new_lines_for_rest`, the amounts to render from that day to the
    end (zero for what a suspension or a credit note takes back; `remaining` gives the
    lines as they were). The period containing the day becomes two: its part before the
    day, rendered on the day before, and its part from the day on.

    Exact in kopecks: sum(`before`) + sum(`new_lines_for_rest`) = the new schedule's total.
    The caller must not cut before a day already rendered and documented: closing documents
    issued are never changed (a corrective document corrects them)."""
    kept = before(schedule, day)
    rest = _split(tuple(new_lines_for_rest), month_bounds(day, schedule.ends_on, schedule.by))
    return Schedule(schedule.starts_on, schedule.ends_on, schedule.by, kept + rest)
