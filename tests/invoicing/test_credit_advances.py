"""Money put on the account's credit without an invoice is an advance (п. 1 ст. 154, п. 3
ст. 168 НК РФ), on SQLite and PostgreSQL: a bank transfer an operator credits to the account
gets its advance счёт-фактура on the day the money arrived; an order paid from that credit
gets no second one, it takes its share of the credit's advance, which the month-end УПД
offsets; `ledger verify` holds throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.models import OutboxEvent
from podpiska.invoicing.accounting import accounting_export, sales_ledger
from podpiska.invoicing.advance_contents import advance_data
from podpiska.invoicing.ledger import credit_balance
from podpiska.invoicing.models import Advance, AdvanceOffset, Document, Payment
from podpiska.invoicing.upd_contents import upd_data
from podpiska.payments.bank import review
from podpiska.payments.ledger_verify import verify
from podpiska.ports import Counterparty, Party
from tests.helpers import open_account, order
from tests.invoicing.test_rendering_run import closings, order_invoice, run, verified
from tests.payments.bank.test_review import queued

FIRST = date(2026, 11, 22)


def advances(db: Session) -> list[Advance]:
    with db.begin():
        return list(db.scalars(select(Advance).order_by(Advance.id)))


def offsets(db: Session) -> list[AdvanceOffset]:
    with db.begin():
        return list(db.scalars(select(AdvanceOffset).order_by(AdvanceOffset.id)))


def ledger_ok(db: Session) -> None:
    report = verify(db)
    assert report.ok, (report.unbalanced, report.mismatches)
    verified(db)


def test_a_bank_transfer_put_on_the_credit_is_an_advance_the_order_paid_from_it_shares_it(
    db: Session, clock: FixedClock
) -> None:
    """By hand:

    - 22.11.2026: a bank transfer of 21 492,00 ₽ naming no invoice, credited to the account
      by an operator; that night: the advance AV-2026-000001 of 22.11.2026, 21 492,00, VAT
      at 22/122 = 21 492 × 22 / 122 = 3 875,606… → 3 875,61;
    - the same day a 12-month Basic order, 1 990 × 12 − 10 % = 21 492,00 (VAT 3 875,61),
      paid in full from the credit (a payment of method `credit`): no second advance, one
      share of AV-2026-000001 (21 492,00 / 3 875,61, no number, no document);
    - 30.11.2026: the УПД UPD-2026-000001 for November, 9 days of 365: 21 492 × 9 / 365 =
      529,939… → 529,94, VAT 3 875,61 × 9 / 365 = 95,563… → 95,56; it offsets 529,94 of the
      share, VAT 529,94 × 22 / 122 = 95,562… → 95,56;
    - `ledger verify` OK after each night."""
    account = open_account(db, clock)
    (waiting,) = queued(db, clock, "21492.00")
    review.credit_to_account(
        db, bank_payment_id=waiting.id, account_id=account.id, actor="operator", clock=clock
    )
    ordered = order(db, clock, account.id, months=12)
    invoice = order_invoice(db, ordered.subscription.id)
    assert (invoice.total, invoice.vat_amount, invoice.status) == (
        D("21492.00"),
        D("3875.61"),
        "paid",
    )
    with db.begin():
        assert credit_balance(db, account.id) == D("0.00")
        (payment,) = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id))
    assert (payment.method, payment.amount) == ("credit", D("21492.00"))

    run(db, clock, FIRST)
    credit_advance, share = advances(db)
    assert (credit_advance.number, credit_advance.issued_on) == ("AV-2026-000001", FIRST)
    assert (credit_advance.invoice_id, credit_advance.payment_id) == (None, None)
    assert credit_advance.source == f"credit:{credit_advance.credit_entry_id}"
    assert (credit_advance.amount, credit_advance.vat, credit_advance.vat_rate) == (
        D("21492.00"),
        D("3875.61"),
        "22/122",
    )
    assert D("21492") * 22 / 122 > D("3875.60")  # by hand: 3 875,606…
    # The order paid from the credit: no second advance, a share of the credit's.
    assert share.number is None
    assert (share.parent_id, share.invoice_id, share.payment_id) == (
        credit_advance.id,
        invoice.id,
        payment.id,
    )
    assert (share.amount, share.vat) == (D("21492.00"), D("3875.61"))
    with db.begin():
        documents = list(db.scalars(select(Document).where(Document.kind == "advance")))
        issued = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "advance.issued")))
        data = advance_data(db, documents[0], Party(name="ООО «Облако»", inn="7701234567"))
    assert [(d.number, d.source_id, d.issued_on) for d in documents] == [
        ("AV-2026-000001", credit_advance.id, FIRST)
    ]
    assert len(issued) == 1
    assert (data.total, data.vat_amount, data.payment.number, data.payment.paid_on) == (
        D("21492.00"),
        D("3875.61"),
        "700",
        FIRST,
    )
    assert [(line.amount, line.vat_amount, line.vat_rate) for line in data.lines] == [
        (D("21492.00"), D("3875.61"), "22/122")
    ]
    ledger_ok(db)

    run(db, clock, date(2026, 11, 30))
    (upd,) = closings(db)
    assert (upd.number, upd.issued_on, upd.total, upd.vat) == (
        "UPD-2026-000001",
        date(2026, 11, 30),
        D("529.94"),
        D("95.56"),
    )
    (offset,) = offsets(db)
    assert (offset.advance_id, offset.source, offset.amount, offset.vat) == (
        share.id,
        f"upd:{upd.id}",
        D("529.94"),
        D("95.56"),
    )
    assert len(advances(db)) == 2  # the run issues nothing twice
    ledger_ok(db)
    # Строка 5 of the УПД: the bank's document of the money the offset advance came from.
    with db.begin():
        (upd_document,) = db.scalars(select(Document).where(Document.kind == "upd"))
        printed = upd_data(db, upd_document, Party(name="ООО «Облако»", inn="7701234567"))
    assert [(p.number, p.paid_on) for p in printed.payments] == [("700", FIRST)]

    # The books: the credit's advance in the книга продаж (code 02) with the bank's document,
    # its offset by the УПД in the книга покупок (code 22) under the advance's own number,
    # and the money received among the 1C export's payments with the advance's VAT.
    ledger = sales_ledger(db, start=FIRST, end=date(2026, 11, 30))
    assert [(line.code, line.number) for line in ledger.sales] == [
        ("02", "AV-2026-000001"),
        ("01", "UPD-2026-000001"),
    ]
    assert (ledger.sales[0].payment_number, ledger.sales[0].paid_on) == ("700", FIRST)
    assert ledger.sales[0].vat_22 == D("3875.61")
    assert [(p.code, p.number, p.closing_number, p.vat) for p in ledger.purchases] == [
        ("22", "AV-2026-000001", "UPD-2026-000001", D("95.56"))
    ]
    exported = accounting_export(
        db,
        start=FIRST,
        end=date(2026, 11, 30),
        organization=Counterparty(name="ООО «Облако»", inn="7701234567", kpp=None),
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert [(a.number, a.payment_key, a.payment_number) for a in exported.advances] == [
        ("AV-2026-000001", f"credit:{credit_advance.credit_entry_id}", "700")
    ]
    assert [(p.key, p.number, p.amount, p.vat) for p in exported.payments] == [
        (f"credit:{credit_advance.credit_entry_id}", "700", D("21492.00"), D("3875.61"))
    ]
