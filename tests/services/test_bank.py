"""Bank statement import on SQLite and PostgreSQL: exact, partial and over payments by the
invoice number in the purpose, the review queue, a second import changing nothing, and the
expected activation by the Russian production calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.domain.errors import DomainError
from podpiska.services import bank, billing
from podpiska.services.money_ledger import credit_balance, verify
from tests.domain.test_bank_statement import document, statement
from tests.services.helpers import ACTOR, open_account, order, row_counts


def run_import(db: Session, clock: FixedClock, text: str) -> bank.ImportReport:
    return bank.import_statement(
        db, data=text.encode("cp1251"), source="day.txt", actor=ACTOR, clock=clock
    )


def test_payments_are_matched_by_invoice_number_and_amount(db: Session, clock: FixedClock) -> None:
    exact = order(db, clock, open_account(db, clock).id, months=12)  # 21 492,00
    part = order(db, clock, open_account(db, clock).id, months=12)
    over = order(db, clock, open_account(db, clock).id, months=1)  # 1 990,00
    text = statement(
        document("1", "21492.00", f"Оплата по счету № {exact.invoice.number}"),
        document("2", "10000.00", f"Оплата по счету {part.invoice.number}, часть"),
        document("3", "2000.00", f"Счёт {over.invoice.number}"),
        document("4", "500.00", "Пожертвование без счёта"),
    )
    report = run_import(db, clock, text)
    assert report.documents == 4
    assert dict(report.counts) == {"paid": 1, "partial": 1, "overpaid": 1, "unmatched": 1}
    assert billing.get_subscription(db, exact.subscription.account_id).status == "active"
    assert billing.get_subscription(db, part.subscription.account_id).status == "pending"
    assert billing.get_subscription(db, over.subscription.account_id).status == "active"
    with db.begin():
        assert credit_balance(db, over.subscription.account_id) == D("10.00")
    queue = bank.review_queue(db)
    assert [(r.amount, r.payer_inn) for r in queue] == [(D("500.00"), "7707083893")]
    assert verify(db).ok

    before = row_counts(db)
    again = run_import(db, clock, text)  # the same statement twice changes nothing
    assert again.already_imported == 4 and not again.counts
    assert row_counts(db) == before

    resolved = bank.resolve(
        db, bank_payment_id=queue[0].id, invoice_id=part.invoice.id, actor=ACTOR, clock=clock
    )
    assert resolved.status == "resolved"
    assert billing.get_invoice(db, part.invoice.id)[0].amount_paid == D("10500.00")
    with pytest.raises(DomainError) as caught:
        bank.resolve(
            db, bank_payment_id=queue[0].id, invoice_id=part.invoice.id, actor=ACTOR, clock=clock
        )
    assert caught.value.code == "bank_payment_resolved"
    assert verify(db).ok


def test_a_broken_statement_is_refused_and_writes_nothing(db: Session, clock: FixedClock) -> None:
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        bank.import_statement(db, data=b"garbage", source="bad.txt", actor=ACTOR, clock=clock)
    assert caught.value.code == "bad_statement"
    assert "bad.txt" in caught.value.message("ru")
    assert row_counts(db) == before


def test_payments_to_other_accounts_are_skipped(db: Session, clock: FixedClock) -> None:
    text = statement(document("9", "100.00", "чужой", ПолучательСчет="40702810000000000999"))
    report = bank.import_statement(
        db,
        data=text.encode("cp1251"),
        source="x.txt",
        our_accounts=frozenset({"40702810900000000001"}),
        actor=ACTOR,
        clock=clock,
    )
    assert (report.documents, report.outgoing, sum(report.counts.values())) == (1, 1, 0)


@pytest.mark.parametrize(
    ("paid_on", "expected"),
    [
        (date(2026, 11, 20), (date(2026, 11, 23), date(2026, 11, 25))),  # Friday: Mon to Wed
        (date(2026, 11, 3), (date(2026, 11, 5), date(2026, 11, 9))),  # 4 November is a holiday
        (date(2026, 12, 30), (date(2027, 1, 11), date(2027, 1, 13))),  # New Year holidays
    ],
)
def test_expected_activation_counts_business_days(
    paid_on: date, expected: tuple[date, date]
) -> None:
    assert bank.expected_activation(paid_on) == expected
