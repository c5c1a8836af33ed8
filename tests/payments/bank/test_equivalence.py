"""The bank statement import in bulk has exactly the effects of applying its payments one by
one through `record_payment` (the path it replaced, kept as `one_by_one=True`), on SQLite and
PostgreSQL: two databases get the same history, the same statement is imported into each by
one path, and every table must then hold the same rows, byte for byte (JSON as stored text),
ids included; only the random ids of journal transactions are compared by their pairing,
and the random file ids of the month-end run's documents are masked.

The statement covers: an exact payment (an order activated), a renewal paid while active
(extended) and one paid in grace (restored), an underpayment (partial, then more of it in a
later chunk), an overpayment (credit), two payments to one invoice in one chunk (paid and
activated once), an account on a test clock (its own day), a mid-term change invoice (which
goes through `record_payment` itself), payments to a voided and to an already paid invoice,
unknown invoice numbers (the review queue), the same payment twice in the statement, and a
payment to another bank account (skipped). Imported in chunks of 2, 3 and 1 000.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, Text, cast, select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core import clocks
from podpiska.core.db.session import make_engine, make_session_factory
from podpiska.invoicing.ledger import credit_balance
from podpiska.invoicing.models import Invoice
from podpiska.payments.bank import importing, review
from podpiska.payments.ledger_verify import verify
from podpiska.subscriptions import billing, changes, lifecycle
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.tables import metadata
from tests.conftest import Databases
from tests.helpers import (
    ACTOR,
    CRM_SHOP,
    MSK,
    START,
    active_subscription,
    events,
    move_to,
    open_account,
    order,
    subscription_of,
)
from tests.payments.bank.test_domain import document, statement

D = Decimal
OURS = "40702810900000000001"
SECRET = "a-test-secret-for-change-tokens"
IMPORT_DAY = date(2026, 12, 23)


@dataclass
class Scenario:
    text: str
    paid: int  # account ids
    partial: int
    over: int
    two: int
    renewed: int
    restored: int
    on_test_clock: int
    changed: int


def total(db: Session, invoice_id: int) -> Decimal:
    with db.begin():
        found = db.get(Invoice, invoice_id, populate_existing=True)
        assert found is not None
        return found.total


def build(db: Session, clock: FixedClock) -> Scenario:
    """The same history in any database: accounts, orders, renewals, a change invoice."""
    load_catalog_document(db, path=CRM_SHOP, actor="test:setup", clock=clock)
    paid = order(db, clock, open_account(db, clock).id, months=12)  # 21 492,00
    partial = order(db, clock, open_account(db, clock).id, months=12)
    over = order(db, clock, open_account(db, clock).id, months=1)  # 1 990,00
    two = order(db, clock, open_account(db, clock).id, months=12)
    voided = order(db, clock, open_account(db, clock).id, months=1)
    billing.cancel_subscription(db, account_id=voided.subscription.account_id, actor=ACTOR,
                                clock=clock)  # fmt: skip
    test_clock = clocks.create_test_clock(
        db, name="bank", now=datetime(2026, 12, 25, 1, 30, tzinfo=MSK), actor=ACTOR, clock=clock
    )
    on_clock_account = open_account(db, clock, test_clock_id=test_clock.id)
    on_clock = order(db, clock, on_clock_account.id, months=1)
    restored, _ = active_subscription(db, clock, months=1)  # ends 22.12.2026
    changed, changed_subscription = active_subscription(db, clock, plan="standard", months=12)
    move_to(clock, date(2026, 11, 25))
    renewed, _ = active_subscription(db, clock, months=1)  # ends 25.12.2026
    lifecycle.run_lifecycle(db, at=date(2026, 12, 22), clock=clock)
    assert subscription_of(db, restored.id).status == "grace"
    move_to(clock, IMPORT_DAY)
    restoration = billing.renew_subscription(db, account_id=restored.id, actor=ACTOR, clock=clock)
    renewal = billing.renew_subscription(db, account_id=renewed.id, actor=ACTOR, clock=clock)
    preview = changes.preview_change(
        db, subscription_id=changed_subscription.id, kind="plan",
        params={"plan": "professional"}, secret=SECRET, clock=clock,
    )  # fmt: skip
    change = changes.commit_change(
        db, subscription_id=changed_subscription.id, token=preview.token, secret=SECRET,
        actor=ACTOR, clock=clock,
    )  # fmt: skip
    assert change.invoice is not None
    two_total = total(db, two.invoice.id)
    lines = [
        document("1", "21492.00", f"Оплата по счету № {paid.invoice.number}"),
        document("2", "10000.00", f"Оплата по счету {partial.invoice.number}, часть"),
        document("3", "2000.00", f"Счёт {over.invoice.number}"),
        document("4", "5000.00", f"Счёт {two.invoice.number}, первая часть"),
        document("5", str(two_total - D("5000.00")), f"Счёт {two.invoice.number}, остаток"),
        document("6", str(restoration.total), f"Продление по счёту {restoration.number}"),
        document("7", str(renewal.total), f"Продление по счёту {renewal.number}"),
        document("8", str(on_clock.invoice.total), f"Оплата {on_clock.invoice.number}"),
        document("9", "1990.00", f"Оплата по счету {voided.invoice.number}"),
        document("10", "21492.00", f"Повторно по счету {paid.invoice.number}"),
        document("11", "500.00", "Пожертвование без счёта"),
        document("12", "700.00", "Оплата по счету 2026-999999"),
        document("1", "21492.00", f"Оплата по счету № {paid.invoice.number}"),  # again
        document("13", "100.00", "чужой", ПолучательСчет="40702810000000000999"),
        document("14", str(change.invoice.total), f"Доплата по счёту {change.invoice.number}"),
        document("15", "5000.00", f"Оплата по счету {partial.invoice.number}, ещё часть"),
    ]
    return Scenario(
        text=statement(*lines),
        paid=paid.subscription.account_id,
        partial=partial.subscription.account_id,
        over=over.subscription.account_id,
        two=two.subscription.account_id,
        renewed=renewed.id,
        restored=restored.id,
        on_test_clock=on_clock_account.id,
        changed=changed.id,
    )


def import_into(
    db: Session, clock: FixedClock, text: str, *, one_by_one: bool
) -> importing.ImportReport:
    return importing.import_statement(
        db,
        data=text.encode("cp1251"),
        source="day.txt",
        our_accounts=frozenset({OURS}),
        actor=ACTOR,
        clock=clock,
        one_by_one=one_by_one,
    )


def tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in id order, JSON as the stored text; journal transactions (random
    ids) replaced by their order of appearance, which keeps their pairing; the documents'
    random file ids (`file_id`) masked."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            columns = [
                cast(column, Text).label(column.name) if isinstance(column.type, JSON) else column
                for column in table.c
            ]
            order = [table.c[name] for name in ("id",) if name in table.c] or list(
                table.primary_key.columns
            )
            rows = [tuple(row) for row in connection.execute(select(*columns).order_by(*order))]
            if table.name == "journal_entries":
                position = list(table.c.keys()).index("transaction")
                seen: dict[str, int] = {}
                rows = [
                    (
                        *row[:position],
                        seen.setdefault(row[position], len(seen)),
                        *row[position + 1 :],
                    )
                    for row in rows
                ]
            if "file_id" in table.c:  # a random UUID per document (its ФНС file's name)
                position = list(table.c.keys()).index("file_id")
                rows = [(*row[:position], "<uuid>", *row[position + 1 :]) for row in rows]
            found[table.name] = rows
    return found


@pytest.fixture
def two_databases(databases: Databases) -> Iterator[tuple[Engine, Engine]]:
    engines = (make_engine(databases.new()), make_engine(databases.new()))
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("chunk", [2, 3, 1000])
def test_the_bulk_import_writes_what_payments_one_by_one_write(
    two_databases: tuple[Engine, Engine], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "CHUNK", chunk)
    reference_engine, bulk_engine = two_databases
    reports = []
    for engine, one_by_one in ((reference_engine, True), (bulk_engine, False)):
        clock = FixedClock(START)
        with make_session_factory(engine)() as db:
            scenario = build(db, clock)
            first = import_into(db, clock, scenario.text, one_by_one=one_by_one)
            after_first = tables(engine)
            again = import_into(db, clock, scenario.text, one_by_one=one_by_one)
            assert tables(engine) == after_first  # the same statement again changes nothing
            assert verify(db).ok
            reports.append((first, again))
    [(reference, reference_again), (bulk, bulk_again)] = reports
    assert bulk == reference
    assert bulk_again == reference_again
    assert (bulk.documents, bulk.not_ours, bulk.already_imported) == (16, 1, 1)
    assert dict(bulk.counts) == {"paid": 6, "partial": 3, "overpaid": 1, "unmatched": 4}
    assert (bulk_again.already_imported, sum(bulk_again.counts.values())) == (15, 0)

    reference_tables, bulk_tables = tables(reference_engine), tables(bulk_engine)
    assert reference_tables.keys() == bulk_tables.keys()
    for name, rows in reference_tables.items():
        assert bulk_tables[name] == rows, name

    with make_session_factory(bulk_engine)() as db:
        assert_the_effects(db, scenario)


def assert_the_effects(db: Session, scenario: Scenario) -> None:
    """What the statement did, read back (the same in both databases by now)."""
    status = {
        name: subscription_of(db, account_id).status
        for name, account_id in vars(scenario).items()
        if isinstance(account_id, int)
    }
    assert status == {
        "paid": "active",
        "partial": "pending",
        "over": "active",
        "two": "active",
        "renewed": "active",
        "restored": "active",
        "on_test_clock": "active",
        "changed": "active",
    }
    assert len(events(db, "subscription.activated", account_id=scenario.two)) == 1
    assert len(events(db, "invoice.partially_paid", account_id=scenario.two)) == 1
    assert len(events(db, "invoice.partially_paid", account_id=scenario.partial)) == 2
    assert len(events(db, "subscription.renewed", account_id=scenario.renewed)) == 1
    assert len(events(db, "subscription.restored", account_id=scenario.restored)) == 1
    assert len(events(db, "subscription.changed", account_id=scenario.changed)) == 1
    [activated] = events(db, "subscription.activated", account_id=scenario.on_test_clock)
    assert activated.occurred_on == date(2026, 12, 25)  # the test clock's day
    assert subscription_of(db, scenario.changed).plan == "professional"
    with db.begin():
        assert credit_balance(db, scenario.over) == D("10.00")
    queue = review.review_queue(db)
    assert sorted(row.doc_number for row in queue) == ["10", "11", "12", "9"]
    assert {row.doc_number: row.note is not None for row in queue} == {
        "9": True,  # voided invoice
        "10": True,  # paid already
        "11": False,
        "12": False,
    }


def orders(db: Session, clock: FixedClock, count: int) -> list[Invoice]:
    load_catalog_document(db, path=CRM_SHOP, actor="test:setup", clock=clock)
    return [order(db, clock, open_account(db, clock).id, months=1).invoice for _ in range(count)]


def paying(invoices: list[Invoice]) -> list[str]:
    return [
        document(str(n), str(invoice.total), f"Оплата по счету {invoice.number}")
        for n, invoice in enumerate(invoices, 1)
    ]


def test_chunks_imported_before_are_skipped_between_new_ones(
    two_databases: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of two: new, imported before, new, imported before, new."""
    monkeypatch.setattr(importing, "CHUNK", 2)
    for engine, one_by_one in zip(two_databases, (True, False), strict=True):
        clock = FixedClock(START)
        with make_session_factory(engine)() as db:
            lines = paying(orders(db, clock, 10))
            first = import_into(db, clock, statement(*lines[2:4], *lines[6:8]),
                                one_by_one=one_by_one)  # fmt: skip
            assert first.counts == {"paid": 4}
            second = import_into(db, clock, statement(*lines), one_by_one=one_by_one)
            assert (second.already_imported, second.counts) == (4, {"paid": 6})
            assert verify(db).ok
    reference, in_bulk = (tables(engine) for engine in two_databases)
    assert in_bulk == reference


