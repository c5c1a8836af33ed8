"""The in-process snapshot of entitlements, on SQLite and PostgreSQL: answers from memory,
forgotten by the outbox right after every change (a payment, users added and blocked, the
daily run's grace and suspension, an app installed, a trial), at the end of the day, and
by a new registry or catalog; bounded; safe with threads; and always the answer of the
database path (`check_entitlement`, `check_many`)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from podpiska.accounts.models import AccountUser
from podpiska.adapters.clock import FixedClock
from podpiska.catalog import apps as app_registry
from podpiska.catalog.domain.catalog import ACTIONS
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import OutboxEvent
from podpiska.entitlements import apps
from podpiska.entitlements.cache import EntitlementSnapshots
from podpiska.entitlements.decisions import check_entitlement, check_many
from podpiska.entitlements.domain import Decision
from podpiska.subscriptions import apps as app_uses
from podpiska.subscriptions import billing, lifecycle
from podpiska.subscriptions.users import add_user, set_user_blocked
from tests.helpers import (
    ACTOR,
    active_subscription,
    move_to,
    open_account,
    order,
    pay,
)

REGISTRY: list[dict[str, Any]] = [
    {"code": "import-amo", "name": "Перенос из amoCRM", "vendor": "Podpiska", "kind": "migrator"},
    {"code": "telephony", "name": "Телефония", "vendor": "Podpiska", "kind": "vendor_basic",
     "free_on_plans": ["standard", "professional"]},
    {"code": "delivery", "name": "Доставка СДЭК", "vendor": "Партнёр", "kind": "regular"},
]  # fmt: skip
APPS: list[str | None] = [None, "import-amo", "telephony", "delivery"]


@pytest.fixture
def snapshots(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> Iterator[EntitlementSnapshots]:
    made = settled(EntitlementSnapshots(session_factory, clock))
    yield made
    made.stop()


def settled(snap: EntitlementSnapshots, timeout: float = 60.0) -> EntitlementSnapshots:
    """Refreshed until it keeps answers: on PostgreSQL the transactions that were writing
    events at its first refresh, and those that may fill its gaps, have ended."""
    deadline = time.monotonic() + timeout
    while True:
        snap.refresh()
        if not snap.stats()["blind"] and not snap.stats()["gaps"]:
            return snap
        assert time.monotonic() < deadline, snap.stats()
        time.sleep(0.01)


@pytest.fixture
def registry(db: Session, clock: FixedClock) -> None:
    app_registry.load_registry(db, REGISTRY, actor=ACTOR, clock=clock)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fresh(snap: EntitlementSnapshots, account_id: int, action: str, app: str | None = None) -> str:
    """As the API answers: refresh, then check; the reason."""
    snap.refresh()
    return snap.check(account_id, action, app).reason


def uncached(db: Session, clock: FixedClock, account_id: int, action: str,
             app: str | None = None) -> Decision:  # fmt: skip
    return check_entitlement(db, account_id=account_id, action=action, clock=clock, app_code=app)


def test_a_kept_answer_needs_no_query(
    db: Session, clock: FixedClock, engine: Engine, snapshots: EntitlementSnapshots, registry: None
) -> None:
    account, _ = active_subscription(db, clock, plan="standard")
    snapshots.refresh()
    first = snapshots.check(account.id, "crm.create_deal")
    assert first == uncached(db, clock, account.id, "crm.create_deal")
    snapshots.check(account.id, "apps.use", "telephony")
    with statements(engine) as sent:
        for _ in range(3):
            assert snapshots.check(account.id, "crm.create_deal") == first
            assert snapshots.check(account.id, "apps.use", "telephony").reason == "included_in_plan"
            assert [d.reason for d in snapshots.check_many(
                account.id, [("apps.use", "telephony"), ("rest_api.call", None)])] == [
                "included_in_plan", "marketplace_required"]  # fmt: skip
    assert sent == []
    with statements(engine) as sent:
        snapshots.refresh()
    assert [q for q in sent if not q.startswith("BEGIN")] == sent[-1:]  # a refresh: one query
    assert snapshots.stats()["hits"] >= 9


def test_a_payment_is_seen_right_after(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id, months=12).invoice
    assert fresh(snapshots, account_id, "crm.read") == "not_paid"
    assert fresh(snapshots, account_id, "crm.read") == "not_paid"  # kept
    pay(db, clock, invoice)
    assert fresh(snapshots, account_id, "crm.read") == "allowed"
    assert snapshots.stats()["evictions"] >= 1


def test_users_added_and_blocked_are_seen_right_after(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    account, _ = active_subscription(db, clock)  # Basic: 5 users at most
    for n in range(1, 4):
        add_user(db, account_id=account.id, email=f"u{n}@romashka.example",
                          actor=ACTOR, clock=clock)  # fmt: skip
    assert fresh(snapshots, account.id, "users.add") == "allowed"  # 4 of 5
    last = add_user(db, account_id=account.id, email="u4@romashka.example",
                             actor=ACTOR, clock=clock)  # fmt: skip
    snapshots.refresh()
    full = snapshots.check(account.id, "users.add")
    assert full.reason == "user_limit"
    assert full.details["active_users"] == 5
    set_user_blocked(db, account_id=account.id, user_id=last.id, blocked=True,
                              actor=ACTOR, clock=clock)  # fmt: skip
    assert fresh(snapshots, account.id, "users.add") == "allowed"
    set_user_blocked(db, account_id=account.id, user_id=last.id, blocked=False,
                              actor=ACTOR, clock=clock)  # fmt: skip
    assert fresh(snapshots, account.id, "users.add") == "user_limit"


def test_the_daily_run_is_seen_right_after(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    """The clock already stands on the day: only the run's events make the answer change."""
    account, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 22))
    assert fresh(snapshots, account.id, "crm.create_deal") == "allowed"  # not run yet
    lifecycle.run_lifecycle(db, at=date(2027, 11, 22), clock=clock)
    assert fresh(snapshots, account.id, "crm.create_deal") == "grace_restricted"
    move_to(clock, date(2027, 12, 22))
    assert fresh(snapshots, account.id, "crm.read") == "grace_allowed"  # not run yet
    lifecycle.run_lifecycle(db, at=date(2027, 12, 22), clock=clock)
    assert fresh(snapshots, account.id, "crm.read") == "suspended"
    assert fresh(snapshots, account.id, "billing.pay") == "billing_always_allowed"


