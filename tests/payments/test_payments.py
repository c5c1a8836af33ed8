"""Payments through a gateway, at the use-case level: the crash between the gateway call
and the stored result (repaired by reconciliation, exactly one payment), an unknown outcome
(a timeout) retried with the same key, the 54-FZ receipt of a payment, and money arriving
for an invoice that can no longer take it. On SQLite and PostgreSQL; the gateway is the
sandbox (the fake at the port), its state in a file shared with the crashing process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.sandbox import SandboxGateway
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import AuditEntry
from podpiska.invoicing import ledger as money_ledger
from podpiska.invoicing.models import Invoice, InvoiceLine, Payment
from podpiska.payments import autopay, checkout, ledger_verify, receipts, reconciliation, refunds
from podpiska.payments.models import PaymentAttempt, PaymentMethod, Refund
from podpiska.ports import ChargeRequest, GatewayError, GatewayPayment
from podpiska.subscriptions import billing
from podpiska.subscriptions.lifecycle import run_lifecycle
from podpiska.subscriptions.models import Subscription
from tests.helpers import (
    PROJECT,
    customer_actor,
    events,
    invoice_by_id,
    move_to,
    open_account,
    order,
    pay,
    subscription_of,
)


def sandbox(path: Path) -> SandboxGateway:
    return SandboxGateway(path=path, base_url="http://testserver", secret="s")


def saved_card_subscription(
    db: Session, clock: FixedClock, gateway: SandboxGateway, *, months: int = 1
) -> Subscription:
    """An account that paid its order by card and kept the card for autopay."""
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="standard", months=months)
    attempt = checkout.start_checkout(
        db,
        gateway,
        invoice_id=ordered.invoice.id,
        method_type="bank_card",
        save_method=True,
        consent_accepted=True,
        return_url=None,
        actor=customer_actor(db, clock, account.id),
        clock=clock,
    )
    assert attempt.status == "pending" and attempt.external_id is not None
    gateway.pay(attempt.external_id, card="4242424242424242")
    reconciliation.record_gateway_payment(
        db, gateway, gateway.get_payment(attempt.external_id), clock=clock
    )
    subscription = subscription_of(db, account.id)
    assert subscription.status == "active" and subscription.autopay
    return subscription


def renewal_invoice_day(db: Session, clock: FixedClock, subscription: Subscription) -> Invoice:
    """Move to the day the autopay invoice is issued and run that day."""
    assert subscription.ends_on is not None
    day = subscription.ends_on - timedelta(days=4)  # 3 days before the paid-through day
    move_to(clock, day)
    run_lifecycle(db, at=day, clock=clock)
    fresh = subscription_of(db, subscription.account_id)
    assert fresh.renewal_invoice_id is not None
    return invoice_by_id(db, fresh.renewal_invoice_id)


CRASHING_WORKER = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from pathlib import Path
    from podpiska.adapters.clock import FixedClock
    from podpiska.adapters.sandbox import SandboxGateway
    from podpiska.core.db.session import make_engine, make_session_factory
    from podpiska.payments import autopay

    class DiesAfterTheCall(SandboxGateway):
        def create_payment(self, request):
            super().create_payment(request)  # the money is taken at the gateway...
            os._exit(137)  # ...and the process dies before storing the result

    url, gateway_path, now = sys.argv[1:4]
    gateway = DiesAfterTheCall(path=Path(gateway_path), base_url="http://testserver", secret="s")
    sessions = make_session_factory(make_engine(url))
    with sessions() as db:
        autopay.charge_autopay(db, gateway, clock=FixedClock(datetime.fromisoformat(now)))
    sys.exit(0)
    """
)


