"""Entitlement refusals remembered, for the back office's timeline: one row per account,
day in Moscow time, action and refusal code (`models.EntitlementRefusal`), with how many
and the first and last moment — never a row per check, and never an allowed decision.

The check is the hottest path of the system, so the record stays out of its way:

- `record_refusals` is the write: one short transaction of its own, after the answer, an
  upsert (`INSERT ... ON CONFLICT DO UPDATE`, SQLite and PostgreSQL alike) that adds the
  counts up, so concurrent writers (threads, processes) give one row with the sum;
- `RefusalLog` is the in-process guard in front of it: `note()` counts a refusal in memory
  (a lock and a dict, no query, no wait) at the moment its decision was made for, on the
  account's own clock (an account on a test clock: the test clock's now, and its day). A
  key's first refusal wakes the log's writer thread at once (the timeline shows it within
  moments); the later ones are written by the thread's round every `flush_seconds`, every
  key counted in one transaction: a key is thus written at most once per round, however
  hot the loop. `stop()` writes the rest. `flush_seconds=0` wakes the thread for every
  refusal (still written in batches). A failed write is logged and its counts are kept for
  the next one: the answer never waits for a write (not even a keep-alive connection's
  next request, as a response's background task would) and never fails because of one.

Retention: `purge_refusals` deletes the days older than `KEEP_DAYS` on the account's own
clock (the worker's hourly housekeeping).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.models import TestClock
from podpiska.entitlements.domain import Decision
from podpiska.entitlements.models import EntitlementRefusal
from podpiska.ports import Clock

log = logging.getLogger("podpiska.entitlements")

MOSCOW = ZoneInfo("Europe/Moscow")  # the day a refusal is counted in
KEEP_DAYS = 90  # days of refusals kept; older rows are deleted by the housekeeping
DEFAULT_FLUSH_SECONDS = 5.0  # float-ok: seconds
# keys counted in memory: more, and a write is due at once; twice as many (the writes keep
# failing), and new keys are dropped
MAX_PENDING = 10_000

Key = tuple[int, date, str, str]  # account, day, action, reason


@dataclass(slots=True)
class Refusal:
    """Refusals of one key not written yet: how many, the first and last moment, and the
    last decision (its sentences and details)."""

    account_id: int
    day: date
    decision: Decision
    count: int
    first_at: datetime
    last_at: datetime

    @property
    def key(self) -> Key:
        return (self.account_id, self.day, self.decision.action, self.decision.reason)

    def merge(self, later: Refusal) -> None:
        self.count += later.count
        self.first_at = min(self.first_at, later.first_at)
        if later.last_at >= self.last_at:
            self.last_at, self.decision = later.last_at, later.decision


def moscow_day(at: datetime) -> date:
    return at.astimezone(MOSCOW).date()


def record_refusals(session: Session, refusals: Iterable[Refusal]) -> int:
    """Write refusals in one short transaction of their own: a row per key, or its count
    added to the row already there (the first moment kept, the last and its sentences
    replaced). Keys in a fixed order, so that concurrent writers never deadlock. Returns
    the rows written."""
    rows = [
        {
            "account_id": r.account_id,
            "day": r.day,
            "action": r.decision.action,
            "reason": r.decision.reason,
            "count": r.count,
            "first_at": r.first_at,
            "last_at": r.last_at,
            "message_ru": r.decision.message_ru,
            "message_en": r.decision.message_en,
            "details": r.decision.details,
        }
        for r in sorted(refusals, key=lambda r: r.key)
    ]
    if not rows:
        return 0
    with session.begin():
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        least, greatest = (
            (func.least, func.greatest)
            if dialect == "postgresql"
            else (
                func.min,  # SQLite's min() and max() of two values are scalar
                func.max,
            )
        )
        statement = insert(EntitlementRefusal).values(rows)
        new = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["account_id", "day", "action", "reason"],
                set_={
                    "count": EntitlementRefusal.count + new.count,
                    "first_at": least(EntitlementRefusal.first_at, new.first_at),
                    "last_at": greatest(EntitlementRefusal.last_at, new.last_at),
                    "message_ru": new.message_ru,
                    "message_en": new.message_en,
                    "details": new.details,
                },
            )
        )
    return len(rows)


def purge_refusals(session: Session, *, clock: Clock) -> int:
    """Delete the refusals of the days older than `KEEP_DAYS` (Moscow time) on the account's
    own clock: the server's, or its test clock's (whose days may be long past, or to come:
    they are counted on them). Returns rows deleted."""
    oldest = clock.today("Europe/Moscow") - timedelta(days=KEEP_DAYS)
    on_test_clocks = select(Account.id).where(Account.test_clock_id.is_not(None))
    with session.begin():
        deleted = _deleted(
            session,
            EntitlementRefusal.day < oldest,
            EntitlementRefusal.account_id.not_in(on_test_clocks),
        )
        for clock_id, now in session.execute(select(TestClock.id, TestClock.now)).all():
            deleted += _deleted(
                session,
                EntitlementRefusal.day < moscow_day(now) - timedelta(days=KEEP_DAYS),
                EntitlementRefusal.account_id.in_(
                    select(Account.id).where(Account.test_clock_id == clock_id)
                ),
            )
        return deleted


def _deleted(session: Session, *where: ColumnElement[bool]) -> int:
    result = session.execute(delete(EntitlementRefusal).where(*where))
    return int(getattr(result, "rowcount", 0) or 0)


class RefusalLog:
    """The in-process guard in front of `record_refusals` (see the module), with its writer
    thread, started by `start()` (the server's lifespan) and stopped by `stop()`. Until it
    is started the counts wait in memory (bounded) for `flush()`: the log never starts a
    thread nobody stops (one left behind retries against a database gone). Thread-safe;
    share one per process."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        clock: Clock,
        *,
        flush_seconds: float = DEFAULT_FLUSH_SECONDS,  # float-ok: seconds
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: dict[Key, Refusal] = {}
        self._due: set[Key] = set()
        self._seen: set[Key] = set()  # keys whose first refusal was due (this process)
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.noted = self.writes = self.failures = self.dropped = 0

    def note(self, account_id: int, decisions: Iterable[Decision], *, at: datetime) -> None:
        """Count the refusals among `decisions` (allowed ones are ignored) at `at`, the
        moment they were made for: the account's own clock (a test clock's now for an
        account on one; `EntitlementSnapshots.decided`), which names their day. Wake the
        writer for a key's first refusal. No query, no wait."""
        due = False
        day: date | None = None
        for decision in decisions:
            if decision.allowed:
                continue
            if day is None:
                day = moscow_day(at)
            key = (account_id, day, decision.action, decision.reason)
            with self._lock:
                self.noted += 1
                pending = self._pending.get(key)
                if pending is None and len(self._pending) >= 2 * self.max_pending:
                    self.dropped += 1  # the database has refused writes for a while
                    continue
                if pending is None:
                    self._pending[key] = Refusal(account_id, day, decision, 1, at, at)
                else:
                    pending.count += 1
                    pending.last_at, pending.decision = at, decision
                if key not in self._seen or self.flush_seconds <= 0:
                    self._seen.add(key)
                    self._due.add(key)
                    due = True
                elif len(self._pending) >= self.max_pending:
                    self._due.update(self._pending)
                    due = True
        if due:
            self._wake.set()  # the writer, once started: else they wait for flush()/stop()

    def flush(self, *, everything: bool = False) -> int:
        """Write the refusals due (`everything`: all those counted), each key once, in one
        transaction; never raises: a failed write is logged and its counts are kept for the
        next. Returns the rows written. (The writer thread calls it; tests and `stop()`
        too.)"""
        with self._lock:
            keys = list(self._pending if everything else self._due & self._pending.keys())
            taken = [self._pending.pop(k) for k in keys]
            self._due.difference_update(keys)
            if everything and len(self._seen) > 4 * self.max_pending:
                # forget the past days' keys (a test clock's past too: its next refusal of
                # a key forgotten is merely written at once again)
                today = moscow_day(self._clock.now())
                self._seen = {k for k in self._seen if k[1] >= today}
                if len(self._seen) > 4 * self.max_pending:
                    self._seen.clear()
        if not taken:
            return 0
        try:
            session = self._sessions()
            try:
                written = record_refusals(session, taken)
            finally:
                session.close()
        except Exception:
            log.exception("entitlement refusals: %d rows not written, kept for later", len(taken))
            with self._lock:
                self.failures += 1
                for refusal in taken:  # back, unless too many are waiting already
                    kept = self._pending.get(refusal.key)
                    if kept is not None:
                        refusal.merge(kept)
                    if kept is not None or len(self._pending) < self.max_pending:
                        self._pending[refusal.key] = refusal
            return 0
        with self._lock:
            self.writes += 1
        return written

    def start(self) -> None:
        """Start the writer thread (a daemon): it writes the new keys when woken, and
        everything counted every `flush_seconds`."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="entitlement-refusals", daemon=True
            )
        self._thread.start()

    def _run(self) -> None:
        every = self.flush_seconds if self.flush_seconds > 0 else None
        full = time.monotonic()
        while not self._stop.is_set():
            left = None if every is None else max(0, full + every - time.monotonic())
            self._wake.wait(left)
            self._wake.clear()
            if self._stop.is_set():
                break
            everything = every is not None and time.monotonic() - full >= every
            if everything:
                full = time.monotonic()
            self.flush(everything=everything)

    def stop(self) -> None:
        """Stop the writer thread (if any) and write what is left."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()
            self._thread = None
        self.flush(everything=True)

    def stats(self) -> dict[str, Any]:
        return {
            "pending": len(self._pending),
            "noted": self.noted,
            "writes": self.writes,
            "failures": self.failures,
            "dropped": self.dropped,
        }
