"""Concurrency, proven on PostgreSQL only (SQLite has no row locks): threads released at
once by a barrier, each with its own session, calling the real use-cases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core.db.session import make_engine, make_session_factory
from podpiska.core.domain.errors import DomainError
from podpiska.invoicing.models import Invoice, Payment
from podpiska.subscriptions import billing, settlement
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription
from tests.helpers import (
    ACTOR,
    active_subscription,
    assert_lines_sum_to_total,
    count,
    invoice_by_id,
    move_to,
    open_account,
    order,
    subscription_of,
)

pytestmark = pytest.mark.postgres_only

D = Decimal
Outcome = tuple[str, Any]  # ("ok", value) | ("refused", code) | ("error", repr)


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


def paying(
    invoice_id: int, amount: Decimal, clock: FixedClock, ref: str
) -> Callable[[Session], Any]:
    def call(session: Session) -> int:
        result = settlement.register_payment(
            session, invoice_id=invoice_id, amount=amount, method="bank_transfer",
            external_id=ref, actor=ACTOR, clock=clock,
        )  # fmt: skip
        return result.payment.id

    return call


def renewing(account_id: int, months: int, clock: FixedClock) -> Callable[[Session], Any]:
    def call(session: Session) -> int:
        invoice = billing.renew_subscription(
            session, account_id=account_id, months=months, actor=ACTOR, clock=clock
        )
        return invoice.id

    return call


def test_two_payments_of_one_invoice_at_once_apply_once(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account_id = open_account(db, clock).id
    invoice_id = order(db, clock, account_id, months=12).invoice.id
    outcomes = at_once(
        [paying(invoice_id, D("21492.00"), clock, f"bank-{n}") for n in (1, 2)], session_factory
    )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    [(_, code)] = [o for o in outcomes if o[0] == "refused"]
    assert code == "invoice_not_payable"
    assert count(db, Payment) == 1
    assert invoice_by_id(db, invoice_id).amount_paid == D("21492.00")
    assert count(db, LicenseLedgerEntry, LicenseLedgerEntry.event == "activated") == 1


def test_two_part_payments_at_once_pay_once_and_credit_the_rest(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    from podpiska.invoicing.ledger import credit_balance
    from podpiska.payments.ledger_verify import verify

    account_id = open_account(db, clock).id
    invoice_id = order(db, clock, account_id, months=12).invoice.id
    outcomes = at_once(
        [paying(invoice_id, D("15000.00"), clock, f"bank-{n}") for n in (1, 2)], session_factory
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert count(db, Payment) == 2
    assert invoice_by_id(db, invoice_id).amount_paid == D("21492.00")
    assert count(db, LicenseLedgerEntry, LicenseLedgerEntry.event == "activated") == 1
    with db.begin():
        assert credit_balance(db, account_id) == D("8508.00")  # 30 000 − 21 492
    assert verify(db).ok


def test_two_renewals_at_once_make_one_invoice_and_one_term(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account, subscription = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 1))
    outcomes = at_once([renewing(account.id, 12, clock) for _ in range(2)], session_factory)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]  # the same invoice for both
    open_renewals = [
        Invoice.subscription_id == subscription.id,
        Invoice.kind == "renewal",
        Invoice.status == "issued",
    ]
    assert count(db, Invoice, *open_renewals) == 1
    invoice = invoice_by_id(db, outcomes[0][1])
    assert_lines_sum_to_total(db, invoice)

    paid = at_once(
        [paying(invoice.id, invoice.total, clock, f"card-{n}") for n in (1, 2)], session_factory
    )
    assert sorted(kind for kind, _ in paid) == ["ok", "refused"], paid
    renewed = count(
        db,
        LicenseLedgerEntry,
        LicenseLedgerEntry.subscription_id == subscription.id,
        LicenseLedgerEntry.event == "renewed",
    )
    assert renewed == 1
    final = subscription_of(db, account.id)
    assert (final.starts_on, final.ends_on) == (date(2027, 11, 22), date(2028, 11, 22))


def test_two_renewals_of_different_periods_at_once_leave_one_open_invoice(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account, subscription = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 1))
    outcomes = at_once(
        [renewing(account.id, 12, clock), renewing(account.id, 6, clock)], session_factory
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    with db.begin():
        statuses = sorted(
            db.scalars(
                select(Invoice.status).where(
                    Invoice.subscription_id == subscription.id, Invoice.kind == "renewal"
                )
            )
        )
    assert statuses == ["issued", "void"]
    current = subscription_of(db, account.id).renewal_invoice_id
    assert invoice_by_id(db, current or 0).status == "issued"


def test_ten_accounts_ordering_at_once_get_numbers_without_gaps(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    def open_and_order(n: int) -> Callable[[Session], Any]:
        def call(session: Session) -> str:
            account = open_account(session, clock, email=f"admin{n}@parallel.example")
            ordered = order(session, clock, account.id, months=1)
            return ordered.invoice.number or ""

        return call

    outcomes = at_once([open_and_order(n) for n in range(10)], session_factory)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    numbers = sorted(number for _, number in outcomes)
    assert numbers == [f"2026-{n:06d}" for n in range(1, 11)]
    with db.begin():
        invoices = list(db.scalars(select(Invoice)))
    assert sorted(i.number or "" for i in invoices) == numbers
    for invoice in invoices:
        assert_lines_sum_to_total(db, invoice)


def test_two_orders_for_one_account_at_once_make_one_subscription(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account_id = open_account(db, clock).id

    def ordering(session: Session) -> int:
        return order(session, clock, account_id, months=1).invoice.id

    outcomes = at_once([ordering, ordering], session_factory)
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    assert [code for kind, code in outcomes if kind == "refused"] == ["subscription_exists"]
    assert count(db, Subscription) == 1
    assert count(db, Invoice) == 1
    assert invoice_by_id(db, 1).number == "2026-000001"


# -- a forced interleaving ---------------------------------------------------------------------


def _pause_before(
    engine: Engine, table: str, reached: threading.Event, go: threading.Event
) -> None:
    """Before this engine's first `SELECT ... FROM <table> ... FOR UPDATE`, say so and wait."""
    done = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _hook(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not done.is_set() and f"FROM {table}" in statement and "FOR UPDATE" in statement:
            done.set()
            reached.set()
            go.wait(timeout=10)


def test_paying_the_open_renewal_while_another_period_is_asked_does_not_deadlock(
    db: Session, clock: FixedClock, db_url: str
) -> None:
    account, _ = active_subscription(db, clock)
    move_to(clock, date(2027, 11, 1))
    invoice = billing.renew_subscription(db, account_id=account.id, actor=ACTOR, clock=clock)
    payer_engine, renewer_engine = make_engine(db_url), make_engine(db_url)
    payer_has_invoice, renewer_has_subscription = threading.Event(), threading.Event()
    # The payer holds the invoice and waits; the renewer takes the subscription, then both
    # go on to the row the other one holds.
    _pause_before(payer_engine, "subscriptions", payer_has_invoice, renewer_has_subscription)
    no_wait = threading.Event()
    no_wait.set()
    _pause_before(renewer_engine, "invoices", renewer_has_subscription, no_wait)
    outcomes: dict[str, Outcome] = {}

    def pay_it() -> None:
        with make_session_factory(payer_engine)() as session:
            try:
                paying(invoice.id, invoice.total, clock, "card-1")(session)
                outcomes["pay"] = ("ok", None)
            except DomainError as error:
                outcomes["pay"] = ("refused", error.code)
            except Exception as error:
                outcomes["pay"] = ("error", repr(error)[:200])

    def renew_it() -> None:
        payer_has_invoice.wait(timeout=10)
        with make_session_factory(renewer_engine)() as session:
            try:
                renewing(account.id, 6, clock)(session)
                outcomes["renew"] = ("ok", None)
            except DomainError as error:
                outcomes["renew"] = ("refused", error.code)
            except Exception as error:
                outcomes["renew"] = ("error", repr(error)[:200])

    threads = [threading.Thread(target=pay_it), threading.Thread(target=renew_it)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        payer_engine.dispose()
        renewer_engine.dispose()
    assert all(kind != "error" for kind, _ in outcomes.values()), outcomes
