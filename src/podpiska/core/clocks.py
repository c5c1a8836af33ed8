"""Time for an account: the real clock, or its test clock (like Stripe's test clocks: every
daily run in between happens, in order; one advance goes at most `MAX_ADVANCE_DAYS`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.core.db.paging import Page, page
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import TestClock
from podpiska.core.records import audit, get_or_404
from podpiska.ports import Clock


class OnClock(Protocol):
    """What time needs of an account: its test clock, if any, and its timezone."""

    test_clock_id: int | None
    timezone: str


class FixedTime:
    """A Clock standing at one instant: the time of a test clock, or a moment in the past
    that demo data is written at."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def today(self, timezone: str) -> date:
        return self.instant.astimezone(ZoneInfo(timezone)).date()


def now_for(session: Session, account: OnClock, clock: Clock) -> datetime:
    if account.test_clock_id is None:
        return clock.now()
    test_clock = session.get(TestClock, account.test_clock_id, populate_existing=True)
    return test_clock.now if test_clock is not None else clock.now()


def today_for(session: Session, account: OnClock, clock: Clock) -> date:
    return now_for(session, account, clock).astimezone(ZoneInfo(account.timezone)).date()


def create_test_clock(
    session: Session, *, name: str, now: datetime | None = None, actor: str, clock: Clock
) -> TestClock:
    with session.begin():
        start = now or clock.now()
        if start.tzinfo is None:
            raise DomainError(
                "invalid_field",
                field="now",
                problem_ru="нужно время с часовым поясом",
                problem_en="needs a timezone-aware time",
            )
        test_clock = TestClock(name=name or "test clock", now=start, created_at=clock.now())
        session.add(test_clock)
        session.flush()
        audit(
            session,
            actor=actor,
            action="test_clock.created",
            object_type="test_clock",
            object_id=test_clock.id,
            account_id=None,
            at=clock.now(),
            after={"name": test_clock.name, "now": start.isoformat()},
        )
    return test_clock


def get_test_clock(session: Session, clock_id: int) -> TestClock:
    with session.begin():
        return get_or_404(session, TestClock, clock_id, "test_clock")


def page_test_clocks(session: Session, *, after: int = 0, limit: int = 100) -> Page[TestClock]:
    """The test clocks by id, a page at a time."""
    with session.begin():
        return page(session, select(TestClock), key=TestClock.id, after=after, limit=limit)


# One advance runs every daily lifecycle run in between, day by day, in the request: three
# years (a 24-month term, its grace and renewal) take seconds, not hours (docs/lifecycle.md).
MAX_ADVANCE_DAYS = 3 * 366


def check_advance(now: datetime, *, to: datetime | None = None, days: int | None = None) -> None:
    """Refuse an advance that is not forward by at least a day (`days`) or goes further
    than `MAX_ADVANCE_DAYS`, before any date arithmetic (a huge `days` overflows)."""
    if days is not None and not 1 <= days <= MAX_ADVANCE_DAYS:
        if days < 1:
            raise DomainError(
                "invalid_field",
                field="days",
                problem_ru="не меньше 1",
                problem_en="at least 1",
            )
        raise DomainError("test_clock_advance_too_far", max_days=MAX_ADVANCE_DAYS, asked=days)
    if to is not None and to.tzinfo is not None and to - now > timedelta(MAX_ADVANCE_DAYS):
        raise DomainError(
            "test_clock_advance_too_far", max_days=MAX_ADVANCE_DAYS, asked=to.isoformat()
        )


def move_test_clock(
    session: Session, *, clock_id: int, to: datetime, actor: str, clock: Clock
) -> tuple[TestClock, datetime]:
    """Set a test clock forward to `to`; returns (clock, where it was). The caller runs the
    daily lifecycle for every day in between (see `lifecycle.advance_test_clock`)."""
    with session.begin():
        test_clock = get_or_404(session, TestClock, clock_id, "test_clock", lock=True)
        before = test_clock.now
        if to < before:
            raise DomainError("test_clock_backwards", id=clock_id, now=before.isoformat())
        test_clock.now = to
        audit(
            session,
            actor=actor,
            action="test_clock.advanced",
            object_type="test_clock",
            object_id=clock_id,
            account_id=None,
            at=clock.now(),
            before={"now": before.isoformat()},
            after={"now": to.isoformat()},
        )
    return test_clock, before