def test_a_change_that_no_longer_applies_waits_for_review_and_the_rest_is_imported(
    two_databases: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third payment is to a change invoice that expired (its change is refused when it
    is paid, before the daily run voided it): it goes to the review queue with the reason,
    and every other payment of the statement, in its chunk and after, is imported; either
    way, to the same rows."""
    monkeypatch.setattr(importing, "CHUNK", 2)
    for engine, one_by_one in zip(two_databases, (True, False), strict=True):
        clock = FixedClock(START)
        with make_session_factory(engine)() as db:
            invoices = orders(db, clock, 3)
            _, subscription = active_subscription(db, clock, plan="standard", months=12)
            move_to(clock, date(2027, 7, 22))
            preview = changes.preview_change(
                db, subscription_id=subscription.id, kind="plan",
                params={"plan": "professional"}, secret=SECRET, clock=clock,
            )  # fmt: skip
            change = changes.commit_change(
                db, subscription_id=subscription.id, token=preview.token, secret=SECRET,
                actor=ACTOR, clock=clock,
            ).invoice  # fmt: skip
            assert change is not None
            move_to(clock, date(2027, 7, 26))  # past its three days
            lines = paying([invoices[0], invoices[1], change, invoices[2]])
            report = import_into(db, clock, statement(*lines), one_by_one=one_by_one)
            assert report.counts["unmatched"] == 1
            queued = review.review_queue(db)
            assert [row.doc_number for row in queued] == ["3"]
            assert queued[0].note is not None and str(change.number) in queued[0].note
            assert queued[0].payment_id is None
            paid = [subscription_of(db, i.account_id).status for i in invoices]
            assert paid == ["active", "active", "active"]
            assert subscription_of(db, subscription.account_id).plan == "standard"
            assert verify(db).ok
    reference, in_bulk = (tables(engine) for engine in two_databases)
    assert in_bulk == reference