def test_a_crash_between_the_charge_and_its_result_ends_with_exactly_one_payment(
    db: Session, clock: FixedClock, db_url: str, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    subscription = saved_card_subscription(db, clock, gateway)
    invoice = renewal_invoice_day(db, clock, subscription)
    charged_before = len(gateway.payments())

    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_WORKER, db_url, str(tmp_path / "sandbox.db"),
         clock.instant.isoformat()],
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert crashed.returncode == 137, crashed.stderr
    # The gateway took the money; our database only knows an attempt was started.
    assert len(gateway.payments()) == charged_before + 1
    with db.begin():
        [attempt] = db.scalars(select(PaymentAttempt).where(PaymentAttempt.kind == "autopay"))
        assert (attempt.status, attempt.external_id) == ("created", None)
        assert db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all() == []

    # Reconciliation, a few minutes later, sends the same request with the same key.
    clock.instant += timedelta(minutes=5)
    report = reconciliation.reconcile(db, gateway, clock=clock)
    assert (report.checked, report.succeeded) == (1, 1)
    assert reconciliation.reconcile(db, gateway, clock=clock).checked == 0  # and it is done
    with db.begin():
        paid = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert [p.amount for p in paid] == [invoice.total]
    assert len(gateway.payments()) == charged_before + 1  # never charged twice
    assert invoice_by_id(db, invoice.id).status == "paid"
    assert ledger_verify.verify(db).ok


class TimesOut(SandboxGateway):
    """The request reaches the gateway, the answer never comes back (the first time)."""

    fail_next = True

    def create_payment(self, request: ChargeRequest) -> GatewayPayment:
        made = super().create_payment(request)
        if self.fail_next:
            self.fail_next = False
            raise GatewayError("read timeout")
        return made


def test_an_unknown_outcome_is_asked_again_with_the_same_key(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = TimesOut(path=tmp_path / "sandbox.db", base_url="http://testserver", secret="s")
    gateway.fail_next = False
    subscription = saved_card_subscription(db, clock, gateway)
    invoice = renewal_invoice_day(db, clock, subscription)
    gateway.fail_next = True
    report = autopay.charge_autopay(db, gateway, clock=clock)
    assert (report.charged, report.pending) == (1, 1)
    # The same day again: the open attempt blocks a second charge.
    assert autopay.charge_autopay(db, gateway, clock=clock).charged == 0
    clock.instant += timedelta(minutes=3)
    assert reconciliation.reconcile(db, gateway, clock=clock).succeeded == 1
    assert invoice_by_id(db, invoice.id).status == "paid"
    assert len([p for p in gateway.payments() if p.status == "succeeded"]) == 2  # order+renewal


def _give_lines_rate(db: Session, invoice_id: int, rate: str) -> None:
    """An invoice written by an old catalog with a VAT rate no 54-FZ receipt has."""
    with db.begin():
        for line in db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)):
            line.vat_rate = rate


