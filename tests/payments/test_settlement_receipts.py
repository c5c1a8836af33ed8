"""54-FZ settlement receipts (чек зачёта предоплаты, issue 16 item 6) through the real stack
with the sandbox gateway, on SQLite and PostgreSQL: a year paid by card before its term is
rendered month by month, and each УПД's offset of the advance gets one `full_payment`
receipt at 22 % (code 11), settled by the prepayment, to the buyer's e-mail; sent once
however often the job runs, and once when it dies between the gateway's answer and storing
it (the next run resends under the same key). A bank transfer gets none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.adapters.sandbox import SandboxGateway
from podpiska.invoicing.models import Advance, AdvanceOffset, Closing
from podpiska.payments import checkout, reconciliation, settlement_receipts
from podpiska.payments.models import SettlementReceipt
from podpiska.ports import GatewayReceipt
from podpiska.subscriptions import lifecycle
from tests.helpers import active_subscription, customer_actor, move_to, open_account, order


def sandbox(path: Path) -> SandboxGateway:
    return SandboxGateway(path=path, base_url="http://testserver", secret="s")


def paid_by_card(db: Session, clock: FixedClock, gateway: SandboxGateway) -> tuple[Account, str]:
    """A 12-month order paid by card today (22.11.2026): the account and the gateway's
    payment id."""
    account = open_account(db, clock, email="buh@romashka.example")
    ordered = order(db, clock, account.id, plan="basic", months=12)
    attempt = checkout.start_checkout(
        db,
        gateway,
        invoice_id=ordered.invoice.id,
        method_type="bank_card",
        save_method=False,
        consent_accepted=False,
        return_url=None,
        actor=customer_actor(db, clock, account.id),
        clock=clock,
    )
    assert attempt.external_id is not None
    gateway.pay(attempt.external_id, card="4242424242424242")
    reconciliation.record_gateway_payment(
        db, gateway, gateway.get_payment(attempt.external_id), clock=clock
    )
    return account, attempt.external_id


def run_to(db: Session, clock: FixedClock, *days: date) -> None:
    for day in days:
        move_to(clock, day, hour=3)
        lifecycle.run_lifecycle(db, at=day, clock=clock)


def rows(db: Session) -> list[SettlementReceipt]:
    with db.begin():
        return list(db.scalars(select(SettlementReceipt).order_by(SettlementReceipt.id)))


def collect(db: Session, clock: FixedClock, gateway: SandboxGateway) -> None:
    settlement_receipts.make_settlement_receipts(db, clock=clock)
    settlement_receipts.send_settlement_receipts(db, gateway, clock=clock)


def test_each_upd_of_a_card_prepaid_year_gets_one_settlement_receipt(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    account, payment_id = paid_by_card(db, clock, gateway)
    active_subscription(db, clock, months=12)  # paid by bank transfer: no receipt
    run_to(db, clock, date(2026, 11, 22), date(2026, 12, 31))

    collect(db, clock, gateway)
    collect(db, clock, gateway)  # the job again: nothing new, nothing sent twice

    made = rows(db)
    with db.begin():
        offsets = {
            o.id: o
            for o in db.scalars(select(AdvanceOffset).where(AdvanceOffset.source.like("upd:%")))
        }
        closings = {c.id: c for c in db.scalars(select(Closing))}
    card_offsets = [
        o for o in offsets.values() if closings[o.closing_id or 0].account_id == account.id
    ]
    assert len(card_offsets) == 2 and len(offsets) == 4  # the transfer's two have none
    assert [(r.day, r.status, r.attempts) for r in made] == [
        (date(2026, 11, 30), "sent", 1),
        (date(2026, 12, 31), "sent", 1),
    ]
    assert sorted(r.offset_id for r in made) == sorted(o.id for o in card_offsets)
    sent = gateway.receipts()
    assert [r["id"] for r in sent] == [r.receipt_id for r in made]
    for row, receipt in zip(made, sent, strict=True):
        offset = offsets[row.offset_id]
        closing = closings[offset.closing_id or 0]
        assert row.amount == offset.amount == closing.total  # the УПД's amount
        assert receipt["idempotency_key"] == f"settlement-{row.id}"
        assert receipt["payment_id"] == payment_id
        assert receipt["customer"]["email"] == "buh@romashka.example"
        assert receipt["send"] is True
        (item,) = receipt["items"]
        assert (item["payment_mode"], item["vat_code"]) == ("full_payment", 11)
        assert Decimal(item["amount"]) == offset.amount
        assert closing.number in item["description"]
        assert receipt["settlements"] == [{"type": "prepayment", "amount": str(offset.amount)}]


def test_a_crash_between_the_gateway_and_storing_resends_under_the_same_key(
    db: Session, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    paid_by_card(db, clock, gateway)
    run_to(db, clock, date(2026, 11, 30))
    assert settlement_receipts.make_settlement_receipts(db, clock=clock) == 1

    store = settlement_receipts._store_sent

    def dies(
        session: Session, receipt_id: int, answer: GatewayReceipt, *, clock: FixedClock
    ) -> None:
        raise RuntimeError("the worker died before storing the receipt")

    monkeypatch.setattr(settlement_receipts, "_store_sent", dies)
    with pytest.raises(RuntimeError):
        settlement_receipts.send_settlement_receipts(db, gateway, clock=clock)
    (row,) = rows(db)
    assert (row.status, row.receipt_id) == ("pending", None)
    (first,) = gateway.receipts()  # the gateway made it

    monkeypatch.setattr(settlement_receipts, "_store_sent", store)
    report = settlement_receipts.send_settlement_receipts(db, gateway, clock=clock)
    assert report.sent == 1
    (row,) = rows(db)
    assert (row.status, row.receipt_id) == ("sent", first["id"])
    assert len(gateway.receipts()) == 1  # the same receipt, not a second one


def test_a_refused_receipt_fails_with_the_reason_and_an_unknown_rate_is_never_sent(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    paid_by_card(db, clock, gateway)
    run_to(db, clock, date(2026, 11, 30))
    with db.begin():
        db.execute(update(Advance).values(vat_rate="18/118"))  # a rate with no 54-FZ code
    assert settlement_receipts.make_settlement_receipts(db, clock=clock) == 1
    report = settlement_receipts.send_settlement_receipts(db, gateway, clock=clock)
    assert report.sent == 0
    (row,) = rows(db)
    assert (row.status, row.vat_code) == ("failed", None)
    assert row.last_error is not None and row.last_error.startswith("vat_rate_unsupported")
    assert gateway.receipts() == []
