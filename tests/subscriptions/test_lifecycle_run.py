"""The daily lifecycle run on SQLite and on PostgreSQL, with a clock moved by hand:
reminders, grace, suspension, autopay invoices, cancellation at the end, catch-up after
missed days, shards and test clocks. Every outbox event carries the business day."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.clocks import create_test_clock
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.core.records import SYSTEM_LIFECYCLE
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions import billing, lifecycle
from podpiska.subscriptions.models import LifecycleRun
from tests.helpers import (
    ACTOR,
    MSK,
    active_subscription,
    assert_lines_sum_to_total,
    count,
    events,
    ledger,
    move_to,
    open_account,
    order,
    pay,
    subscription_of,
)

END = date(2027, 11, 22)  # a 12-month term paid on 2026-11-22 ends here (paid through 21.11)
PAID_THROUGH = END - timedelta(days=1)


def days_from(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def run(db: Session, clock: FixedClock, day: date, **kw: object) -> lifecycle.RunReport:
    move_to(clock, day, hour=3)  # the nightly run
    return lifecycle.run_lifecycle(db, at=day, clock=clock, **kw)  # type: ignore[arg-type]


def reminders(db: Session, account_id: int) -> list[tuple[date, int]]:
    return [
        (e.occurred_on, e.payload["days_before"])
        for e in events(db, "subscription.reminder", account_id=account_id)
    ]


def run_days(db: Session, clock: FixedClock, first: date, last: date) -> dict[date, dict[str, int]]:
    """Run every day from `first` to `last`, one call a day; the counts of each day."""
    counts = {}
    for day in days_from(first, last):
        report = run(db, clock, day)
        assert report.days == [day]
        counts[day] = report.totals.as_dict()
    return counts


def test_reminders_grace_and_suspension_each_on_its_day(db: Session, clock: FixedClock) -> None:
    account, subscription = active_subscription(db, clock)
    assert subscription.ends_on == END
    counts = run_days(db, clock, date(2027, 10, 15), date(2027, 12, 23))
    assert reminders(db, account.id) == [
        (PAID_THROUGH - timedelta(days=30), 30),
        (PAID_THROUGH - timedelta(days=7), 7),
        (PAID_THROUGH, 0),
    ]
    assert [d for d, c in counts.items() if c["reminders"]] == [
        date(2027, 10, 22),
        date(2027, 11, 14),
        date(2027, 11, 21),
    ]
    assert [d for d, c in counts.items() if c["grace"]] == [END]  # the day after paid-through
    assert [d for d, c in counts.items() if c["suspended"]] == [END + timedelta(days=30)]
    assert sum(c["autopay_invoices"] + c["cancelled"] for c in counts.values()) == 0

    [grace] = events(db, "subscription.grace_started", account_id=account.id)
    assert grace.occurred_on == END
    assert grace.payload["grace_until"] == "2027-12-21"
    assert grace.payload["paid_through"] == "2027-11-21"
    [suspended] = events(db, "subscription.suspended", account_id=account.id)
    assert suspended.occurred_on == date(2027, 12, 22)
    assert subscription_of(db, account.id).status == "suspended"
    assert [e.event for e in ledger(db, subscription.id)] == [
        "ordered",
        "activated",
        "grace_started",
        "suspended",
    ]
    with db.begin():
        system = list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.actor == SYSTEM_LIFECYCLE))
        )
    assert system == ["subscription.grace_started", "subscription.suspended"]


def test_the_status_changes_exactly_at_the_boundaries(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock)
    for day, status in [
        (PAID_THROUGH, "active"),
        (END, "grace"),
        (END + timedelta(days=29), "grace"),  # 21.12: the last day of grace
        (END + timedelta(days=30), "suspended"),
    ]:
        run(db, clock, day)
        assert subscription_of(db, account.id).status == status, day


def test_running_the_same_day_twice_changes_nothing(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock)
    first = run(db, clock, PAID_THROUGH)
    assert first.totals.reminders == 1
    outbox, runs = count(db, OutboxEvent), count(db, LifecycleRun)
    again = run(db, clock, PAID_THROUGH)
    assert again.days == [PAID_THROUGH]
    assert (again.skipped_days, again.totals.changed) == (1, 0)
    # Even past the day's record (another cut into shards), each change is guarded by the
    # state it changes: nothing is done twice.
    other_cut = lifecycle.run_lifecycle(db, at=PAID_THROUGH, clock=clock, shards=2)
    assert (other_cut.skipped_days, other_cut.totals.changed) == (0, 0)
    assert count(db, OutboxEvent) == outbox
    assert count(db, LifecycleRun) == runs + 2
    direct = lifecycle.run_day(db, day=PAID_THROUGH, today=PAID_THROUGH, clock=clock)
    assert direct.skipped is True
    assert reminders(db, account.id) == [(PAID_THROUGH, 0)]


def test_a_run_after_missed_days_sends_only_the_reminder_still_due(
    db: Session, clock: FixedClock
) -> None:
    account, _ = active_subscription(db, clock)
    assert run(db, clock, date(2027, 10, 1)).days == [date(2027, 10, 1)]
    report = run(db, clock, date(2027, 11, 16))  # 46 days missed, caught up in one call
    assert report.days == days_from(date(2027, 10, 2), date(2027, 11, 16))
    assert report.totals.reminders == 1
    # Not the stale 30-day notice; the 7-day one, recorded on the business day it fell due.
    assert reminders(db, account.id) == [(date(2027, 11, 14), 7)]
    with db.begin():
        recorded = list(db.scalars(select(LifecycleRun.day).order_by(LifecycleRun.day)))
    assert recorded == days_from(date(2027, 10, 1), date(2027, 11, 16))
    run_days(db, clock, date(2027, 11, 17), PAID_THROUGH)
    assert reminders(db, account.id) == [(date(2027, 11, 14), 7), (PAID_THROUGH, 0)]


def test_a_catch_up_past_the_end_sends_no_stale_reminder(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock, months=1)  # ends 22.12.2026
    run(db, clock, date(2026, 12, 1))
    report = run(db, clock, date(2026, 12, 23))
    # As of 23.12 the term is over: "ends in 7 days" or "ends today" would be stale.
    assert (report.totals.reminders, report.totals.grace) == (0, 1)
    assert reminders(db, account.id) == []
    [grace] = events(db, "subscription.grace_started", account_id=account.id)
    assert grace.occurred_on == date(2026, 12, 22)


def test_a_one_month_term_gets_no_30_day_reminder(db: Session, clock: FixedClock) -> None:
    # Bought on 1 December: 01.12.2026 → 01.01.2027, paid through 31.12; its "30 days
    # before" would be the day it was bought.
    move_to(clock, date(2026, 12, 1))
    short, _ = active_subscription(db, clock, months=1)
    longer, _ = active_subscription(db, clock, months=3)  # → 01.03.2027, paid through 28.02
    run_days(db, clock, date(2026, 12, 1), date(2027, 1, 31))
    assert reminders(db, short.id) == [(date(2026, 12, 24), 7), (date(2026, 12, 31), 0)]
    assert reminders(db, longer.id) == [(date(2027, 1, 29), 30)]


def test_autopay_issues_the_renewal_invoice_3_days_before_once_and_paying_renews(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(db, clock, months=1, autopay=True)
    ends_on = date(2026, 12, 22)  # paid through 21.12
    counts = run_days(db, clock, date(2026, 12, 10), date(2026, 12, 20))
    assert [d for d, c in counts.items() if c["autopay_invoices"]] == [date(2026, 12, 18)]
    with db.begin():
        [invoice] = db.scalars(
            select(Invoice).where(
                Invoice.subscription_id == subscription.id, Invoice.kind == "renewal"
            )
        ).all()
    assert invoice.number == "2026-000002"
    assert (invoice.status, invoice.months, invoice.plan, invoice.seats) == (
        "issued",
        1,
        "basic",
        5,
    )
    assert (invoice.term_starts_on, invoice.term_ends_on) == (ends_on, date(2027, 1, 22))
    assert (invoice.issued_on, invoice.due_on) == (date(2026, 12, 18), ends_on)
    assert invoice.total == invoice.subtotal == 1990
    assert (invoice.vat_mode, invoice.vat_amount) == ("included", Decimal("358.85"))
    assert_lines_sum_to_total(db, invoice)
    assert subscription_of(db, account.id).renewal_invoice_id == invoice.id
    [issued] = [
        e for e in events(db, "invoice.issued", account_id=account.id) if e.payload.get("autopay")
    ]
    assert issued.occurred_on == date(2026, 12, 18)
    with db.begin():
        actor = db.scalar(
            select(AuditEntry.actor).where(
                AuditEntry.action == "invoice.issued", AuditEntry.object_id == str(invoice.id)
            )
        )
    assert actor == SYSTEM_LIFECYCLE

    move_to(clock, date(2026, 12, 19))
    renewed = pay(db, clock, invoice, method="card").subscription
    assert (renewed.status, renewed.starts_on, renewed.ends_on) == (
        "active",
        ends_on,
        date(2027, 1, 22),
    )
    assert renewed.renewal_invoice_id is None
    counts = run_days(db, clock, date(2026, 12, 21), date(2027, 1, 20))
    assert subscription_of(db, account.id).status == "active"
    assert sum(c["grace"] for c in counts.values()) == 0
    assert [e.event for e in ledger(db, subscription.id)].count("renewed") == 1
    # the next term's autopay invoice comes 3 days before its own end (paid through 21.01)
    assert [d for d, c in counts.items() if c["autopay_invoices"]] == [date(2027, 1, 18)]
    assert count(db, Invoice, Invoice.subscription_id == subscription.id) == 3


def test_a_cancelled_subscription_ends_cancelled_not_in_grace(
    db: Session, clock: FixedClock
) -> None:
    account, subscription = active_subscription(db, clock, months=1, autopay=True)
    move_to(clock, date(2026, 12, 1))
    billing.cancel_subscription(db, account_id=account.id, actor=ACTOR, clock=clock)
    counts = run_days(db, clock, date(2026, 12, 10), date(2026, 12, 23))
    assert sum(c["reminders"] + c["autopay_invoices"] + c["grace"] for c in counts.values()) == 0
    assert [d for d, c in counts.items() if c["cancelled"]] == [date(2026, 12, 22)]
    final = subscription_of(db, account.id)
    assert (final.status, final.autopay) == ("cancelled", False)
    [event] = events(db, "subscription.cancelled", account_id=account.id)
    assert event.occurred_on == date(2026, 12, 22)
    assert [e.event for e in ledger(db, subscription.id)][-1] == "cancelled"
    assert reminders(db, account.id) == []
    # The account may order again.
    move_to(clock, date(2026, 12, 23))
    assert order(db, clock, account.id, months=1).subscription.status == "pending"


def test_shards_touch_every_subscription_exactly_once(db: Session, clock: FixedClock) -> None:
    accounts = [active_subscription(db, clock, months=1)[0].id for _ in range(7)]
    end = date(2026, 12, 22)
    report = run(db, clock, end - timedelta(days=1), shards=3)
    assert report.totals.reminders == 7
    report = run(db, clock, end, shards=3)
    assert report.totals.grace == 7
    with db.begin():
        by_shard = {
            r.shard: r.counts["grace"]
            for r in db.scalars(select(LifecycleRun).where(LifecycleRun.day == end))
        }
    assert by_shard == dict(Counter(a % 3 for a in accounts))
    assert all(by_shard.values()) and len(by_shard) == 3
    per_account = Counter(e.account_id for e in events(db, "subscription.grace_started"))
    assert per_account == dict.fromkeys(accounts, 1)
    assert Counter(e.account_id for e in events(db, "subscription.reminder")) == dict.fromkeys(
        accounts, 1
    )
    # One shard on its own (a worker's share): only its accounts.
    suspend_day = end + timedelta(days=30)
    move_to(clock, suspend_day)
    one = lifecycle.run_lifecycle(db, at=suspend_day, clock=clock, shards=3, only_shard=1)
    assert one.totals.suspended == sum(1 for a in accounts if a % 3 == 1)
    assert {subscription_of(db, a).status for a in accounts if a % 3 == 1} == {"suspended"}
    assert {subscription_of(db, a).status for a in accounts if a % 3 != 1} == {"grace"}


def test_a_test_clock_moves_only_its_accounts(db: Session, clock: FixedClock) -> None:
    test_clock = create_test_clock(db, name="сценарий", now=clock.now(), actor=ACTOR, clock=clock)
    on_clock = open_account(db, clock, test_clock_id=test_clock.id)
    paid = pay(db, clock, order(db, clock, on_clock.id, months=1).invoice).subscription
    assert paid.test_clock_id == test_clock.id
    real, _ = active_subscription(db, clock, months=1)

    to = datetime.combine(date(2026, 12, 23), time(10), tzinfo=MSK)
    moved = lifecycle.advance_test_clock(
        db, clock_id=test_clock.id, to=to, actor=ACTOR, clock=clock
    )
    assert moved.report.days == days_from(date(2026, 11, 23), date(2026, 12, 23))
    assert (moved.report.totals.reminders, moved.report.totals.grace) == (2, 1)
    assert subscription_of(db, on_clock.id).status == "grace"
    assert subscription_of(db, real.id).status == "active"
    assert reminders(db, on_clock.id) == [(date(2026, 12, 14), 7), (date(2026, 12, 21), 0)]
    assert events(db, "subscription.reminder", account_id=real.id) == []
    [grace] = events(db, "subscription.grace_started", account_id=on_clock.id)
    assert grace.occurred_on == date(2026, 12, 22)
    with db.begin():
        clocks = set(db.scalars(select(LifecycleRun.clock_id)))
    assert clocks == {test_clock.id}
    # The account lives in its clock's time: renewing now starts at the old end.
    invoice = billing.renew_subscription(db, account_id=on_clock.id, actor=ACTOR, clock=clock)
    assert (invoice.issued_on, invoice.term_starts_on) == (date(2026, 12, 23), date(2026, 12, 22))
    assert_lines_sum_to_total(db, invoice)
    # A real-time run of the same day leaves the test clock's account alone.
    report = run(db, clock, date(2026, 12, 22))
    assert report.totals.grace == 1
    assert subscription_of(db, real.id).status == "grace"
    with pytest.raises(DomainError) as caught:
        lifecycle.advance_test_clock(
            db, clock_id=test_clock.id, to=to - timedelta(days=1), actor=ACTOR, clock=clock
        )
    assert caught.value.code == "test_clock_backwards"


def test_advancing_a_test_clock_by_days_runs_each_day_as_lived(
    db: Session, clock: FixedClock
) -> None:
    test_clock = create_test_clock(db, name="по дням", now=clock.now(), actor=ACTOR, clock=clock)
    account = open_account(db, clock, test_clock_id=test_clock.id)
    pay(db, clock, order(db, clock, account.id, months=1).invoice)
    first = lifecycle.advance_test_clock(
        db, clock_id=test_clock.id, days=20, actor=ACTOR, clock=clock
    )
    assert first.report.days[-1] == date(2026, 12, 12)
    second = lifecycle.advance_test_clock(
        db, clock_id=test_clock.id, days=40, actor=ACTOR, clock=clock
    )
    assert second.report.days[0] == date(2026, 12, 13)  # continues where the last one ended
    assert reminders(db, account.id) == [(date(2026, 12, 14), 7), (date(2026, 12, 21), 0)]
    assert subscription_of(db, account.id).status == "suspended"


def renewals(db: Session) -> list[Invoice]:
    with db.begin():
        return list(
            db.scalars(select(Invoice).where(Invoice.kind == "renewal").order_by(Invoice.number))
        )


def test_a_shard_ahead_never_makes_the_others_skip_days(db: Session, clock: FixedClock) -> None:
    # Autopay subscriptions whose renewal invoices fall due on 18, 19 and 20 December, two
    # on each day, spread over three shards (account_id % 3).
    due: dict[int, date] = {}
    for n in range(9):
        move_to(clock, date(2026, 11, 22) + timedelta(days=n % 3))
        _, subscription = active_subscription(db, clock, months=1, autopay=True)
        assert subscription.ends_on is not None
        due[subscription.id] = subscription.ends_on - timedelta(
            days=4
        )  # 3 days before paid-through
    assert sorted(set(due.values())) == days_from(date(2026, 12, 18), date(2026, 12, 20))
    run(db, clock, date(2026, 12, 17), shards=3)
    # Shard 0 runs on its own up to the 20th first (its worker was faster, the others
    # crashed): 18, 19, 20 for it alone.
    ahead = run(db, clock, date(2026, 12, 20), shards=3, only_shard=0)
    assert ahead.days == days_from(date(2026, 12, 18), date(2026, 12, 20))

    # The whole run up to the 20th: shards 1 and 2 still run all three days.
    report = run(db, clock, date(2026, 12, 20), shards=3)

    assert report.days == days_from(date(2026, 12, 18), date(2026, 12, 20))
    with db.begin():
        recorded = Counter(
            (r.shard, r.day)
            for r in db.scalars(select(LifecycleRun).where(LifecycleRun.shards == 3))
        )
    assert recorded == {
        (shard, day): 1
        for shard in range(3)
        for day in days_from(date(2026, 12, 17), date(2026, 12, 20))
    }
    issued = renewals(db)
    assert len(issued) == 9
    assert {invoice.subscription_id: invoice.issued_on for invoice in issued} == due
    for invoice in issued:
        assert_lines_sum_to_total(db, invoice)
    # Nothing is left to run, and a day before those already run is never run again.
    assert run(db, clock, date(2026, 12, 20), shards=3).totals.changed == 0
    assert run(db, clock, date(2026, 12, 19), shards=3).days == []
    assert lifecycle.last_run_day(db, shards=3) == date(2026, 12, 20)


def test_a_shard_whose_first_day_failed_starts_with_the_others(
    db: Session, clock: FixedClock
) -> None:
    move_to(clock, date(2026, 11, 22))
    run(db, clock, date(2026, 12, 1), shards=2, only_shard=0)  # shard 1 never ran that day
    assert lifecycle.shard_days(db, at=date(2026, 12, 3), shards=2, clock_id=0) == {
        0: days_from(date(2026, 12, 2), date(2026, 12, 3)),
        1: days_from(date(2026, 12, 1), date(2026, 12, 3)),
    }
