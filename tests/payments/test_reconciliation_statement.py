"""The акт сверки (issue 16, item 8) through the real stack: a year paid on 22.11.2026 and
certified month by month shows, for November–December, the payment in the credit column,
the two УПД in the debit column and the advance held as the closing balance; the sums add
up; a period with nothing in it has the balance only; a bad period is refused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.pdf import WeasyPrintRenderer
from podpiska.adapters.reconciliation_xlsx import OpenpyxlReconciliationSheet
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, format_amount
from podpiska.core.domain.scope import Scope
from podpiska.invoicing.ledger import credit_balance
from podpiska.invoicing.models import Closing, Invoice, Payment
from podpiska.payments.reconciliation_statement import (
    Entry,
    assemble,
    check_period,
    reconciliation_statement,
)
from podpiska.payments.refunds import refund_credit
from podpiska.ports import Party, ReconciliationData
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.adapters.test_pdf import pdf_text
from tests.helpers import ACTOR, move_to, open_account, order, pay

SELLER = Party(name="ООО «Подписка»", inn="7707083893", director="Иванов И. И.")
BUYER = Party(name="ООО «Ромашка»")
NOV, DEC_END = date(2026, 11, 1), date(2026, 12, 31)


def run_to(db: Session, clock: FixedClock, day: date) -> None:
    move_to(clock, day, hour=3)
    lifecycle.run_lifecycle(db, at=day, clock=clock)


def a_paid_year(db: Session, clock: FixedClock) -> tuple[int, Invoice, list[Closing]]:
    """A 12-month order paid 22.11.2026, the month-end run up to 31.12.2026."""
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, months=12)
    pay(db, clock, ordered.invoice)
    run_to(db, clock, date(2026, 12, 31))
    with db.begin():
        invoice = db.get(Invoice, ordered.invoice.id, populate_existing=True)
        closings = list(db.scalars(select(Closing).order_by(Closing.issued_on)))
    assert invoice is not None
    return account.id, invoice, closings


def adds_up(data: ReconciliationData) -> None:
    assert data.debit_turnover == sum((line.debit for line in data.lines), ZERO)
    assert data.credit_turnover == sum((line.credit for line in data.lines), ZERO)
    assert data.opening + data.debit_turnover - data.credit_turnover == data.closing


def statement(
    db: Session, account_id: int, first: date, last: date, lang: str = "ru"
) -> ReconciliationData:
    return reconciliation_statement(
        db,
        account_id=account_id,
        first_day=first,
        last_day=last,
        seller=SELLER,
        scope=Scope.vendor(),
        language=lang,
    )


def test_a_paid_year_shows_the_payment_two_sales_and_the_advance_held(
    db: Session, clock: FixedClock
) -> None:
    account_id, invoice, closings = a_paid_year(db, clock)
    assert [c.issued_on for c in closings] == [date(2026, 11, 30), date(2026, 12, 31)]
    with db.begin():
        (payment,) = db.scalars(select(Payment))
        reference = payment.external_id or f"payment:{payment.id}"

    data = statement(db, account_id, NOV, DEC_END)
    adds_up(data)
    assert data.opening == 0
    assert [(line.day, line.description, line.debit, line.credit) for line in data.lines] == [
        (date(2026, 11, 22), f"Оплата (№ {reference} от 22.11.2026)", ZERO, invoice.total),
        (
            date(2026, 11, 30),
            f"Продажа (УПД № {closings[0].number} от 30.11.2026)",
            closings[0].total,
            ZERO,
        ),
        (
            date(2026, 12, 31),
            f"Продажа (УПД № {closings[1].number} от 31.12.2026)",
            closings[1].total,
            ZERO,
        ),
    ]
    sold = closings[0].total + closings[1].total
    assert data.closing == -(invoice.total - sold) < 0
    assert data.conclusion.startswith("на 31.12.2026 задолженность в пользу ООО «Ромашка» ")
    assert data.conclusion.endswith(" руб.")

    # December alone opens with November's balance (the payment less November's sale).
    december = statement(db, account_id, date(2026, 12, 1), DEC_END, "en")
    adds_up(december)
    assert december.opening == closings[0].total - invoice.total
    assert [line.debit for line in december.lines] == [closings[1].total]
    assert december.closing == data.closing
    assert december.lines[0].description.startswith("Sale (UPD No. ")


def test_a_period_with_nothing_in_it_shows_the_balance_only(db: Session, clock: FixedClock) -> None:
    account_id, invoice, closings = a_paid_year(db, clock)
    before = statement(db, account_id, date(2026, 1, 1), date(2026, 10, 31))
    assert (before.opening, before.lines, before.closing) == (ZERO, (), ZERO)
    assert before.conclusion == "на 31.10.2026 задолженность отсутствует"
    # Nothing happened on 1–29.12 but the balance stays November's.
    quiet = statement(db, account_id, date(2026, 12, 1), date(2026, 12, 29))
    assert quiet.lines == ()
    assert quiet.opening == quiet.closing == closings[0].total - invoice.total


def test_another_accounts_statement_is_not_found_and_a_bad_period_is_refused(
    db: Session, clock: FixedClock
) -> None:
    account_id, _, _ = a_paid_year(db, clock)
    with pytest.raises(DomainError) as found:
        reconciliation_statement(
            db,
            account_id=account_id,
            first_day=NOV,
            last_day=DEC_END,
            seller=SELLER,
            scope=Scope.account(account_id + 1),
        )
    assert found.value.code == "not_found"
    with pytest.raises(DomainError) as late:
        check_period(DEC_END, NOV)
    assert late.value.code == "reconciliation_period"
    assert "начало позже конца" in late.value.message("ru")
    with pytest.raises(DomainError):
        check_period(date(2020, 1, 1), date(2025, 1, 1))
    check_period(date(2020, 1, 1), date(2024, 12, 31))
    check_period(date(2020, 2, 29), date(2025, 2, 28))
    with pytest.raises(DomainError):
        check_period(date(2020, 2, 29), date(2025, 3, 1))
    check_period(date(9999, 1, 1), date(9999, 12, 31))  # no overflow near the last year
    with pytest.raises(DomainError):
        check_period(date(1, 1, 1), date(9999, 12, 31))


def test_the_sums_are_checked_when_the_statement_is_made() -> None:
    entries = [
        Entry(date(2026, 1, 10), 2, "Оплата", credit=Decimal("100.00")),
        Entry(date(2026, 1, 31), 0, "Продажа", debit=Decimal("37.46")),
        Entry(date(2026, 2, 5), 3, "Возврат", debit=Decimal("62.54")),
        Entry(date(2026, 2, 28), 0, "Продажа", debit=Decimal("1062.54")),
    ]
    data = assemble(
        entries, first_day=date(2026, 2, 1), last_day=date(2026, 2, 28), seller=SELLER,
        buyer=BUYER,
    )  # fmt: skip
    assert data.opening == Decimal("-62.54")
    assert (data.debit_turnover, data.credit_turnover) == (Decimal("1125.08"), ZERO)
    assert data.closing == Decimal("1062.54")
    assert data.conclusion == "на 28.02.2026 задолженность в пользу ООО «Подписка» 1 062,54 руб."
    with pytest.raises(ValueError, match="closing"):
        ReconciliationData(
            seller=SELLER, buyer=BUYER, first_day=date(2026, 2, 1), last_day=date(2026, 2, 28),
            opening=ZERO, lines=data.lines, debit_turnover=data.debit_turnover,
            credit_turnover=ZERO, closing=ZERO, conclusion="",
        )  # fmt: skip


def test_the_pdf_and_the_xlsx_show_the_same_lines_and_sums(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    account_id, invoice, closings = a_paid_year(db, clock)
    data = statement(db, account_id, NOV, DEC_END)

    text = pdf_text(WeasyPrintRenderer().render_reconciliation(data), tmp_path)
    assert "Акт сверки взаимных расчётов" in text
    assert "за период с 01.11.2026 по 31.12.2026 между ООО «Подписка» и ООО «Ромашка»" in text
    assert f"Продажа (УПД № {closings[0].number} от 30.11.2026)" in text
    assert f"Продажа (УПД № {closings[1].number} от 31.12.2026)" in text
    assert "Оплата (№" in text
    assert "Сальдо начальное на 01.11.2026 0,00" in text
    held = format_amount(-data.closing)
    assert f"Сальдо конечное на 31.12.2026 {held}" in text
    assert f"Обороты за период {format_amount(data.debit_turnover)} " in text
    assert data.conclusion in text.replace("\n", " ")
    assert "Иванов И. И." in text  # the seller's director signs; the buyer's lines are blank

    english = statement(db, account_id, NOV, DEC_END, "en")
    text_en = pdf_text(WeasyPrintRenderer().render_reconciliation(english), tmp_path)
    assert "Statement of account reconciliation" in text_en
    assert "in favour of ООО «Ромашка»" in text_en.replace("\n", " ")

    book = load_workbook(BytesIO(OpenpyxlReconciliationSheet().write(data)))
    sheet = book.active
    assert sheet is not None
    rows = [tuple(cell.value for cell in row[:4]) for row in sheet.iter_rows(min_row=6)]
    opening, *lines, turnover, closing = rows[: len(data.lines) + 3]
    assert opening[1:] == ("Сальдо начальное на 01.11.2026", 0, None)
    assert [
        (d, text, Decimal(str(dt or 0)), Decimal(str(ct or 0))) for d, text, dt, ct in lines
    ] == [
        (datetime.combine(line.day, datetime.min.time()), line.description, line.debit, line.credit)
        for line in data.lines
    ]
    money = [sheet.cell(6 + i, c) for i in range(len(data.lines) + 3) for c in (3, 4)]
    assert {cell.number_format for cell in money} == {"#,##0.00"}
    assert sheet.cell(7, 1).number_format == "DD.MM.YYYY"
    debit = sum((Decimal(str(dt or 0)) for _, _, dt, _ in lines), ZERO)
    credit = sum((Decimal(str(ct or 0)) for _, _, _, ct in lines), ZERO)
    assert (Decimal(str(turnover[2])), Decimal(str(turnover[3]))) == (debit, credit)
    assert (debit, credit) == (data.debit_turnover, data.credit_turnover)
    assert closing[1:] == ("Сальдо конечное на 31.12.2026", None, float(-data.closing))
    assert Decimal(str(closing[3])) == invoice.total - debit
    texts = [row[0].value for row in sheet.iter_rows()]
    assert data.conclusion in texts


def test_a_credit_note_and_a_refund_leave_the_advance_equal_to_the_accounts_credit(
    db: Session, clock: FixedClock
) -> None:
    """A credit note on 10.12 ends the term: the part already sold (the УПД of 30.11 and of
    09.12) is listed as the note's correction, the rest is never sold; a refund of part of
    the credit on 05.01.2027 is in the debit column. The advance held is then exactly the
    account's credit."""
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, months=12)
    pay(db, clock, ordered.invoice)
    run_to(db, clock, date(2026, 11, 30))
    move_to(clock, date(2026, 12, 10))
    note = issue_credit_note(
        db, invoice_id=ordered.invoice.id, reason="возврат", actor=ACTOR, clock=clock
    )
    run_to(db, clock, date(2026, 12, 31))
    move_to(clock, date(2027, 1, 5))
    refund_credit(
        db, account_id=account.id, amount=Decimal("1000.00"), reason="по заявлению",
        actor=ACTOR, clock=clock,
    )  # fmt: skip
    with db.begin():
        sold = sum(db.scalars(select(Closing.total)), ZERO)
        credit = credit_balance(db, account.id)

    data = statement(db, account.id, NOV, date(2027, 1, 31))
    adds_up(data)
    corrections = [line for line in data.lines if line.description.startswith("Корректир")]
    assert [(c.day, c.description, c.credit) for c in corrections] == [
        (date(2026, 12, 10), "Корректировка реализации (УКД № UKD-2026-000001 от 10.12.2026)", sold)
    ]  # the sale the note took back, corrected by its УКД (of the note's day)
    assert note.number
    refunds = [line for line in data.lines if line.description.startswith("Возврат")]
    assert [(r.day, r.debit) for r in refunds] == [(date(2027, 1, 5), Decimal("1000.00"))]
    assert data.closing == -credit < 0