def test_autopay_skips_an_invoice_whose_vat_rate_has_no_receipt_code_and_charges_the_rest(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    odd = saved_card_subscription(db, clock, gateway)
    fine = saved_card_subscription(db, clock, gateway)
    odd_invoice = renewal_invoice_day(db, clock, odd)
    fine_invoice = invoice_by_id(db, subscription_of(db, fine.account_id).renewal_invoice_id or 0)
    _give_lines_rate(db, odd_invoice.id, "18")
    report = autopay.charge_autopay(db, gateway, clock=clock)
    assert (report.charged, report.skipped, report.succeeded) == (1, 1, 1)
    assert invoice_by_id(db, fine_invoice.id).status == "paid"
    assert invoice_by_id(db, odd_invoice.id).status == "issued"
    with db.begin():
        tried = db.scalars(
            select(PaymentAttempt).where(PaymentAttempt.invoice_id == odd_invoice.id)
        ).all()
    assert tried == []  # nothing written, nothing sent for it
    assert ledger_verify.verify(db).ok


def test_a_refund_whose_receipt_cannot_be_made_fails_to_credit_and_the_rest_go_on(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    attempt = checkout.start_checkout(
        db, gateway, invoice_id=ordered.invoice.id, method_type="sbp", return_url=None,
        actor="user:a", clock=clock,
    )  # fmt: skip
    pay(db, clock, ordered.invoice.id, method="bank_transfer")  # paid by transfer meanwhile
    assert attempt.external_id is not None
    gateway.pay(attempt.external_id, approve=True)
    reconciliation.record_gateway_payment(
        db, gateway, gateway.get_payment(attempt.external_id), clock=clock
    )
    _give_lines_rate(db, ordered.invoice.id, "18")
    assert refunds.send_refunds(db, gateway, clock=clock) == 0
    with db.begin():
        refund = db.scalars(select(Refund)).one()
        assert (refund.status, refund.failure_reason) == ("failed", "vat_rate_unsupported")
        assert refund.external_id is None  # nothing was sent to the gateway
    assert money_ledger.account_credit(db, account.id) == ordered.invoice.total
    assert ledger_verify.verify(db).ok


def test_money_for_an_invoice_paid_meanwhile_is_refunded_to_its_payment(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    attempt = checkout.start_checkout(
        db, gateway, invoice_id=ordered.invoice.id, method_type="sbp", return_url=None,
        actor="user:a", clock=clock,
    )  # fmt: skip
    pay(db, clock, ordered.invoice.id, method="bank_transfer")  # paid by transfer meanwhile
    assert attempt.external_id is not None
    gateway.pay(attempt.external_id, approve=True)
    done = reconciliation.record_gateway_payment(
        db, gateway, gateway.get_payment(attempt.external_id), clock=clock
    )
    assert done.status == "succeeded"
    # Booked, then sent back to that very payment: nothing stays as credit nobody asked for.
    with db.begin():
        [refund] = db.scalars(select(Refund)).all()
        assert (refund.payment_id, refund.amount, refund.status) == (
            done.payment_id,
            ordered.invoice.total,
            "requested",
        )
        surplus = db.scalar(
            select(AuditEntry).where(AuditEntry.action == "payment.surplus_refunded")
        )
        assert surplus is not None and surplus.after is not None
        assert surplus.after["refund_id"] == refund.id
    assert money_ledger.account_credit(db, account.id) == Decimal("0.00")
    assert [e.type for e in events(db, "refund.requested", account_id=account.id)] == [
        "refund.requested"
    ]
    assert refunds.send_refunds(db, gateway, clock=clock) == 1
    with db.begin():
        refund = db.scalars(select(Refund)).one()
        assert refund.status == "succeeded" and refund.external_id is not None
    sent = gateway.get_refund(refund.external_id)
    assert (sent.payment_id, sent.amount) == (attempt.external_id, ordered.invoice.total)
    assert len(events(db, "refund.succeeded", account_id=account.id)) == 1
    assert money_ledger.account_credit(db, account.id) == Decimal("0.00")
    assert ledger_verify.verify(db).ok


def test_a_payment_the_gateway_takes_after_the_attempt_expired_is_booked(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """A late notification: the attempt was given up here, the customer paid all the same.
    The first such payment pays the invoice; a second (another expired attempt) is refunded."""
    gateway = sandbox(tmp_path / "sandbox.db")
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    invoice_id = ordered.invoice.id
    payers = []
    for _ in range(2):
        attempt = checkout.start_checkout(
            db, gateway, invoice_id=invoice_id, method_type="bank_card", return_url=None,
            actor="user:a", clock=clock,
        )  # fmt: skip
        assert attempt.external_id is not None
        clock.instant += reconciliation.CHECKOUT_EXPIRES + timedelta(minutes=1)
        reconciliation.reconcile(db, gateway, clock=clock)
        assert checkout.get_attempt(db, attempt.id).failure_reason == "expired_on_confirmation"
        payers.append(attempt)
    booked = []
    for attempt in payers:
        assert attempt.external_id is not None
        gateway.pay(attempt.external_id, card="4242424242424242")
        late = reconciliation.record_gateway_payment(
            db, gateway, gateway.get_payment(attempt.external_id), clock=clock
        )
        assert late.status == "succeeded" and late.payment_id is not None
        booked.append(late.payment_id)
    assert invoice_by_id(db, invoice_id).status == "paid"
    with db.begin():
        [refund] = db.scalars(select(Refund)).all()
        assert refund.payment_id == booked[1]
        assert refund.amount == ordered.invoice.total
    assert money_ledger.account_credit(db, account.id) == Decimal("0.00")
    assert ledger_verify.verify(db).ok


def test_the_receipt_of_a_payment(db: Session, clock: FixedClock) -> None:
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="standard", months=12, add_ons=["marketplace"])
    invoice = ordered.invoice
    with db.begin():
        full = receipts.build_receipt(
            db, invoice, invoice.total, account, prepayment_on=date(2026, 11, 22)
        )
        part = receipts.build_receipt(
            db, invoice, Decimal("1000.01"), account, prepayment_on=date(2026, 11, 22)
        )
    assert len(full.items) == 2  # the plan and the add-on, each with its VAT code
    assert sum(i.amount for i in full.items) == invoice.total
    # An order's term starts when it is paid: a full payment at 22 %.
    assert {(i.vat_code, i.payment_mode, i.payment_subject) for i in full.items} == {
        (11, "full_payment", "service")
    }
    assert sum(i.amount for i in part.items) == Decimal("1000.01")
    assert full.customer_email == account.admin_email
    assert all(len(i.description) <= 128 for i in full.items)

    # A renewal paid before its term starts is a prepayment: 22/122.
    pay(db, clock, invoice.id)
    move_to(clock, date(2027, 11, 10))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor="user:a", clock=clock
    )
    with db.begin():
        early = receipts.build_receipt(
            db, renewal, renewal.total, account, prepayment_on=date(2027, 11, 10)
        )
        late = receipts.build_receipt(
            db, renewal, renewal.total, account, prepayment_on=date(2027, 11, 22)
        )
    assert {(i.vat_code, i.payment_mode) for i in early.items} == {(12, "full_prepayment")}
    assert {(i.vat_code, i.payment_mode) for i in late.items} == {(11, "full_payment")}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10_000_000), min_size=1, max_size=6), st.integers(1, 10**9))