def test_an_app_installed_and_a_trial_are_seen_right_after(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    account, _ = active_subscription(db, clock, plan="standard")
    assert fresh(snapshots, account.id, "apps.use", "delivery") == "marketplace_required"
    refused = snapshots.check(account.id, "apps.use", "delivery")
    assert refused.details["trial_days"] == 14
    assert snapshots.check(account.id, "apps.use", "telephony").reason == "included_in_plan"
    before = snapshots.stats()["evictions"]
    apps.install_app(db, account_id=account.id, app_code="telephony", actor=ACTOR, clock=clock)
    snapshots.refresh()
    assert snapshots.stats()["evictions"] == before + 1
    assert snapshots.check(account.id, "apps.use", "telephony") == uncached(
        db, clock, account.id, "apps.use", "telephony"
    )
    app_uses.start_trial(db, account_id=account.id, actor=ACTOR, clock=clock)
    assert fresh(snapshots, account.id, "apps.use", "delivery") == "allowed"
    assert fresh(snapshots, account.id, "rest_api.call") == "allowed"


def test_the_day_ends_the_kept_answer(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    """The trial's last day is 05.12.2026: on the 6th (no event at all) it is over."""
    account, _ = active_subscription(db, clock, plan="standard")
    app_uses.start_trial(db, account_id=account.id, actor=ACTOR, clock=clock)
    move_to(clock, date(2026, 12, 5), hour=23)
    assert fresh(snapshots, account.id, "apps.use", "delivery") == "allowed"
    move_to(clock, date(2026, 12, 6), hour=0)
    assert snapshots.check(account.id, "apps.use", "delivery").reason == "marketplace_required"
    move_to(clock, date(2026, 12, 5), hour=12)  # a test's clock may go back: so may the answer
    assert snapshots.check(account.id, "apps.use", "delivery").reason == "allowed"


def test_a_new_registry_or_catalog_forgets_everything(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    account, _ = active_subscription(db, clock, plan="standard")
    assert fresh(snapshots, account.id, "apps.use", "telephony") == "included_in_plan"
    changed = [dict(e, free_on_plans=["professional"]) if e["code"] == "telephony" else e
               for e in REGISTRY]  # fmt: skip
    app_registry.load_registry(db, changed, actor=ACTOR, clock=clock)
    report = snapshots.refresh()
    assert report.cleared
    assert snapshots.check(account.id, "apps.use", "telephony").reason == "marketplace_required"
    app_registry.load_registry(db, changed, actor=ACTOR, clock=clock)  # unchanged: no event
    assert not snapshots.refresh().cleared
    assert len(snapshots) == 1


def test_memory_is_bounded_least_recently_used_first_out(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    snap = EntitlementSnapshots(session_factory, clock, max_accounts=3)
    ids = [active_subscription(db, clock)[0].id for _ in range(5)]
    settled(snap)
    for account_id in ids[:3]:
        snap.check(account_id, "crm.read")
    snap.check(ids[0], "crm.read")  # the first is used again: the second is the oldest
    snap.check(ids[3], "crm.read")
    assert len(snap) == 3
    misses = snap.stats()["misses"]
    snap.check(ids[0], "crm.read")
    snap.check(ids[2], "crm.read")
    assert snap.stats()["misses"] == misses  # kept
    snap.check(ids[1], "crm.read")
    assert snap.stats()["misses"] == misses + 1  # was pushed out
    for account_id in ids:
        snap.check(account_id, "crm.read")
    assert len(snap) == 3
    with pytest.raises(ValueError):
        EntitlementSnapshots(session_factory, clock, max_accounts=0)


def test_the_answers_kept_per_account_are_bounded(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import podpiska.entitlements.cache as module

    monkeypatch.setattr(module, "MAX_DECISIONS_PER_ACCOUNT", 3)
    account, _ = active_subscription(db, clock)
    snapshots.check_many(account.id, [("crm.read", None)])  # both states read and kept
    snapshots.check_many(account.id, [("rest_api.call", None)])
    for action in ACTIONS:
        first = snapshots.check(account.id, action)
        assert snapshots.check(account.id, action) is first  # given again
        assert len(snapshots._entries[account.id].decisions) <= 3
    assert [d.reason for d in snapshots.check_many(account.id, [(a, None) for a in ACTIONS])] == [
        uncached(db, clock, account.id, a).reason for a in ACTIONS
    ]
    assert len(snapshots._entries[account.id].decisions) <= 3


def test_errors_are_those_of_the_database_path(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    account, _ = active_subscription(db, clock)
    snapshots.refresh()
    for attempt in range(2):  # not kept, then kept
        for args in ((999, "crm.read", None), (account.id, "apps.use", "nope"),
                     (account.id, "crm.teleport", None),
                     (account.id, "crm.teleport", "nope")):  # fmt: skip
            with pytest.raises(DomainError) as expected:
                uncached(db, clock, *args)
            with pytest.raises(DomainError) as got:
                snapshots.check(*args)
            assert got.value.code == expected.value.code, (attempt, args)
        snapshots.check(account.id, "apps.use", "delivery")
    batch = [("crm.read", None), ("apps.use", "nope"), ("crm.teleport", None)]
    with pytest.raises(DomainError) as many:
        snapshots.check_many(account.id, batch)
    assert many.value.code == "unknown_app"
    with pytest.raises(DomainError) as many:
        snapshots.check_many(account.id, list(reversed(batch)))
    assert many.value.code == "unknown_action"


def test_accounts_on_a_test_clock_are_always_read(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    from podpiska.core.clocks import create_test_clock

    test_clock = create_test_clock(db, name="t", actor=ACTOR, clock=clock)
    account = open_account(db, clock, test_clock_id=test_clock.id)
    pay(db, clock, order(db, clock, account.id, months=1).invoice)
    snapshots.refresh()
    assert snapshots.check(account.id, "crm.create_deal").reason == "allowed"
    assert len(snapshots) == 0
    lifecycle.advance_test_clock(db, clock_id=test_clock.id, days=31, actor=ACTOR, clock=clock)
    # No refresh: the clock moved and the run happened in its time.
    assert snapshots.check(account.id, "crm.create_deal").reason == "grace_restricted"


def test_an_answer_comes_with_the_moment_it_was_made_for(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    """`decided`/`decided_many`: the answers and the account's own moment (the one a
    refusal is counted at) — the server's clock read or kept, a test clock's now."""
    from podpiska.core.clocks import create_test_clock

    real, _ = active_subscription(db, clock, plan="standard")
    test_clock = create_test_clock(db, name="t", actor=ACTOR, clock=clock)
    on_clock = open_account(db, clock, test_clock_id=test_clock.id)
    lifecycle.advance_test_clock(db, clock_id=test_clock.id, days=40, actor=ACTOR, clock=clock)
    snapshots.refresh()
    assert snapshots.decided(real.id, "crm.read") == (uncached(db, clock, real.id, "crm.read"),
                                                      clock.now())  # fmt: skip
    clock.instant += timedelta(minutes=5)
    assert snapshots.kept(real.id, "crm.read") is not None
    assert snapshots.decided(real.id, "crm.read")[1] == clock.now()  # kept: the server's
    ahead = clock.now() + timedelta(days=40) - timedelta(minutes=5)  # the test clock's now
    decision, at = snapshots.decided(on_clock.id, "crm.read")
    assert (decision.reason, at) == ("not_paid", ahead)
    answers, at = snapshots.decided_many(on_clock.id, [("crm.read", None), ("users.add", None)])
    assert ([d.reason for d in answers], at) == (["not_paid", "not_paid"], ahead)


def test_threads_refresh_and_check_while_licenses_change(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    ids = [active_subscription(db, clock)[0].id for _ in range(4)]
    pending = []
    for _ in range(4):
        account_id = open_account(db, clock).id
        pending.append((account_id, order(db, clock, account_id).invoice))
    stop = threading.Event()
    failures: list[BaseException] = []

    def reader() -> None:
        rng = random.Random(threading.get_ident())
        try:
            while not stop.is_set():
                snapshots.refresh()
                account_id = rng.choice(ids + [a for a, _ in pending])
                snapshots.check(account_id, rng.choice(["crm.read", "users.add"]))
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for n, (account_id, invoice) in enumerate(pending):
            pay(db, clock, invoice)
            for k in range(4):
                add_user(db, account_id=ids[n], email=f"u{k}@t{n}.example",
                                  actor=ACTOR, clock=clock)  # fmt: skip
            # Right after each change, as the API would answer it: the change is seen.
            assert fresh(snapshots, account_id, "crm.read") == "allowed"
            assert fresh(snapshots, ids[n], "users.add") == "user_limit"
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    snapshots.refresh()
    for account_id in ids + [a for a, _ in pending]:
        for action in ("crm.read", "users.add"):
            assert snapshots.check(account_id, action) == uncached(db, clock, account_id, action)


def test_a_background_refresher_keeps_it_fresh(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id).invoice
    snapshots.refresh()
    assert snapshots.check(account_id, "crm.read").reason == "not_paid"
    snapshots.start(interval_seconds=0.01)
    pay(db, clock, invoice)
    for _ in range(500):
        if snapshots.check(account_id, "crm.read").reason == "allowed":
            break
        threading.Event().wait(0.01)
    assert snapshots.check(account_id, "crm.read").reason == "allowed"
    snapshots.stop()


@pytest.mark.postgres_only
def test_an_event_committed_after_a_later_one_is_not_missed(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    """PostgreSQL: a transaction takes an event id, another takes the next and commits
    first. The refresh sees the second; the first id stays a gap until its transaction
    ends, and its event is read then."""
    snapshots = EntitlementSnapshots(session_factory, clock)
    slow, _ = active_subscription(db, clock)
    other, _ = active_subscription(db, clock)
    settled(snapshots)
    assert snapshots.check(slow.id, "users.add").reason == "allowed"  # kept
    with session_factory() as long_running:
        transaction = long_running.begin()
        for n in range(4):  # Basic: 5 users, the administrator and these
            long_running.add(AccountUser(account_id=slow.id, email=f"late{n}@x.example",
                                         role="user", status="active",
                                         created_at=clock.now()))  # fmt: skip
        late = OutboxEvent(type="user.added", account_id=slow.id, subscription_id=None,
                           occurred_on=clock.now().date(), payload={}, created_at=clock.now(),
                           fanned_out=True)  # fmt: skip
        long_running.add(late)
        long_running.flush()  # the id is taken
        add_user(db, account_id=other.id, email="quick@x.example", actor=ACTOR,
                          clock=clock)  # fmt: skip
        snapshots.refresh()
        assert snapshots.stats()["gaps"] == 1
        before = snapshots.check(slow.id, "users.add")
        assert before.reason == "allowed"
        transaction.commit()
    snapshots.refresh()
    after = snapshots.check(slow.id, "users.add")
    assert after.reason == "user_limit"
    assert after == uncached(db, clock, slow.id, "users.add")
    assert snapshots.stats()["evictions"] == 1  # the late event forgot the kept account


@pytest.mark.postgres_only
def test_a_rolled_back_id_and_the_start_end_when_no_transaction_can_fill_them(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account, _ = active_subscription(db, clock)
    with session_factory() as running, session_factory() as other:
        transaction = running.begin()  # writing an event at the first refresh
        running.add(OutboxEvent(type="user.added", account_id=account.id, subscription_id=None,
                                occurred_on=clock.now().date(), payload={},
                                created_at=clock.now(), fanned_out=True))  # fmt: skip
        running.flush()
        unrelated = other.begin()  # writing, but no event: never waited for
        other.execute(text("INSERT INTO test_clocks (name, now, created_at) "
                           "VALUES ('x', now(), now())"))  # fmt: skip
        snapshots = EntitlementSnapshots(session_factory, clock)
        snapshots.refresh()
        assert snapshots.stats()["blind"] == 1
        snapshots.check(account.id, "crm.read")
        assert len(snapshots) == 0  # read, not kept: that transaction may still commit
        add_user(db, account_id=account.id, email="a@x.example", actor=ACTOR,
                          clock=clock)  # fmt: skip
        snapshots.refresh()
        assert snapshots.stats()["gaps"] == 1  # the id taken above
        transaction.rollback()
        settled(snapshots, timeout=5)  # no transaction can fill the gap or the start now
        snapshots.check(account.id, "crm.read")
        assert len(snapshots) == 1
        unrelated.rollback()


def answer(
    snap: EntitlementSnapshots | None,
    account_id: int,
    action: str,
    app: str | None,
    *,
    db: Session | None = None,
    clock: FixedClock | None = None,
) -> Decision | str:
    """The decision, or the code of the error (from the snapshot, or the database path)."""
    try:
        if snap is not None:
            return snap.check(account_id, action, app)
        assert db is not None and clock is not None
        return uncached(db, clock, account_id, action, app)
    except DomainError as error:
        return error.code


def _zoo(db: Session, clock: FixedClock) -> list[int]:
    """Accounts in every state the check knows, some with users, apps and trials."""
    ids = [open_account(db, clock).id]  # never ordered
    pending = open_account(db, clock).id
    order(db, clock, pending)
    ids.append(pending)
    for plan, add_ons in (("basic", []), ("standard", []), ("professional", ["marketplace"]),
                          ("standard", ["market_plus"]), ("enterprise", [])):  # fmt: skip
        account, _ = active_subscription(db, clock, plan=plan, add_ons=add_ons)
        ids.append(account.id)
    on_premise = open_account(db, clock, edition="on_premise").id
    pay(db, clock, order(db, clock, on_premise, plan="standard").invoice)
    ids.append(on_premise)
    with_users, _ = active_subscription(db, clock)
    for n in range(4):
        add_user(db, account_id=with_users.id, email=f"u{n}@zoo.example",
                          actor=ACTOR, clock=clock)  # fmt: skip
    ids.append(with_users.id)
    trial, _ = active_subscription(db, clock, plan="standard")
    app_uses.start_trial(db, account_id=trial.id, actor=ACTOR, clock=clock)
    apps.install_app(db, account_id=trial.id, app_code="delivery", actor=ACTOR, clock=clock)
    ids.append(trial.id)
    installed, _ = active_subscription(db, clock, plan="standard")
    apps.install_app(db, account_id=installed.id, app_code="telephony", actor=ACTOR, clock=clock)
    ids.append(installed.id)
    cancelled, _ = active_subscription(db, clock)
    billing.cancel_subscription(db, account_id=cancelled.id, actor=ACTOR, clock=clock)
    ids.append(cancelled.id)
    # Ends in a year: grace, then suspended, while the others renew or not.
    ending, _ = active_subscription(db, clock, months=1)
    ids.append(ending.id)
    return ids


def test_the_snapshot_answers_as_the_database_path(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    """Every account × action × app, on several days of the license's life, cold and kept,
    one by one and in random batches: the same decisions, the same errors."""
    ids = _zoo(db, clock)
    rng = random.Random(2026)
    actions = [*ACTIONS]
    days = [date(2026, 11, 22), date(2026, 12, 10), date(2026, 12, 23), date(2027, 1, 23)]
    for day in days:
        if day > date(2026, 11, 22):
            lifecycle.run_lifecycle(db, at=day, clock=clock)
            move_to(clock, day)
        snapshots.refresh()
        cold = {}
        for account_id in ids:
            for action in actions:
                for app in APPS:
                    got = cold[account_id, action, app] = answer(snapshots, account_id, action, app)
                    assert got == answer(None, account_id, action, app, db=db, clock=clock), (
                        day, account_id, action, app)  # fmt: skip
        snapshots.refresh()
        for (account_id, action, app), got in cold.items():
            assert answer(snapshots, account_id, action, app) == got  # kept
        for _ in range(40):
            account_id = rng.choice(ids)
            batch = [(rng.choice(actions), rng.choice(APPS)) for _ in range(rng.randint(1, 6))]
            expected = check_many(db, account_id=account_id, checks=batch, clock=clock)
            assert snapshots.check_many(account_id, batch) == expected, (day, account_id, batch)
    assert snapshots.stats()["hits"] > snapshots.stats()["misses"]


def test_kept_answers_follow_random_changes(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots, registry: None
) -> None:
    """Random changes through the use-cases, each followed by a refresh and a comparison
    of every account's answers with the database path."""
    ids = _zoo(db, clock)
    rng = random.Random(7)
    users: dict[int, list[int]] = {}
    snapshots.refresh()
    for step in range(25):
        account_id = rng.choice(ids)
        kind = rng.choice(["user", "block", "install", "trial", "order", "day"])
        try:
            if kind == "user":
                user = add_user(db, account_id=account_id, email=f"s{step}@r.example",
                                         actor=ACTOR, clock=clock)  # fmt: skip
                users.setdefault(account_id, []).append(user.id)
            elif kind == "block" and users.get(account_id):
                set_user_blocked(db, account_id=account_id,
                                          user_id=users[account_id].pop(), blocked=True,
                                          actor=ACTOR, clock=clock)  # fmt: skip
            elif kind == "install":
                apps.install_app(db, account_id=account_id, app_code=rng.choice(APPS[1:]) or "",
                                 actor=ACTOR, clock=clock)  # fmt: skip
            elif kind == "trial":
                app_uses.start_trial(db, account_id=account_id, actor=ACTOR, clock=clock)
            elif kind == "order":
                pay(db, clock, order(db, clock, account_id, months=1).invoice)
            elif kind == "day":
                day = clock.now().date() + timedelta(days=rng.choice([1, 7, 20]))
                lifecycle.run_lifecycle(db, at=day, clock=clock)
                move_to(clock, day)
        except DomainError:
            pass  # refused: nothing changed
        snapshots.refresh()
        for other in ids:
            for action, app in (("users.add", None), ("apps.use", "delivery"),
                                ("apps.install", "telephony"), ("crm.create_deal", None),
                                ("rest_api.call", None)):  # fmt: skip
                assert snapshots.check(other, action, app) == uncached(
                    db, clock, other, action, app
                ), (step, kind, other, action, app)


@pytest.mark.postgres_only
def test_too_many_gaps_forget_everything_until_their_writers_end(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots,
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import podpiska.entitlements.cache as module

    monkeypatch.setattr(module, "MAX_GAP_RANGES", 0)
    account, _ = active_subscription(db, clock)
    snapshots.refresh()
    snapshots.check(account.id, "crm.read")
    assert len(snapshots) == 1
    with session_factory() as running:
        transaction = running.begin()
        running.add(OutboxEvent(type="user.added", account_id=account.id, subscription_id=None,
                                occurred_on=clock.now().date(), payload={},
                                created_at=clock.now(), fanned_out=True))  # fmt: skip
        running.flush()
        add_user(db, account_id=account.id, email="b@x.example", actor=ACTOR,
                          clock=clock)  # fmt: skip
        assert snapshots.refresh().cleared
        assert snapshots.stats()["blind"] == 1
        snapshots.check(account.id, "crm.read")
        assert len(snapshots) == 0
        transaction.commit()
    settled(snapshots, timeout=5)
    assert snapshots.check(account.id, "users.add") == uncached(db, clock, account.id, "users.add")
    assert len(snapshots) == 1


@pytest.mark.postgres_only
def test_a_broken_refresh_connection_is_opened_again(
    db: Session, clock: FixedClock, snapshots: EntitlementSnapshots
) -> None:
    """The refreshes' own connection, killed by the server (a restart, a failover), is
    replaced by the next refresh, which then sees what happened meanwhile."""
    account_id = open_account(db, clock).id
    invoice = order(db, clock, account_id, months=12).invoice
    assert fresh(snapshots, account_id, "crm.read") == "not_paid"
    with db.begin():
        killed = db.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE '%outbox_events%'"
            )
        ).all()
    assert killed, "the refresh connection was found"
    pay(db, clock, invoice)
    assert fresh(snapshots, account_id, "crm.read") == "allowed"  # on a new connection
    assert fresh(snapshots, account_id, "crm.read") == "allowed"


def test_an_app_not_seen_yet_is_read_alone_for_a_kept_account(
    db: Session, clock: FixedClock, engine: Engine, snapshots: EntitlementSnapshots, registry: None
) -> None:
    """The account's state and installations are kept: asking about another app reads that
    app's registry entry (one query), not the account again; an unknown app is refused as
    the database path refuses it."""
    account, _ = active_subscription(db, clock, plan="standard")
    snapshots.refresh()
    assert snapshots.check(account.id, "apps.use", "telephony").reason == "included_in_plan"
    with statements(engine) as sent:
        answer = snapshots.check(account.id, "apps.use", "delivery")
    assert answer == uncached(db, clock, account.id, "apps.use", "delivery")
    reads = [q for q in sent if q.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "apps" in reads[0], sent
    with statements(engine) as sent:
        assert snapshots.check(account.id, "apps.use", "delivery") == answer
    assert sent == []  # kept now
    with pytest.raises(DomainError) as unknown:
        snapshots.check(account.id, "apps.use", "nope")
    assert unknown.value.code == "unknown_app"
