"""Entitlements without the database: an in-process snapshot of license states, kept fresh
by the outbox.

`EntitlementSnapshots` keeps, per account, the `LicenseState` the check reads (two of them:
with and without what the marketplace rule needs, as `check_entitlement` and `check_many`
read them), the account's installed apps, and the registry entries of the apps asked
about. `check(account_id, action, app)` then answers with the pure `domain.entitlements.check`
and no query; a miss reads what is missing in one autocommit transaction and keeps it.

Freshness. Every change to what an answer depends on writes an outbox event in the same
transaction (payments, renewals, the daily run's grace and suspension, changes, app
installs, trials, users added and blocked; `apps.loaded` without an account for the
registry). `refresh()` reads, in one indexed statement (a second when it finds new gaps,
below), the events after the last one seen and the catalog in force, and forgets the
accounts they name; an event without an
account, or a new catalog document, forgets everything. A state also stops at the end of
its day (`LicenseState.today`, in the account's timezone): trials end, grace ends and
promotions start on a date. The rule:

    an answer given after `refresh()` returned sees every change committed before
    `refresh()` was called.

The API calls `refresh()` at the start of every entitlement request (one cheap query) and
so never answers from a state older than the request. A product that embeds the snapshot
does the same per request, or runs `start(interval_seconds)`: a background thread then
refreshes every interval and an answer may lag a change by that interval.

PostgreSQL hands out event ids when rows are inserted, but transactions commit in any
order: a long transaction (a shard of the daily run) can commit id 100 after id 101 was
seen. The ids skipped over are kept as gaps and read again by every refresh until every
transaction of this database that held the insert lock on outbox_events when they were
seen has ended (a transaction takes that lock before it takes an id; see `_track_gaps`);
so a late commit is never missed, and transactions that write no events (or run in other
databases of the server) never hold anything up. Until the writers of events at the first
refresh have ended (and after too many gaps), answers are read from the database and not
kept. SQLite commits one writer at a time in id order: no gaps.

Accounts on a test clock live in that clock's time, which moves without events: they are
always read from the database. `decided`/`decided_many` give the answers with the moment
they were made for (the account's own clock), at which the API counts a refusal.
Thread-safe; at most `max_accounts` accounts are kept (least recently used first out).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from podpiska.accounts.apikeys import CREDENTIAL_EVENTS
from podpiska.accounts.models import Account
from podpiska.catalog.apps import get_app
from podpiska.catalog.models import App
from podpiska.core.clocks import now_for
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import get_or_404
from podpiska.entitlements.decisions import license_state
from podpiska.entitlements.domain import (
    MARKETPLACE_ACTIONS,
    AppAccess,
    Decision,
    LicenseState,
    check,
)
from podpiska.ports import Clock
from podpiska.subscriptions.models import AppInstallation

log = logging.getLogger("podpiska.entitlements")

DEFAULT_MAX_ACCOUNTS = 100_000
MAX_DECISIONS_PER_ACCOUNT = 256  # answers kept per account (every action × a few apps)
MAX_GAP_RANGES = 256  # more ranges of unseen ids: forget everything, start blind again


@dataclass(frozen=True, slots=True)
class _App:
    id: int
    access: AppAccess  # without an installation


@dataclass(slots=True)
class _Entry:
    """What is known of one account for one day."""

    today: date
    starts_at: datetime  # the day in the account's timezone, as UTC instants
    ends_at: datetime
    states: dict[bool, LicenseState] = field(default_factory=dict)  # by `marketplace`
    installed: dict[int, date] | None = None  # app id → installed on; None: not read yet
    # The answers given: (marketplace, action, app) → the decision (a pure function of the
    # state and the app's access, both fixed while the entry lives).
    decisions: dict[tuple[bool, str, str | None], Decision] = field(default_factory=dict)


@dataclass(slots=True)
class _Gap:
    """Event ids skipped over by a refresh: they may still commit."""

    low: int
    high: int
    writers: frozenset[str]  # the transactions that could write events when it was seen
    done: int | None = None  # the round when none of them was left


# The transactions holding the lock that inserting into outbox_events takes (PostgreSQL).
_WRITERS = (
    "ARRAY(SELECT l.virtualtransaction FROM pg_locks AS l WHERE l.locktype = 'relation' "
    "AND l.mode = 'RowExclusiveLock' AND l.relation = 'outbox_events'::regclass "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)


@dataclass(frozen=True, slots=True)
class RefreshReport:
    events: int  # events read
    evicted: int  # accounts forgotten
    cleared: bool  # everything forgotten (a new catalog, the registry, too many gaps)


@dataclass(slots=True)
class _Loaded:
    """What one read of the database gave, to answer and to keep."""

    account: Account
    states: dict[bool, LicenseState]
    apps: dict[str, _App]
    installed: dict[int, date] | None
    registry: dict[str, _App]  # the installed apps' registry entries
    now: datetime  # the account's own moment the states were read for (a test clock's too)


class EntitlementSnapshots:
    """The snapshot: `check`, `check_many`, `refresh`; `start`/`stop` a refresher thread.

    Decisions are shared between callers (an answer given once is given again): treat them
    and their `details` as read-only.

    `sessions` makes a session when a call is given none (the refresher thread, a miss).
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        clock: Clock,
        *,
        max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    ) -> None:
        if max_accounts < 1:
            raise ValueError("max_accounts must be at least 1")
        self._sessions = sessions
        self._clock = clock
        self.max_accounts = max_accounts
        self._lock = threading.Lock()  # the entries, the registry, the generations
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._apps: dict[str, _App] = {}
        self._zones: dict[str, ZoneInfo] = {}
        # Generations: a read that began before an account was forgotten is not kept.
        self._generation = 0
        self._cleared_at = 0
        self._evicted_at: dict[int, int] = {}
        self._reading: Counter[int] = Counter()  # generations at which reads in flight began
        # Refreshing: one at a time; callers waiting meanwhile are all served by the next
        # refresh to begin (it began after they came).
        self._refresh_lock = threading.Lock()
        self._tickets = itertools.count()
        self._refreshed_from = -1  # the ticket drawn when the last refresh began
        self._last_id: int | None = None
        self._catalog: tuple[int, str] | None = None
        self._gaps: list[_Gap] = []
        self._blind: _Gap | None = None  # not keeping anything until it ends (PostgreSQL)
        self._round = 0  # refreshes done
        self._dialect: str | None = None
        self._connection: Connection | None = None  # the refreshes' own (PostgreSQL)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._credentials_epoch = 0  # moves on a revoked API key or a new start
        self.hits = self.misses = self.refreshes = self.evictions = 0

    # -- answers ---------------------------------------------------------------------------

    def check(
        self,
        account_id: int,
        action: str,
        app: str | None = None,
        *,
        session: Session | None = None,
    ) -> Decision:
        """The answer of `check_entitlement`: from the snapshot when it holds the account for
        today, otherwise read (with `session`, or a session of its own) and kept."""
        return self.decided(account_id, action, app, session=session)[0]

    def decided(
        self,
        account_id: int,
        action: str,
        app: str | None = None,
        *,
        session: Session | None = None,
    ) -> tuple[Decision, datetime]:
        """`check`'s answer and the moment it was made for: the account's own clock (its
        test clock's now for an account on one), the moment a refusal is counted at."""
        kept = self.kept(account_id, action, app)
        if kept is not None:
            return kept, self.kept_moment()
        self.misses += 1
        marketplace = action in MARKETPLACE_ACTIONS
        if app is not None and self._knows_all_but(account_id, marketplace, app):
            self._read_app(app, session)  # one query, not the account's five to eight
            kept = self.kept(account_id, action, app)
            if kept is not None:
                return kept, self.kept_moment()
        loaded = self._read(account_id, marketplace, [app] if app else [], session)
        state = loaded.states[marketplace]
        access = _access(loaded.apps[app], loaded.installed or {}) if app else None
        return check(state, action, access), loaded.now

    def kept_moment(self) -> datetime:
        """The moment a kept answer (`kept`, `kept_many`) is made for: the server's clock,
        since an account on a test clock is never kept (its time moves without events)."""
        return self._clock.now()

    def kept(self, account_id: int, action: str, app: str | None = None) -> Decision | None:
        """`check`'s answer when the snapshot holds what it needs (no query, no wait: fit for
        an event loop), else None."""
        marketplace = action in MARKETPLACE_ACTIONS
        entry = self._entry(account_id)
        if entry is None:
            return None
        key = (marketplace, action, app)
        decided = entry.decisions.get(key)
        if decided is not None:
            self.hits += 1
            return decided
        state = entry.states.get(marketplace)
        if state is None:
            return None
        if app is None:
            self.hits += 1
            return _remember(entry, key, check(state, action, None))
        known = self._apps.get(app)
        if known is None or entry.installed is None:
            return None
        self.hits += 1
        return _remember(entry, key, check(state, action, _access(known, entry.installed)))

    def check_many(
        self,
        account_id: int,
        checks: Sequence[tuple[str, str | None]],
        *,
        session: Session | None = None,
    ) -> list[Decision]:
        """The answers of `check_many`: all from one state of the account."""
        return self.decided_many(account_id, checks, session=session)[0]

    def decided_many(
        self,
        account_id: int,
        checks: Sequence[tuple[str, str | None]],
        *,
        session: Session | None = None,
    ) -> tuple[list[Decision], datetime]:
        """`check_many`'s answers and the moment they were made for (as `decided`)."""
        kept = self.kept_many(account_id, checks)
        if kept is not None:
            return kept, self.kept_moment()
        self.misses += 1
        marketplace = any(action in MARKETPLACE_ACTIONS for action, _ in checks)
        codes = [code for _, code in checks if code]
        loaded = self._read(account_id, marketplace, codes, session, lazy_apps=True)
        state = loaded.states[marketplace]
        answers = []
        for action, code in checks:
            access = None
            if code:
                known = loaded.apps.get(code) or self._app_in_order(loaded, code, session)
                access = _access(known, loaded.installed or {})
            answers.append(check(state, action, access))
        return answers, loaded.now

    def kept_many(
        self, account_id: int, checks: Sequence[tuple[str, str | None]]
    ) -> list[Decision] | None:
        """`check_many`'s answers when the snapshot holds all it needs, else None."""
        marketplace = any(action in MARKETPLACE_ACTIONS for action, _ in checks)
        entry = self._entry(account_id)
        if entry is None:
            return None
        state = entry.states.get(marketplace)
        installed = entry.installed
        apps = self._apps
        if state is None or any(
            code and (installed is None or code not in apps) for _, code in checks
        ):
            return None
        self.hits += 1
        answers = []
        for action, code in checks:
            key = (marketplace, action, code)
            decided = entry.decisions.get(key)
            if decided is None:
                access = _access(apps[code], installed or {}) if code else None
                decided = _remember(entry, key, check(state, action, access))
            answers.append(decided)
        return answers

    def _knows_all_but(self, account_id: int, marketplace: bool, app: str) -> bool:
        """The account's state and installations are kept; only the app's entry is not."""
        entry = self._entry(account_id)
        return (
            entry is not None
            and entry.states.get(marketplace) is not None
            and entry.installed is not None
            and app not in self._apps
        )

    def _read_app(self, code: str, session: Session | None) -> None:
        """Read one app's registry entry and keep it (unless the registry was forgotten
        meanwhile); an unknown app raises `unknown_app`, as `check_entitlement` does."""
        own = session is None
        db = self._sessions() if session is None else session
        with self._lock:
            began = self._generation
        try:
            with db.begin():
                read_only(db)
                known = _app_of(get_app(db, code))
        finally:
            if own:
                db.close()
        with self._lock:
            if self._cleared_at <= began and self._last_id is not None and self._blind is None:
                self._apps.setdefault(code, known)

    def _app_in_order(self, loaded: _Loaded, code: str, session: Session | None) -> _App:
        """An app of a batch not read yet (the read stops at the first unknown app, so that
        the errors come in the order of the checks, as in `check_many`)."""
        return self._read(loaded.account.id, None, [code], session).apps[code]

    def _entry(self, account_id: int) -> _Entry | None:
        now = self._clock.now()
        with self._lock:
            entry = self._entries.get(account_id)
            if entry is None:
                return None
            if not entry.starts_at <= now < entry.ends_at:  # another day: read again
                del self._entries[account_id]
                return None
            self._entries.move_to_end(account_id)
            return entry

    # -- reading and keeping ---------------------------------------------------------------

    def _read(
        self,
        account_id: int,
        marketplace: bool | None,
        codes: list[str],
        session: Session | None,
        *,
        lazy_apps: bool = False,
    ) -> _Loaded:
        """Read the account's state (`marketplace`: which one; None: none) and the apps of
        `codes` in one autocommit transaction, keep what may be kept, return it all. With
        `lazy_apps`, read the state first and stop quietly at the first unknown app (the
        caller asks again in order); otherwise the apps first. The errors thus come in the
        order of `check_entitlement` and `check_many`."""
        own = session is None
        db = self._sessions() if session is None else session
        with self._lock:
            began = self._generation
            self._reading[began] += 1
        try:
            with db.begin():
                read_only(db)
                self._dialect = self._dialect or db.get_bind().dialect.name
                account = get_or_404(db, Account, account_id, "account")
                now = now_for(db, account, self._clock)
                states: dict[bool, LicenseState] = {}
                apps: dict[str, _App] = {}
                if marketplace is not None and lazy_apps:
                    states[marketplace] = license_state(
                        db, account, self._clock, marketplace=marketplace, now=now
                    )
                for code in codes:
                    known = self._apps.get(code)
                    if known is None:
                        try:
                            known = _app_of(get_app(db, code))
                        except DomainError:
                            if lazy_apps:
                                break
                            raise
                    apps[code] = known
                if marketplace is not None and not lazy_apps:
                    states[marketplace] = license_state(
                        db, account, self._clock, marketplace=marketplace, now=now
                    )
                # The installed apps too, on every read: the next check with an app (most
                # likely one of them) is then answered from memory.
                installed: dict[int, date] | None = None
                registry: dict[str, _App] = {}
                if codes or states:
                    installed = {}
                    for installed_at, app in _installed(db, account_id):
                        installed[app.id] = installed_at.date()
                        registry[app.code] = _app_of(app)
            loaded = _Loaded(account, states, apps, installed, registry, now)
            self._keep(loaded, began)
            return loaded
        finally:
            with self._lock:
                self._reading[began] -= 1
                if not self._reading[began]:
                    del self._reading[began]
                self._forget_old_evictions()
            if own:
                db.close()

    def _keep(self, loaded: _Loaded, began: int) -> None:
        account = loaded.account
        if account.test_clock_id is not None:
            return  # its time moves without events
        today = next((s.today for s in loaded.states.values()), None)
        with self._lock:
            if self._last_id is None or self._blind is not None or self._cleared_at > began:
                return
            for code, known in (*loaded.registry.items(), *loaded.apps.items()):
                self._apps.setdefault(code, known)
            if self._evicted_at.get(account.id, -1) > began:
                return
            entry = self._entries.get(account.id)
            if today is None:
                if entry is None:
                    return  # nothing to hang the installations on
            elif entry is None or entry.today != today:
                starts_at, ends_at = self._day(today, account.timezone)
                entry = _Entry(today, starts_at, ends_at)
                self._entries[account.id] = entry
            for marketplace, state in loaded.states.items():
                entry.states[marketplace] = state
            if loaded.installed is not None:
                entry.installed = loaded.installed
            if loaded.states or loaded.installed is not None:
                entry.decisions = {}  # read again: answer again
            self._entries.move_to_end(account.id)
            while len(self._entries) > self.max_accounts:
                self._entries.popitem(last=False)

    def _day(self, today: date, timezone: str) -> tuple[datetime, datetime]:
        zone = self._zones.get(timezone)
        if zone is None:
            zone = self._zones[timezone] = ZoneInfo(timezone)
        start = datetime.combine(today, day_time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(today + timedelta(days=1), day_time(0), tzinfo=zone)
        return start, end.astimezone(UTC)

    def _forget_old_evictions(self) -> None:
        """Eviction marks older than every read in flight can stop nothing: drop them."""
        if not self._reading:
            self._evicted_at.clear()
        elif len(self._evicted_at) > 4096:
            oldest = min(self._reading)
            self._evicted_at = {a: g for a, g in self._evicted_at.items() if g > oldest}

    # -- freshness -------------------------------------------------------------------------

    def refresh(self, session: Session | None = None) -> RefreshReport:
        """Read the outbox since the last refresh and forget the accounts it names (see the
        module's rule). Thread-safe: concurrent callers share one refresh when they can."""
        ticket = next(self._tickets)
        with self._refresh_lock:
            if self._refreshed_from > ticket:  # a refresh that began after we came is done
                return RefreshReport(0, 0, False)
            began = next(self._tickets)
            own = session is None
            db = self._sessions() if session is None else session
            try:
                report = self._refresh(self._read_outbox(db))
            finally:
                if own:
                    db.close()
            self._refreshed_from = began
            self.refreshes += 1
            return report

    def _read_outbox(self, db: Session) -> Sequence[Any]:
        """The refresh statement's rows. On PostgreSQL through a connection of the snapshot's
        own, in autocommit, kept open (out of the pool: no checkout, no ping, one round trip
        per refresh; refreshes take turns, so one is enough), and straight through psycopg
        (SQLAlchemy's statement building was a tenth of an API request; psycopg prepares the
        statement once it repeats); reopened when it breaks."""
        bind = db.get_bind()
        dialect = self._dialect = bind.dialect.name
        statement, params = self._statement(dialect)
        if dialect != "postgresql":
            with db.begin():
                return db.execute(text(statement), params).all()
        for attempt in (1, 2):
            if self._connection is None:
                engine = bind if isinstance(bind, Engine) else bind.engine
                connection = engine.connect()
                self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            driver: Any = self._connection.connection.driver_connection
            try:
                return list(driver.execute(_pyformat(statement), params).fetchall())
            except psycopg.OperationalError:
                self._close_connection(broken=True)
                if attempt == 2 or not driver.closed:
                    raise
        raise AssertionError("unreachable")

    def _writers(self) -> frozenset[str]:
        """The transactions that may still insert outbox events now (PostgreSQL)."""
        assert self._connection is not None
        found = self._connection.execute(text(f"SELECT {_WRITERS}")).scalar()
        return frozenset(found or ())

    def _close_connection(self, *, broken: bool = False) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                if broken:  # not back to the pool
                    self._connection.invalidate()
                self._connection.close()
            self._connection = None

    def _refresh(self, rows: Sequence[Any]) -> RefreshReport:
        self._round += 1
        postgres = self._dialect == "postgresql"
        head: Sequence[Any] = rows[0] if rows else (None, None, None)
        writers = frozenset(head[0]) if head[0] is not None else None
        catalog_id, catalog_sha = head[1], head[2]
        first = self._last_id is None
        catalog = (catalog_id, catalog_sha) if catalog_id is not None else None
        # The first refresh forgets what was read before it (nothing was kept: no reads in
        # flight then may keep anything either).
        clear = first or catalog != self._catalog
        self._catalog = catalog
        events = [(r[3], r[4], r[5]) for r in rows if r[3] is not None]
        accounts: set[int] = set()
        if first:
            self._last_id = events[-1][0] if events else 0
            if postgres:  # transactions writing now may commit ids below the last one
                self._blind = self._gap(0, 0, writers)
            events = []
        for _event_id, account_id, event_type in events:
            if event_type in CREDENTIAL_EVENTS:  # no entitlement changes: keys kept go
                self._credentials_epoch += 1
            elif account_id is None:
                clear = True
            else:
                accounts.add(account_id)
        if postgres:
            clear = self._track_gaps([e for e, _, _ in events], writers) or clear
        elif events:
            self._last_id = max(self._last_id or 0, events[-1][0])
        evicted = 0
        # Over as soon as the writers of the start have ended: what is read from now on sees
        # what they wrote (reads begun before are not kept).
        blind_ended = self._blind is not None and self._blind.done is not None
        if blind_ended:
            self._blind = None
        if clear or blind_ended:
            self._credentials_epoch += 1
        if clear or accounts or blind_ended:
            with self._lock:
                self._generation += 1
                if clear or blind_ended:  # reads begun while blind are not kept either
                    evicted = len(self._entries)
                    self._entries.clear()
                    self._apps = {}
                    self._cleared_at = self._generation
                else:
                    for account_id in accounts:
                        if self._entries.pop(account_id, None) is not None:
                            evicted += 1
                        if self._reading:
                            self._evicted_at[account_id] = self._generation
            self.evictions += evicted
        return RefreshReport(len(events), evicted, clear)

    def _statement(self, dialect: str) -> tuple[str, dict[str, Any]]:
        """One statement, a row at least: the catalog in force, the new events and those of
        the gaps; on PostgreSQL, while there are gaps, the transactions that may write."""
        params: dict[str, Any] = {}
        if self._last_id is None:
            events = "o.id = (SELECT max(id) FROM outbox_events)"
        else:
            conditions = ["o.id > :last"]
            params["last"] = self._last_id
            for n, gap in enumerate(self._gaps):
                conditions.append(f"o.id BETWEEN :low{n} AND :high{n}")
                params[f"low{n}"], params[f"high{n}"] = gap.low, gap.high
            events = " OR ".join(conditions)
        watching = self._last_id is None or self._gaps or self._blind is not None
        writers = _WRITERS if dialect == "postgresql" and watching else "NULL"
        return (
            "SELECT s.writers, c.id, c.sha256, o.id, o.account_id, o.type "
            f"FROM (SELECT {writers} AS writers) AS s LEFT JOIN (SELECT id, sha256 FROM "
            "catalog_documents ORDER BY id DESC LIMIT 1) AS c ON 1 = 1 "
            f"LEFT JOIN outbox_events AS o ON ({events}) ORDER BY o.id",
            params,
        )

    def _gap(self, low: int, high: int, writers: frozenset[str] | None) -> _Gap:
        """A gap seen in this round, with the transactions that may fill it."""
        if writers is None:
            writers = self._writers()
        return _Gap(low, high, writers, self._round if not writers else None)

    def _track_gaps(self, ids: list[int], writers: frozenset[str] | None) -> bool:
        """Take the ids read (sorted) off the gaps, add the ids skipped over as gaps, end the
        gaps (and the blind start) that no transaction can fill any more. True when there
        are too many gaps: everything is then forgotten and the snapshot starts blind.

        A transaction takes the lock on outbox_events (RowExclusiveLock) before it takes an
        id; an id skipped over was taken before the refresh that saw the gap, so its
        transaction was among the writers of that refresh (or had ended, and the next
        refresh reads its rows). When none of those writers is left, the gap is read once
        more (that refresh's rows were read after they had all ended) and then dropped.
        """
        last = self._last_id or 0
        found = [i for i in ids if i <= last]
        new = [i for i in ids if i > last]
        kept: list[_Gap] = []
        for gap in self._gaps:
            if gap.done is not None and gap.done < self._round:
                continue  # read once more after its writers had ended: over
            low = gap.low
            for i in (i for i in found if gap.low <= i <= gap.high):
                if i > low:
                    kept.append(_Gap(low, i - 1, gap.writers, gap.done))
                low = i + 1
            if low <= gap.high:
                kept.append(_Gap(low, gap.high, gap.writers, gap.done))
        watched = [*kept, self._blind] if self._blind is not None else kept
        for gap in watched:
            if gap.done is None and writers is not None and not gap.writers & writers:
                gap.done = self._round
        expected = last + 1
        for i in new:
            if i > expected:
                kept.append(self._gap(expected, i - 1, writers))
            expected = i + 1
        if new:
            self._last_id = new[-1]
        self._gaps = kept
        if len(self._gaps) > MAX_GAP_RANGES:
            log.warning("entitlement snapshot: %d gaps in the outbox, starting over", len(kept))
            self._gaps = []
            self._blind = self._gap(0, 0, None)
            return True
        return False

    # -- the refresher thread, and looking inside ------------------------------------------

    def start(self, interval_seconds: float = 0.05) -> None:  # float-ok: seconds
        """Refresh every `interval_seconds` in a daemon thread (for a product that embeds the
        snapshot and does not refresh per request)."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval_seconds):
                try:
                    self.refresh()
                except Exception:  # a lost connection: log, try again next time
                    log.exception("entitlement snapshot: refresh failed")

        self._thread = threading.Thread(target=loop, name="entitlement-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the refresher thread (if any) and close the refreshes' connection."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        with self._refresh_lock:
            self._close_connection()

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._cleared_at = self._generation
            self._entries.clear()
            self._apps = {}

    @property
    def credentials_epoch(self) -> int | None:
        """Changes when a refresh sees a revoked API key or the snapshot starts over; None
        while the snapshot cannot vouch for what it has seen (not refreshed yet, or blind):
        what `apikeys.PrincipalCache` may keep for (read it after `refresh()`)."""
        if self._last_id is None or self._blind is not None:
            return None
        return self._credentials_epoch

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, int]:
        return {
            "accounts": len(self._entries),
            "apps": len(self._apps),
            "hits": self.hits,
            "misses": self.misses,
            "refreshes": self.refreshes,
            "evictions": self.evictions,
            "gaps": len(self._gaps),
            "blind": int(self._blind is not None),
        }


_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")
_PYFORMAT: dict[str, str] = {}


def _pyformat(statement: str) -> str:
    """`:name` → `%(name)s` (psycopg's style; `::type` casts stay), kept per statement."""
    found = _PYFORMAT.get(statement)
    if found is None:
        found = _PARAMETER.sub(r"%(\1)s", statement)
        if len(_PYFORMAT) < 1024:  # one per number of gaps, in practice
            _PYFORMAT[statement] = found
    return found


def _remember(entry: _Entry, key: tuple[bool, str, str | None], decision: Decision) -> Decision:
    if len(entry.decisions) >= MAX_DECISIONS_PER_ACCOUNT:  # memory stays bounded
        entry.decisions = {}
    entry.decisions[key] = decision
    return decision


def _app_of(app: App) -> _App:
    return _App(
        app.id,
        AppAccess(
            code=app.code,
            name=app.name,
            kind=app.kind,
            free_on_plans=frozenset(app.free_on_plans or ()),
        ),
    )


def _access(app: _App, installed: dict[int, date]) -> AppAccess:
    """As `entitlements.decisions.app_access` makes it."""
    on = installed.get(app.id)
    if on is None:
        return app.access
    return AppAccess(app.access.code, app.access.name, app.access.kind,
                     app.access.free_on_plans, on)  # fmt: skip


def _installed(session: Session, account_id: int) -> list[tuple[datetime, App]]:
    """The account's installed apps, with when (as `app_access` reads them)."""
    return [
        (installed_at, app)
        for installed_at, app in session.execute(
            select(AppInstallation.installed_at, App)
            .join(App, App.id == AppInstallation.app_id)
            .where(
                AppInstallation.account_id == account_id,
                AppInstallation.status == "installed",
            )
        )
    ]