def test_receipt_shares_always_sum_to_the_payment(weights: list[int], kopecks: int) -> None:
    """The allocation the receipt uses: exact for any lines and any part payment."""
    from podpiska.core.domain.money import allocate

    amount = Decimal(kopecks) / 100
    shares = allocate(amount, [Decimal(w) / 100 for w in weights])
    assert sum(shares) == amount
    assert all(s >= 0 for s in shares)


def test_vat_codes() -> None:
    assert receipts._vat_code("included", "22", prepayment=False) == 11
    assert receipts._vat_code("included", "22", prepayment=True) == 12
    assert receipts._vat_code("exempt", None, prepayment=False) == 1
    assert receipts._vat_code("excluded", "20", prepayment=False) == 4


def test_two_stage_payments_are_captured_when_recorded(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    gateway = sandbox(tmp_path / "sandbox.db")
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, plan="basic", months=12)
    attempt = checkout.start_checkout(
        db, gateway, invoice_id=ordered.invoice.id, method_type="bank_card", return_url=None,
        actor="user:a", clock=clock, two_stage=True,
    )  # fmt: skip
    assert attempt.external_id is not None
    gateway.pay(attempt.external_id, card="4242424242424242")
    held = gateway.get_payment(attempt.external_id)
    assert held.status == "waiting_for_capture"
    assert invoice_by_id(db, ordered.invoice.id).status == "issued"
    done = reconciliation.record_gateway_payment(db, gateway, held, clock=clock)
    assert done.status == "succeeded"
    assert gateway.get_payment(attempt.external_id).status == "succeeded"
    assert invoice_by_id(db, ordered.invoice.id).status == "paid"


def test_an_open_checkout_blocks_a_saved_card_and_autopay_on_the_same_invoice(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """One open attempt per invoice, whatever its kind: the customer's card form is open,
    so neither the saved card nor autopay charges the invoice beside it."""
    gateway = sandbox(tmp_path / "sandbox.db")
    subscription = saved_card_subscription(db, clock, gateway)
    invoice = renewal_invoice_day(db, clock, subscription)
    with db.begin():
        [method] = db.scalars(select(PaymentMethod)).all()
        method_id = method.id
    waiting = checkout.start_checkout(
        db, gateway, invoice_id=invoice.id, method_type="bank_card", return_url=None,
        actor="user:a", clock=clock,
    )  # fmt: skip
    assert waiting.status == "pending"
    charges = len(gateway.payments())
    with pytest.raises(DomainError) as refused:
        checkout.pay_with_saved_method(
            db, gateway, invoice_id=invoice.id, method_id=method_id, actor="user:a", clock=clock
        )
    assert refused.value.code == "payment_in_progress"
    assert refused.value.details["attempt_id"] == waiting.id
    assert autopay.charge_autopay(db, gateway, clock=clock).charged == 0
    assert len(gateway.payments()) == charges
    # The customer abandons the form (the gateway cancels it): the saved card may pay.
    assert waiting.external_id is not None
    gateway.pay(waiting.external_id, card="4000000000000002")
    charged = checkout.pay_with_saved_method(
        db, gateway, invoice_id=invoice.id, method_id=method_id, actor="user:a", clock=clock
    )
    assert charged.status == "succeeded"
    assert invoice_by_id(db, invoice.id).status == "paid"
    assert ledger_verify.verify(db).ok
