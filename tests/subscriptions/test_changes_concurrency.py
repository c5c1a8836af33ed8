"""Mid-term changes at the same time, proven on PostgreSQL only (SQLite has no row locks):
threads released at once by a barrier, each with its own session, previewing and committing
through the real use-cases. Whatever the interleaving, the result is that of some serial
order: one pending change (and one invoice) per winner, a clean 409 for everyone else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core.db.session import make_engine, make_session_factory
from podpiska.core.domain.errors import DomainError
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions import changes
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription, SubscriptionChange
from tests.helpers import (
    ACTOR,
    PROJECT,
    active_subscription,
    assert_lines_sum_to_total,
    count,
    invoice_by_id,
    move_to,
    pay,
)

pytestmark = pytest.mark.postgres_only

D = Decimal
SECRET = "a-test-secret-for-change-tokens"
THREADS = 20
Outcome = tuple[str, Any]  # ("ok", value) | ("refused", code) | ("error", repr)


@pytest.fixture
def wide_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a pool wide enough for every thread to hold a connection at once."""
    engine: Engine = make_engine(db_url, pool_size=THREADS + 2, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def site_prorate_db(
    wide_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path
) -> Iterator[Session]:
    """site-platform (380 ₽ a user above the free ones) with `seat_policy: prorate`."""
    text = (PROJECT / "catalogs" / "site-platform.yaml").read_text(encoding="utf-8")
    assert "seat_policy: shorten_term" in text
    path = tmp_path / "site-platform-prorate.yaml"
    path.write_text(text.replace("seat_policy: shorten_term", "seat_policy: prorate"), "utf-8")
    with wide_factory() as session:
        load_catalog_document(session, path=path, actor="test:setup", clock=clock)
        yield session


def at_once(calls: list[Callable[[Session], Any]], factory: sessionmaker[Session]) -> list[Outcome]:
    """Run each call in its own thread and session, all released together."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def work(call: Callable[[Session], Any]) -> Outcome:
        with factory() as session:
            barrier.wait()
            try:
                return ("ok", call(session))
            except DomainError as error:
                return ("refused", error.code)
            except Exception as error:  # reported, then asserted on
                return ("error", repr(error))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(work, calls))


def seat_change(
    subscription_id: int, seats: int, clock: FixedClock
) -> Callable[[Session], tuple[int, int | None, int]]:
    """Preview, then commit at once with the preview's token."""

    def call(session: Session) -> tuple[int, int | None, int]:
        seen = changes.preview_change(
            session, subscription_id=subscription_id, kind="seats", params={"seats": seats},
            secret=SECRET, clock=clock,
        )  # fmt: skip
        done = changes.commit_change(
            session, subscription_id=subscription_id, token=seen.token, secret=SECRET,
            actor=ACTOR, clock=clock,
        )  # fmt: skip
        return done.change.id, done.invoice.id if done.invoice else None, seats

    return call


def committing(subscription_id: int, token: str, clock: FixedClock) -> Callable[[Session], int]:
    def call(session: Session) -> int:
        done = changes.commit_change(
            session, subscription_id=subscription_id, token=token, secret=SECRET,
            actor=ACTOR, clock=clock,
        )  # fmt: skip
        return done.change.id

    return call


def term_basis(seats: int) -> Decimal:
    """business, 12 months: 3 490 × 12 × 0,85 = 35 598 + 380 × 12 × 0,85 = 3 876 a user
    above the free 10."""
    return D(35598) + D(3876) * (seats - 10)


def test_twenty_seat_changes_at_once_end_in_a_serial_order(
    site_prorate_db: Session, clock: FixedClock, wide_factory: sessionmaker[Session]
) -> None:
    db = site_prorate_db
    _, subscription = active_subscription(db, clock, plan="business", months=12)
    assert subscription.ends_on == date(2027, 11, 22)
    applied: list[int] = []
    for round_number, day in enumerate([date(2027, 3, 1), date(2027, 6, 10), date(2027, 9, 30)]):
        move_to(clock, day)
        with db.begin():
            seats_now = subscription_of_seats(db, subscription.id)
        targets = [seats_now + 1 + n for n in range(THREADS)]
        outcomes = at_once([seat_change(subscription.id, t, clock) for t in targets], wide_factory)

        errors = [o for o in outcomes if o[0] == "error"]
        assert not errors, errors  # never a 500: no OperationalError, no deadlock
        winners = [value for kind, value in outcomes if kind == "ok"]
        refusals = {value for kind, value in outcomes if kind == "refused"}
        assert len(winners) == 1, outcomes  # a pending change blocks every other commit
        assert refusals <= {"change_pending", "change_stale"}, refusals
        [(change_id, invoice_id, seats)] = winners
        assert invoice_id is not None

        # exactly one change and one invoice for the winner, nothing for the others
        assert count(db, SubscriptionChange) == round_number + 1
        assert count(db, SubscriptionChange, SubscriptionChange.status == "pending") == 1
        assert count(db, Invoice, Invoice.kind == "change") == round_number + 1
        invoice = invoice_by_id(db, invoice_id)
        assert_lines_sum_to_total(db, invoice)
        with db.begin():
            record = db.get(SubscriptionChange, change_id, populate_existing=True)
            assert record is not None
            assert (record.invoice_id, record.params) == (invoice_id, {"seats": seats})
            assert record.amount_due == invoice.total

        # nothing changes before the money; then the winner's seats
        with db.begin():
            assert subscription_of_seats(db, subscription.id) == seats_now
        pay(db, clock, invoice_id)
        applied.append(change_id)
        with db.begin():
            assert subscription_of_seats(db, subscription.id) == seats

    # The final state is what the last applied change says.
    with db.begin():
        last = db.get(SubscriptionChange, applied[-1], populate_existing=True)
        assert last is not None
        final_seats = int(last.params["seats"])
        changed = list(
            db.scalars(
                select(LicenseLedgerEntry)
                .where(
                    LicenseLedgerEntry.subscription_id == subscription.id,
                    LicenseLedgerEntry.event == "changed",
                )
                .order_by(LicenseLedgerEntry.id)
            )
        )
        statuses = set(
            db.scalars(select(SubscriptionChange.status).where(SubscriptionChange.id.in_(applied)))
        )
    assert statuses == {"applied"}
    assert len(changed) == len(applied) == 3
    assert changed[-1].seats == final_seats
    with db.begin():
        final = db.get(Subscription, subscription.id, populate_existing=True)
        assert final is not None
        assert (final.seats, final.term_basis, final.ends_on) == (
            final_seats,
            term_basis(final_seats),
            date(2027, 11, 22),
        )


def subscription_of_seats(db: Session, subscription_id: int) -> int:
    found = db.get(Subscription, subscription_id, populate_existing=True)
    assert found is not None
    return found.seats


def test_one_token_committed_twenty_times_at_once_commits_once(
    site_prorate_db: Session, clock: FixedClock, wide_factory: sessionmaker[Session]
) -> None:
    db = site_prorate_db
    _, subscription = active_subscription(db, clock, plan="business", months=12)
    move_to(clock, date(2027, 8, 14))
    with wide_factory() as session:
        token = changes.preview_change(
            session, subscription_id=subscription.id, kind="seats", params={"seats": 15},
            secret=SECRET, clock=clock,
        ).token  # fmt: skip
    clock.instant += timedelta(minutes=1)
    outcomes = at_once([committing(subscription.id, token, clock)] * THREADS, wide_factory)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["refused"] * (THREADS - 1)
    assert {value for kind, value in outcomes if kind == "refused"} == {"change_pending"}
    assert count(db, SubscriptionChange) == 1
    [invoice_id] = _change_invoices(db)
    # +5 users with 100/365 days left: 19 380 × 100/365 = 5 309,59
    assert invoice_by_id(db, invoice_id).total == D("5309.59")


def _change_invoices(db: Session) -> list[int]:
    with db.begin():
        return list(db.scalars(select(Invoice.id).where(Invoice.kind == "change")))
