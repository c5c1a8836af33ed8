"""The daily lifecycle run: reminders, autopay renewal invoices, grace, suspension.

`run_lifecycle(session, at=D)` runs every day since the last completed one, in order, up to
D. Each day is one transaction per shard of accounts (`run_day`: the day's work is
`lifecycle_day`'s, then the catalog migrations due and the expired mid-term changes), and
progress is per shard and day (`shard_days`, `shard_progress`, `last_run_day`,
`days_to_run`). Running a day twice changes nothing (a day is recorded when done, and every
statement is guarded by the state it changes). A test clock's advance (`advance_test_clock`)
runs every day in between for the accounts on that clock, lived one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog, CatalogVersion
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import FixedTime, check_advance, get_test_clock, move_test_clock
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import SYSTEM_LIFECYCLE
from podpiska.invoicing.run_scope import Scope
from podpiska.ports import Clock
from podpiska.subscriptions.lifecycle_day import DayCounts, DayWork
from podpiska.subscriptions.models import LifecycleRun, Subscription
from podpiska.subscriptions.moves import run_migrations_day
from podpiska.subscriptions.rendering import render_services

MAX_CATCH_UP_DAYS = 400


@dataclass
class RunReport:
    days: list[date] = field(default_factory=list)
    totals: DayCounts = field(default_factory=DayCounts)
    skipped_days: int = 0


def run_day(
    session: Session,
    *,
    day: date,
    today: date,
    clock: Clock,
    shard: int = 0,
    shards: int = 1,
    clock_id: int = 0,
    actor: str = SYSTEM_LIFECYCLE,
    then: Callable[[Session], object] | None = None,
) -> DayCounts:
    """One day for one shard, in one transaction; a day already done is skipped.

    `then(session)` runs inside that transaction once the day is recorded (or found done):
    the queue defers the shard's next day there, so a day and the job for the next one are
    committed together or not at all."""
    with session.begin():
        done = session.scalars(
            select(LifecycleRun).where(
                LifecycleRun.clock_id == clock_id,
                LifecycleRun.shards == shards,
                LifecycleRun.shard == shard,
                LifecycleRun.day == day,
            )
        ).first()
        if done is not None:
            if then is not None:
                then(session)
            return DayCounts(skipped=True)
        catalog = catalog_in_force(session)
        now = clock.now()
        work = DayWork(
            session,
            day=day,
            today=today,
            shard=shard,
            shards=shards,
            clock_id=clock_id,
            now=now,
            actor=actor,
        )
        versions = _versions_in_use(session, catalog)
        for version in versions:
            work.end_terms(version)
            work.suspend(version)
        for version in versions:
            work.remind(version)
            work.autopay_invoices(catalog, version)
        if catalog.migrations:
            work.flush()
            notices, moves = run_migrations_day(
                session, catalog, day=day, now=now, scope=work.scope, actor=actor
            )
            work.counts.migration_notices, work.counts.version_moves = notices, moves
        if shard == 0:
            work.counts.expired_changes = _expire_changes(session, clock_id, now, actor)
        work.flush()
        rendered = render_services(session, day=day, scope=Scope(shard, shards, clock_id), now=now)
        work.counts.planned, work.counts.closings = rendered.planned, rendered.closings
        work.counts.advances = rendered.advances
        session.add(
            LifecycleRun(
                clock_id=clock_id,
                day=day,
                shard=shard,
                shards=shards,
                counts=work.counts.as_dict(),
                finished_at=now,
            )
        )
        if then is not None:
            session.flush()
            then(session)
    return work.counts


def _expire_changes(session: Session, clock_id: int, now: datetime, actor: str) -> int:
    from podpiska.subscriptions.changes import expire_pending

    return expire_pending(session, now=now, actor=actor, clock_id=clock_id)


def _versions_in_use(session: Session, catalog: Catalog) -> list[CatalogVersion]:
    used = set(
        session.scalars(
            select(Subscription.catalog_version)
            .where(Subscription.status.in_(("active", "grace")))
            .distinct()
        )
    )
    return [v for v in catalog.versions if v.version in used]


def shard_progress(session: Session, *, shards: int, clock_id: int) -> dict[int, date]:
    """The last day each shard of this cut has completed (a shard never run is absent)."""
    with session.begin():
        rows = session.execute(
            select(LifecycleRun.shard, func.max(LifecycleRun.day))
            .where(LifecycleRun.clock_id == clock_id, LifecycleRun.shards == shards)
            .group_by(LifecycleRun.shard)
        ).all()
    return {shard: day for shard, day in rows}  # noqa: C416 - rows, not pairs, for mypy


def last_run_day(session: Session, *, shards: int, clock_id: int = 0) -> date | None:
    """The latest day any shard of this cut has completed (None: never run)."""
    return max(shard_progress(session, shards=shards, clock_id=clock_id).values(), default=None)


def shard_days(
    session: Session,
    *,
    at: date,
    shards: int,
    clock_id: int,
    since: date | None = None,
    only_shard: int | None = None,
) -> dict[int, list[date]]:
    """Each shard's days to run up to `at`: the days after the last one IT completed.

    Progress is per shard and day: one shard being ahead (its job ran first, or the others
    crashed) never makes another skip a day. A shard with no day of its own while others
    have some (its first day failed) starts at the first day the others ran. Never run at
    all: `at` alone (or the days after `since`, a test clock's previous time). A shard that
    has already completed `at` gets `[at]` (run_day skips it); one past `at` gets nothing —
    the daily run never goes back to a day before one it has done."""
    with session.begin():
        rows = session.execute(
            select(LifecycleRun.shard, func.max(LifecycleRun.day), func.min(LifecycleRun.day))
            .where(LifecycleRun.clock_id == clock_id, LifecycleRun.shards == shards)
            .group_by(LifecycleRun.shard)
        ).all()
    last = {shard: latest for shard, latest, _ in rows}
    first_ever = min((earliest for _, _, earliest in rows), default=None)
    result: dict[int, list[date]] = {}
    for shard in range(shards) if only_shard is None else [only_shard]:
        if shard in last:
            start: date | None = last[shard]
        elif first_ever is not None:
            start = first_ever - ONE_DAY
        else:
            start = since
        result[shard] = _days_after(start, at)
    return result


def _days_after(start: date | None, at: date) -> list[date]:
    if start is None or start == at:
        return [at]
    if start > at:
        return []
    first = max(start + ONE_DAY, at - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=n) for n in range((at - first).days + 1)]


def days_to_run(
    session: Session,
    *,
    at: date,
    shards: int,
    clock_id: int,
    since: date | None = None,
    only_shard: int | None = None,
) -> list[date]:
    """Every day some shard still has to run up to `at`, in order (see `shard_days`)."""
    plan = shard_days(
        session, at=at, shards=shards, clock_id=clock_id, since=since, only_shard=only_shard
    )
    return sorted({day for days in plan.values() for day in days})


def run_lifecycle(
    session: Session,
    *,
    at: date,
    clock: Clock,
    shards: int = 1,
    only_shard: int | None = None,
    clock_id: int = 0,
    since: date | None = None,
    every_day_lived: bool = False,
    progress: Callable[[date, int, DayCounts], None] | None = None,
) -> RunReport:
    """Every day since the last run, up to `at`, in order; each shard of accounts in turn
    (workers on several machines run `run_day` for one shard each instead).

    A real run after missed days catches up as of `at`: a reminder that a later one has
    made stale is not sent. A test clock's days are lived one by one
    (`every_day_lived`): each day's run is what would have happened on that day."""
    report = RunReport()
    plan = {
        shard: set(days)
        for shard, days in shard_days(
            session, at=at, shards=shards, clock_id=clock_id, since=since, only_shard=only_shard
        ).items()
    }
    # Day by day, each day's shards in order: the same order (and so the same invoice
    # numbers) as the queue's jobs, which also finish a day on every shard before the next.
    for day in sorted(set().union(*plan.values())):
        report.days.append(day)
        for shard in sorted(plan):
            if day not in plan[shard]:
                continue
            counts = run_day(
                session,
                day=day,
                today=day if every_day_lived else at,
                clock=clock,
                shard=shard,
                shards=shards,
                clock_id=clock_id,
            )
            if counts.skipped:
                report.skipped_days += 1
            report.totals.add(counts)
            if progress is not None:
                progress(day, shard, counts)
    return report


@dataclass(frozen=True, slots=True)
class Advance:
    clock_id: int
    was: datetime
    now: datetime
    report: RunReport


def advance_test_clock(
    session: Session,
    *,
    clock_id: int,
    to: datetime | None = None,
    days: int | None = None,
    actor: str,
    clock: Clock,
    after_day: Callable[[int, Clock], object] | None = None,
) -> Advance:
    """Move a test clock forward; every daily run in between happens, in order, for the
    accounts on that clock (and only for them). With `after_day` (autopay charges), the
    clock moves one day at a time and `after_day(clock_id, clock_of_that_day)` runs after
    each day's run, as the worker would run it on that day."""
    current = get_test_clock(session, clock_id)
    if (to is None) == (days is None):
        raise _bad_advance("укажите либо to, либо days", "give either `to` or `days`")
    check_advance(current.now, to=to, days=days)  # bounded work, before any arithmetic
    if days is not None:
        if days < 0:
            raise _bad_advance("days не может быть отрицательным", "`days` must not be negative")
        to = current.now + timedelta(days=days)
    assert to is not None
    if to.tzinfo is None:
        raise _bad_advance("у to нужен часовой пояс", "`to` needs a timezone")
    if to < current.now:  # refused on both paths (day by day would silently do nothing)
        raise DomainError("test_clock_backwards", id=clock_id, now=current.now.isoformat())
    if after_day is not None:
        return _advance_day_by_day(
            session, clock_id=clock_id, to=to, actor=actor, clock=clock, after_day=after_day
        )
    _, was = move_test_clock(session, clock_id=clock_id, to=to, actor=actor, clock=clock)
    with session.begin():
        zone = catalog_in_force(session).timezone
    start = was.astimezone(ZoneInfo(zone)).date()
    end = to.astimezone(ZoneInfo(zone)).date()
    report = RunReport()
    if end > start:
        report = run_lifecycle(
            session,
            at=end,
            clock=FixedTime(to),
            clock_id=clock_id,
            since=start,
            every_day_lived=True,
        )
    return Advance(clock_id, was, to, report)


def _advance_day_by_day(
    session: Session,
    *,
    clock_id: int,
    to: datetime,
    actor: str,
    clock: Clock,
    after_day: Callable[[int, Clock], object],
) -> Advance:
    current = get_test_clock(session, clock_id)
    with session.begin():
        zone = ZoneInfo(catalog_in_force(session).timezone)
    was = current.now
    report = RunReport()
    instant = was
    while instant < to:
        # The next midnight in the catalog's timezone, or `to` if that comes first.
        local = instant.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), zone)
        step = min(to, midnight.astimezone(to.tzinfo))
        move_test_clock(session, clock_id=clock_id, to=step, actor=actor, clock=clock)
        start = instant.astimezone(zone).date()
        end = step.astimezone(zone).date()
        if end > start:
            day_report = run_lifecycle(
                session,
                at=end,
                clock=FixedTime(step),
                clock_id=clock_id,
                since=start,
                every_day_lived=True,
            )
            report.days.extend(day_report.days)
            report.totals.add(day_report.totals)
            report.skipped_days += day_report.skipped_days
            after_day(clock_id, FixedTime(step))
        instant = step
    return Advance(clock_id, was, to, report)


def _bad_advance(ru: str, en: str) -> DomainError:
    return DomainError("invalid_field", field="advance", problem_ru=ru, problem_en=en)
