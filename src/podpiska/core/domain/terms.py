"""Terms: the half-open range of days [starts_on, ends_on) a payment covers, and months
counted from an anchor day. Every area dates by them (an invoice's term, a renewal, the
advisor's budget), so they live in core; what a subscription's term *means* (its states and
transitions) stays in `subscriptions.domain.lifecycle`.

`paid_through` = ends_on − 1 day, the last day inside, is what people read. Terms of N months
step from the anchor day, clamped to the end of shorter months: a subscription started on 31
January runs to 28/29 February, then 31 March.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

ONE_DAY = timedelta(days=1)


def add_months(start: date, months: int, anchor_day: int) -> date:
    """`start` moved by `months`, on the anchor day clamped to the month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor_day, last))


@dataclass(frozen=True, slots=True)
class Term:
    """[starts_on, ends_on): the days a payment covers."""

    starts_on: date
    ends_on: date

    def __post_init__(self) -> None:
        if self.ends_on <= self.starts_on:
            raise ValueError(f"a term must end after it starts: {self}")

    @property
    def paid_through(self) -> date:
        return self.ends_on - ONE_DAY

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days

    def __contains__(self, day: object) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        return isinstance(day, date) and self.starts_on <= day < self.ends_on


def term_from(starts_on: date, months: int, anchor_day: int) -> Term:
    return Term(starts_on, add_months(starts_on, months, anchor_day))
