"""Bank statement import on SQLite and PostgreSQL: exact, partial and over payments by the
invoice number in the purpose, the review queue, a second import changing nothing, and the
expected activation by the Russian production calendar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.invoicing.ledger import credit_balance
from podpiska.payments.bank import importing, review
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.ledger_verify import verify
from podpiska.subscriptions import billing
from tests.helpers import (
    ACTOR,
    assert_lines_sum_to_total,
    invoice_by_id,
    open_account,
    order,
    row_counts,
)
from tests.payments.bank.test_domain import OUR_1, OUR_2, SAMPLE, document, statement


def run_import(db: Session, clock: FixedClock, text: str) -> importing.ImportReport:
    return importing.import_statement(
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
    queue = review.review_queue(db)
    assert [(r.amount, r.payer_inn) for r in queue] == [(D("500.00"), "7707083893")]
    assert verify(db).ok

    before = row_counts(db)
    again = run_import(db, clock, text)  # the same statement twice changes nothing
    assert again.already_imported == 4 and not again.counts
    assert row_counts(db) == before

    resolved = review.resolve(
        db, bank_payment_id=queue[0].id, invoice_id=part.invoice.id, actor=ACTOR, clock=clock
    )
    assert resolved.status == "resolved"
    assert billing.get_invoice(db, part.invoice.id)[0].amount_paid == D("10500.00")
    with pytest.raises(DomainError) as caught:
        review.resolve(
            db, bank_payment_id=queue[0].id, invoice_id=part.invoice.id, actor=ACTOR, clock=clock
        )
    assert caught.value.code == "bank_payment_resolved"
    assert verify(db).ok


def test_a_broken_statement_is_refused_and_writes_nothing(db: Session, clock: FixedClock) -> None:
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        importing.import_statement(db, data=b"garbage", source="bad.txt", actor=ACTOR, clock=clock)
    assert caught.value.code == "bad_statement"
    assert "bad.txt" in caught.value.message("ru")
    assert row_counts(db) == before


def test_payments_to_other_accounts_are_skipped(db: Session, clock: FixedClock) -> None:
    text = statement(document("9", "100.00", "чужой", ПолучательСчет="40702810000000000999"))
    report = importing.import_statement(
        db,
        data=text.encode("cp1251"),
        source="x.txt",
        our_accounts=frozenset({"40702810900000000001"}),
        actor=ACTOR,
        clock=clock,
    )
    assert (report.documents, report.not_ours, report.outgoing) == (1, 1, 0)
    assert sum(report.counts.values()) == 0 and report.not_ours_amount == "100.00"


def test_a_banks_statement_pays_its_incoming_money_and_skips_the_outgoing(
    db: Session, clock: FixedClock
) -> None:
    """The sample as a bank exports it (two accounts, balances, five kinds of documents):
    money in to both accounts is matched to invoices, money out (fees, taxes, a transfer
    between our accounts) is counted and left alone, each account's totals reported."""
    first = order(db, clock, open_account(db, clock).id, months=12)  # 21 492,00
    second = order(db, clock, open_account(db, clock).id, months=1)  # 1 990,00
    third = order(db, clock, open_account(db, clock).id, months=12)  # 5 000,00 of 21 492,00
    assert [first.invoice.number, second.invoice.number, third.invoice.number] == [
        "2026-000001",
        "2026-000002",
        "2026-000003",
    ]  # as the sample's purposes name them
    report = importing.import_statement(
        db, data=SAMPLE.read_bytes(), source=SAMPLE.name, actor=ACTOR, clock=clock
    )
    assert (report.documents, report.outgoing, report.not_ours) == (10, 5, 0)
    assert report.outgoing_amount == "255000.00"  # 1 500 + 150 000 + 3 200 + 100 000 + 300
    assert dict(report.counts) == {"paid": 2, "partial": 1, "unmatched": 2}
    assert report.amount == {
        "paid": "23482.00",
        "partial": "5000.00",
        "unmatched": "11034.25",  # the bank's interest and an advance with no invoice
    }
    assert [(a.account, a.opening, a.received, a.debited, a.closing) for a in report.accounts] == [
        (OUR_1, "1250000.00", "29516.25", "254700.00", "1024816.25"),
        (OUR_2, "50000.00", "110000.00", "300.00", "159700.00"),
    ]
    for paid in (first, second, third):
        invoice = invoice_by_id(db, paid.invoice.id)
        lines = assert_lines_sum_to_total(db, invoice)
        assert lines
    assert invoice_by_id(db, first.invoice.id).status == "paid"
    assert invoice_by_id(db, second.invoice.id).status == "paid"
    assert invoice_by_id(db, third.invoice.id).amount_paid == D("5000.00")
    assert sorted((r.doc_number, r.amount) for r in review.review_queue(db)) == [
        ("305", D("10000.00")),
        ("900311", D("1034.25")),
    ]
    with db.begin():
        imported = {r.doc_number for r in db.scalars(select(BankPayment))}
    assert imported == {"512", "77", "18", "900311", "305"}  # nothing of the money out
    assert verify(db).ok

    # the vendor's accounts set to the first only: the second account's money is not ours
    before = row_counts(db)
    again = importing.import_statement(
        db,
        data=SAMPLE.read_bytes(),
        source=SAMPLE.name,
        our_accounts=frozenset({OUR_1}),
        actor=ACTOR,
        clock=clock,
    )
    assert (again.outgoing, again.not_ours, again.already_imported) == (4, 2, 4)
    assert again.not_ours_amount == "10300.00" and not again.counts
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("data", "line", "ru"),
    [
        (
            statement(document()).replace("Windows", "UTF-8").encode("cp1251"),
            3,
            "в заголовке указано Кодировка=UTF-8, а файл записан в Windows-1251",
        ),
        (
            statement(document("1", "1.00"), document("2", "1e400")).encode("cp1251"),
            21,
            "Сумма: ожидается сумма в рублях с копейками",
        ),
        (
            SAMPLE.read_bytes().replace(b"=1034.25", b"=1034.26"),
            17,
            f"счёт {OUR_1}: ВсегоПоступило 29516.25, а сумма документов поступлений в "
            "выписке 29516.26",
        ),
    ],
)
def test_a_statement_with_a_bad_line_is_refused_whole_naming_the_line(
    db: Session, clock: FixedClock, data: bytes, line: int, ru: str
) -> None:
    """A file that lies about its encoding, an amount that is not money, totals that do not
    add up: 422 `bad_statement` naming the line in ru and en, and nothing imported (the
    good payments before the bad line neither)."""
    order(db, clock, open_account(db, clock).id, months=1)
    before = row_counts(db)
    with pytest.raises(DomainError) as caught:
        importing.import_statement(db, data=data, source="day.txt", actor=ACTOR, clock=clock)
    error = caught.value
    assert (error.code, error.kind, error.details["line"]) == ("bad_statement", Kind.INVALID, line)
    assert error.message("ru").startswith(f"Выписку day.txt прочитать нельзя: строка {line}: ")
    assert ru in error.message("ru")
    assert f"Statement day.txt cannot be read: line {line}: " in error.message("en")
    assert row_counts(db) == before


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
    assert review.expected_activation(paid_on) == expected
