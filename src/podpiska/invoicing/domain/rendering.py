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

**A moved end** (`move_end`): a change that moves the term's end without money re-splits
what is left from its day on over the new dates [day, new_end), the same way.

`services_of` turns an invoice's lines into the services to render (credit lines deducted);
`take_back` takes a change's credit or a credit note from a day on. The month-end run that
stores and renders them is `invoicing/rendering_run.py`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import accumulate, pairwise

from podpiska.core.domain.money import ZERO, allocate, is_money, round_money
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


def move_end(schedule: Schedule, day: date, new_end: date) -> Schedule:
    """`schedule` whose term now ends on `new_end` (exclusive) from `day` on: a change that
    moves the term's end without money (seats under `shorten_term`, a dearer plan under
    `convert_to_days`). What is rendered before the day stays (`before`); what is left
    from it (`remaining`, exactly) is re-split by days over [day, new_end), by month (the
    last month takes the remainder) or, for a schedule by term, as one period: its whole
    term is re-dated (nothing of it is rendered before its end). A day before the
    schedule's start is its start. `before` + the new rest = the schedule, exactly."""
    day = schedule.starts_on if schedule.by is RenderBy.TERM else max(day, schedule.starts_on)
    _check_day(schedule, day)
    if new_end <= day:
        raise ValueError(f"the new end {new_end} must be after {day}")
    kept = before(schedule, day)
    rest = _split(remaining(schedule, day), month_bounds(day, new_end, schedule.by))
    return Schedule(schedule.starts_on, new_end, schedule.by, kept + rest)


def services_of(
    lines: Sequence[tuple[str, Decimal]], total: Decimal, vat: Decimal
) -> tuple[ServiceLine, ...]:
    """An invoice's services to render, from its lines (key, amount): each positive line,
    less its share of the negative ones (a change's unused balance, a discount) in
    proportion to the amounts, carrying the invoice's total (with VAT, as the buyer pays
    it) and its VAT in the same proportion. They sum exactly to `total` and `vat`.
    A credit line is never a service: it is deducted, as on the act."""
    if total < 0 or vat < 0:
        raise ValueError(f"an invoice to render has a total ≥ 0, got {total} (VAT {vat})")
    positive = [(key, amount) for key, amount in lines if amount > 0]
    if not positive:
        if total == 0 and vat == 0:
            return ()
        raise ValueError(f"an invoice of {total} has no service line to render it by")
    credit = sum((amount for _, amount in lines if amount < 0), ZERO)
    weights = [amount for _, amount in positive]
    deducted = allocate(credit, weights) if credit else [ZERO] * len(positive)
    net = [max(amount + less, ZERO) for amount, less in zip(weights, deducted, strict=True)]
    gross = allocate(total, net)
    vats = allocate(vat, net)
    return tuple(
        ServiceLine(key, amount, tax)
        for (key, _), amount, tax in zip(positive, gross, vats, strict=True)
    )


def schedule_of(periods: Sequence[Period], by: RenderBy = RenderBy.MONTH) -> Schedule:
    """The periods not rendered yet of one invoice, read back from their rows, as a
    schedule (contiguous, in order)."""
    if not periods:
        raise ValueError("a schedule needs at least one period")
    ordered = sorted(periods, key=lambda p: p.first_day)
    for a, b in pairwise(ordered):
        if b.first_day != a.last_day + ONE_DAY:
            raise ValueError(f"periods are not contiguous: {a.last_day} then {b.first_day}")
    return Schedule(ordered[0].first_day, ordered[-1].last_day + ONE_DAY, by, tuple(ordered))


@dataclass(frozen=True, slots=True)
class TakeBack:
    """What taking money back from a day on did to one schedule: the new schedule, what
    it took (with its VAT), and what it could not take (rendered already)."""

    schedule: Schedule | None  # None: the day is past the schedule's end
    taken: Decimal
    taken_vat: Decimal
    uncovered: Decimal


def take_back(schedule: Schedule, day: date, amount: Decimal) -> TakeBack:
    """Take `amount` back from what `schedule` renders from `day` on (a change's credit,
    a credit note), never from before it: each line's rest is reduced in proportion to
    what it had left, its VAT with it, and the rest re-split by days. A day before the
    schedule's start is its start (the periods before it are rendered); what the rest
    cannot give (it is smaller than `amount`) is `uncovered`."""
    if not is_money(amount) or amount < 0:
        raise ValueError(f"the amount taken back must be kopecks ≥ 0, got {amount}")
    day = max(day, schedule.starts_on)
    if day >= schedule.ends_on:
        return TakeBack(None, ZERO, ZERO, amount)
    rest = remaining(schedule, day)
    left = sum((line.amount for line in rest), ZERO)
    left_vat = sum((line.vat for line in rest), ZERO)
    taken = min(amount, left)
    keep = left - taken
    keep_vat = round_money(left_vat * keep / left) if left else ZERO
    weights = [line.amount for line in rest]
    amounts = allocate(keep, weights)
    vats = allocate(keep_vat, amounts if keep else weights)
    new_rest = [ServiceLine(line.key, a, v) for line, a, v in zip(rest, amounts, vats, strict=True)]
    return TakeBack(cut(schedule, day, new_rest), taken, left_vat - keep_vat, amount - taken)
