"""The книга продаж and the 1C export's data through the real stack, on SQLite and
PostgreSQL: a 12-month order paid by bank transfer on 22.11.2026, the nightly run to
31.12.2026."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.money import round_money
from podpiska.invoicing.accounting import accounting_export, sales_ledger
from podpiska.invoicing.models import Advance, AdvanceOffset, Closing, Invoice, Payment
from podpiska.ports import Counterparty
from tests.helpers import GOOD_INN, open_account, order, pay
from tests.invoicing.test_rendering_run import run

NOVEMBER, DECEMBER_END = date(2026, 11, 1), date(2026, 12, 31)
SELLER = Counterparty("ООО «Облачные решения»", "7728168971", "772801001")


def paid_and_run(db: Session, clock: FixedClock) -> tuple[int, int]:
    account = open_account(db, clock, inn=GOOD_INN, kpp="773601001")
    ordered = order(db, clock, account.id, months=12)
    pay(db, clock, ordered.invoice)  # by bank transfer, on 22.11.2026
    run(db, clock, DECEMBER_END)
    return account.id, ordered.invoice.id


def test_the_ledger_of_november_and_december(db: Session, clock: FixedClock) -> None:
    account_id, invoice_id = paid_and_run(db, clock)
    with db.begin():
        (advance,) = db.scalars(select(Advance))
        payment = db.get(Payment, advance.payment_id)
        closings = list(db.scalars(select(Closing).order_by(Closing.issued_on)))
        offsets = list(db.scalars(select(AdvanceOffset).order_by(AdvanceOffset.day)))
        invoice = db.get(Invoice, invoice_id)
        assert invoice is not None
        total = invoice.total
    assert payment is not None and payment.method == "bank_transfer"

    ledger = sales_ledger(db, start=NOVEMBER, end=DECEMBER_END)
    assert [(line.code, line.number, line.issued_on) for line in ledger.sales] == [
        ("02", "AV-2026-000001", date(2026, 11, 22)),
        ("01", "UPD-2026-000001", date(2026, 11, 30)),
        ("01", "UPD-2026-000002", date(2026, 12, 31)),
    ]
    got_advance, november, december = ledger.sales
    # The advance: the whole payment (nothing was rendered before it came), VAT at 22/122.
    assert got_advance.total == payment.amount == total
    assert got_advance.vat_22 == (payment.amount * 22 / 122).quantize(Decimal("0.01"))
    assert got_advance.vat_22 == advance.vat
    assert got_advance.base_22 == Decimal("0.00")
    assert got_advance.payment_number == f"payment:{payment.id}"
    assert got_advance.paid_on == date(2026, 11, 22)
    for line, closing in zip((november, december), closings, strict=True):
        assert (line.total, line.vat_22) == (closing.total, closing.vat)
        assert line.base_22 + line.vat_22 == line.total
        assert line.exempt == Decimal("0.00")
        assert (line.buyer_inn, line.buyer_kpp) == (GOOD_INN, "773601001")
    assert november.total == round_money(total * 9 / 365)  # 22–30.11: 9 days of 365
    assert ledger.sales_totals.total == sum(line.total for line in ledger.sales)
    assert ledger.sales_totals.vat_22 == advance.vat + november.vat_22 + december.vat_22
    assert ledger.sales_totals.base_22 == november.base_22 + december.base_22

    # The seller deducts the advance's VAT as each УПД offsets it (code 22): the УПД's VAT.
    assert [(p.code, p.number, p.closing_number, p.recorded_on) for p in ledger.purchases] == [
        ("22", "AV-2026-000001", "UPD-2026-000001", date(2026, 11, 30)),
        ("22", "AV-2026-000001", "UPD-2026-000002", date(2026, 12, 31)),
    ]
    assert [p.vat for p in ledger.purchases] == [november.vat_22, december.vat_22]
    assert [p.vat for p in ledger.purchases] == [o.vat for o in offsets]
    assert ledger.purchase_totals.vat == november.vat_22 + december.vat_22
    assert ledger.purchase_totals.total == november.total + december.total

    # November alone: the advance and its first УПД.
    only = sales_ledger(db, start=NOVEMBER, end=date(2026, 11, 30))
    assert [line.number for line in only.sales] == ["AV-2026-000001", "UPD-2026-000001"]
    assert len(only.purchases) == 1

    data = accounting_export(
        db,
        start=NOVEMBER,
        end=DECEMBER_END,
        organization=SELLER,
        created_at=datetime(2027, 1, 5, tzinfo=UTC),
    )
    assert [s.number for s in data.sales] == ["UPD-2026-000001", "UPD-2026-000002"]
    assert [sum(line.amount for line in s.lines) for s in data.sales] == [c.total for c in closings]
    assert [(a.number, a.amount, a.vat) for a in data.advances] == [
        ("AV-2026-000001", advance.amount, advance.vat)
    ]
    assert [(p.method, p.amount, p.vat, p.received_on) for p in data.payments] == [
        ("bank_transfer", total, advance.vat, date(2026, 11, 22))
    ]
    assert data.payments[0].purpose.startswith("Оплата по счёту № ")
    assert invoice_id and account_id


def test_a_ukd_is_a_purchase_ledger_line_of_code_18(db: Session, clock: FixedClock) -> None:
    from podpiska.invoicing.models import Correction
    from podpiska.subscriptions.credit_notes import issue_credit_note
    from tests.helpers import ACTOR, move_to

    _account_id, invoice_id = paid_and_run(db, clock)
    move_to(clock, date(2027, 1, 10))
    issue_credit_note(db, invoice_id=invoice_id, reason="отказ", actor=ACTOR, clock=clock)
    run(db, clock, date(2027, 1, 10))
    with db.begin():
        fixes = list(db.scalars(select(Correction).order_by(Correction.id)))
    assert len(fixes) == 2  # November's and December's УПД, corrected in full
    ledger = sales_ledger(db, start=date(2027, 1, 1), end=date(2027, 1, 31))
    eighteen = [p for p in ledger.purchases if p.code == "18"]
    assert [(p.number, p.total, p.vat, p.payment_number) for p in eighteen] == [
        (f.number, f.decrease, f.vat_decrease, None) for f in fixes
    ]
    assert ledger.purchase_totals.vat == sum(p.vat for p in ledger.purchases)
