"""The review queue's other outcomes, on SQLite and PostgreSQL: a payment put on an
account's credit (a prepayment, used by the account's next invoice as an overpayment's
credit is), a payment set aside as not ours (with its reason; nothing else changes) and
taken back to the queue, each once, only from the queue, atomic and audited; and, on
PostgreSQL, two operators acting on one payment at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import AuditEntry
from podpiska.invoicing.ledger import CASH, CREDIT, credit_balance
from podpiska.invoicing.models import CreditEntry, JournalEntry, Payment
from podpiska.payments.bank import importing, review
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.ledger_verify import verify
from podpiska.subscriptions import billing
from tests.helpers import ACTOR, count, open_account, order, row_counts
from tests.payments.bank.test_domain import document, statement


def queued(db: Session, clock: FixedClock, *amounts: str) -> list[BankPayment]:
    """Payments whose purpose names no invoice: the review queue, in order."""
    text = statement(
        *(
            document(str(700 + i), amount, f"Аванс по договору {i}")
            for i, amount in enumerate(amounts)
        )
    )
    report = importing.import_statement(
        db, data=text.encode("cp1251"), source="day.txt", actor=ACTOR, clock=clock
    )
    assert report.counts["unmatched"] == len(amounts)
    return review.review_queue(db)


def bank_row(db: Session, bank_payment_id: int) -> BankPayment:
    with db.begin():
        found = db.get_one(BankPayment, bank_payment_id)
        db.expunge(found)
        return found


def audit_of(db: Session, action: str) -> list[AuditEntry]:
    with db.begin():
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def everything(db: Session) -> dict[str, int]:
    """Row counts of every table a review outcome may write."""
    return {
        **row_counts(db),
        "credit_entries": count(db, CreditEntry),
        "journal_entries": count(db, JournalEntry),
    }


def test_a_prepayment_goes_to_the_credit_and_pays_the_next_invoice(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock)
    (waiting,) = queued(db, clock, "1000.00")
    before = {"payments": count(db, Payment)}

    row = review.credit_to_account(
        db, bank_payment_id=waiting.id, account_id=account.id, actor=ACTOR, clock=clock
    )
    assert (row.status, row.account_id, row.resolved_by) == ("credited", account.id, ACTOR)
    assert row.resolved_at == clock.now() and row.invoice_id is None and row.payment_id is None
    assert review.review_queue(db) == []
    with db.begin():
        assert credit_balance(db, account.id) == D("1000.00")
        (entry,) = db.scalars(select(CreditEntry).where(CreditEntry.account_id == account.id))
        assert entry.reason.startswith("prepayment: bank payment № 700")
        postings = {
            (j.ledger, j.amount)
            for j in db.scalars(
                select(JournalEntry).where(JournalEntry.document == f"bank_payment:{row.id}")
            )
        }
    assert postings == {(CASH, D("1000.00")), (CREDIT, D("-1000.00"))}
    assert count(db, Payment) == before["payments"]  # no invoice was paid
    (audited,) = audit_of(db, "bank_payment.credited")
    assert (audited.actor, audited.account_id, audited.object_id) == (
        ACTOR,
        account.id,
        str(row.id),
    )
    assert audited.after == {"account": account.id, "amount": "1000.00", "doc_number": "700"}
    assert verify(db).ok

    # the next invoice (1 990,00) uses the credit first, as an overpayment's credit
    ordered = order(db, clock, account.id, months=1)
    invoice, _ = billing.get_invoice(db, ordered.invoice.id)
    assert invoice.total == D("1990.00") and invoice.amount_paid == D("1000.00")
    with db.begin():
        assert credit_balance(db, account.id) == D("0.00")
        used = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).one()
    assert (used.method, used.amount) == ("credit", D("1000.00"))
    assert verify(db).ok


def test_a_prepayment_as_large_as_the_invoice_activates_the_order(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock)
    (waiting,) = queued(db, clock, "1990.00")
    review.credit_to_account(
        db, bank_payment_id=waiting.id, account_id=account.id, actor=ACTOR, clock=clock
    )
    ordered = order(db, clock, account.id, months=1)
    assert billing.get_invoice(db, ordered.invoice.id)[0].status == "paid"
    assert billing.get_subscription(db, account.id).status == "active"
    assert verify(db).ok


def test_not_ours_keeps_the_reason_and_changes_nothing_else(db: Session, clock: FixedClock) -> None:
    (waiting,) = queued(db, clock, "500.00")
    before = everything(db)
    row = review.dismiss(
        db,
        bank_payment_id=waiting.id,
        reason="  перечислен нам по ошибке, банк вернёт  ",
        actor=ACTOR,
        clock=clock,
    )
    assert (row.status, row.reason) == ("dismissed", "перечислен нам по ошибке, банк вернёт")
    assert (row.resolved_by, row.resolved_at) == (ACTOR, clock.now())
    assert (row.invoice_id, row.payment_id, row.account_id) == (None, None, None)
    assert review.review_queue(db) == []
    after = everything(db)
    assert after == {**before, "audit_log": before["audit_log"] + 1}  # the audit row only
    (audited,) = audit_of(db, "bank_payment.dismissed")
    assert audited.after == {
        "reason": "перечислен нам по ошибке, банк вернёт",
        "amount": "500.00",
        "doc_number": "700",
    }
    assert verify(db).ok

    # back to the queue: a mistaken click is undone, and audited
    reopened = review.reopen(db, bank_payment_id=waiting.id, actor=ACTOR, clock=clock)
    assert (reopened.status, reopened.reason, reopened.resolved_by) == ("unmatched", None, None)
    assert [r.id for r in review.review_queue(db)] == [waiting.id]
    (undone,) = audit_of(db, "bank_payment.reopened")
    assert undone.before == {
        "status": "dismissed",
        "reason": "перечислен нам по ошибке, банк вернёт",
        "by": ACTOR,
    }
    with pytest.raises(DomainError) as caught:  # only a dismissed payment goes back
        review.reopen(db, bank_payment_id=waiting.id, actor=ACTOR, clock=clock)
    assert caught.value.code == "bank_payment_not_dismissed"
    assert caught.value.kind == Kind.CONFLICT
    # and it can then be dealt with again
    account = open_account(db, clock)
    review.credit_to_account(
        db, bank_payment_id=waiting.id, account_id=account.id, actor=ACTOR, clock=clock
    )
    assert bank_row(db, waiting.id).status == "credited"
    assert verify(db).ok


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "bank_payment_reason_required"),
        ("   \n\t ", "bank_payment_reason_required"),
        ("x" * 501, "bank_payment_reason_too_long"),
    ],
)
def test_a_blank_or_too_long_reason_is_refused(
    db: Session, clock: FixedClock, reason: str, code: str
) -> None:
    (waiting,) = queued(db, clock, "500.00")
    before = everything(db)
    with pytest.raises(DomainError) as caught:
        review.dismiss(db, bank_payment_id=waiting.id, reason=reason, actor=ACTOR, clock=clock)
    assert caught.value.code == code and caught.value.kind == Kind.INVALID
    assert caught.value.message("ru") and caught.value.message("en")
    assert everything(db) == before
    assert bank_row(db, waiting.id).status == "unmatched"
    exactly = review.dismiss(
        db, bank_payment_id=waiting.id, reason="я" * 500, actor=ACTOR, clock=clock
    )
    assert exactly.reason == "я" * 500


def test_only_a_payment_of_the_queue_is_credited_or_dismissed(
    db: Session, clock: FixedClock
) -> None:
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, months=1)
    text = statement(document("1", "1990.00", f"Счёт {ordered.invoice.number}"))
    importing.import_statement(
        db, data=text.encode("cp1251"), source="a.txt", actor=ACTOR, clock=clock
    )
    with db.begin():
        paid = db.scalars(select(BankPayment).where(BankPayment.status == "paid")).one()
    other = order(db, clock, open_account(db, clock).id, months=12)  # still awaiting money
    first, second, third = queued(db, clock, "100.00", "200.00", "300.00")
    review.resolve(
        db, bank_payment_id=first.id, invoice_id=other.invoice.id, actor=ACTOR, clock=clock
    )
    review.credit_to_account(
        db, bank_payment_id=second.id, account_id=account.id, actor=ACTOR, clock=clock
    )
    review.dismiss(db, bank_payment_id=third.id, reason="не наш", actor=ACTOR, clock=clock)
    before = everything(db)
    for row, status in ((paid, "paid"), (first, "resolved"), (second, "credited"),
                        (third, "dismissed")):  # fmt: skip
        calls: list[Callable[[], Any]] = [
            partial(review.credit_to_account, db, bank_payment_id=row.id, account_id=account.id,
                    actor=ACTOR, clock=clock),
            partial(review.dismiss, db, bank_payment_id=row.id, reason="ещё раз", actor=ACTOR,
                    clock=clock),
            partial(review.resolve, db, bank_payment_id=row.id, invoice_id=other.invoice.id,
                    actor=ACTOR, clock=clock),
        ]  # fmt: skip
        for call in calls:
            with pytest.raises(DomainError) as caught:
                call()
            assert caught.value.code == "bank_payment_resolved"
            assert caught.value.kind == Kind.CONFLICT
            assert caught.value.details["status"] == status
            assert f"«{status}»" not in caught.value.message("ru")  # said in words
        if status != "dismissed":
            with pytest.raises(DomainError) as refused:
                review.reopen(db, bank_payment_id=row.id, actor=ACTOR, clock=clock)
            assert refused.value.code == "bank_payment_not_dismissed"
    assert everything(db) == before
    assert verify(db).ok


def test_an_unknown_payment_or_account_is_not_found_and_writes_nothing(
    db: Session, clock: FixedClock
) -> None:
    (waiting,) = queued(db, clock, "500.00")
    before = everything(db)
    with pytest.raises(DomainError) as caught:
        review.credit_to_account(
            db, bank_payment_id=waiting.id, account_id=999999, actor=ACTOR, clock=clock
        )
    assert caught.value.code == "not_found"
    with pytest.raises(DomainError) as missing:
        review.dismiss(db, bank_payment_id=999999, reason="x", actor=ACTOR, clock=clock)
    assert missing.value.code == "not_found"
    assert everything(db) == before
    assert bank_row(db, waiting.id).status == "unmatched"


# --- two operators at once (PostgreSQL: row locks) -----------------------------------------


def at_once(
    calls: list[Callable[[Session], Any]], factory: sessionmaker[Session]
) -> list[tuple[str, Any]]:
    barrier = threading.Barrier(len(calls), timeout=30)

    def work(call: Callable[[Session], Any]) -> tuple[str, Any]:
        with factory() as session:
            barrier.wait()
            try:
                return ("ok", call(session).status)
            except DomainError as error:
                return ("refused", error.code)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(work, calls))


@pytest.mark.postgres_only
def test_one_payment_dealt_with_by_several_operators_at_once_moves_money_once(
    db: Session, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    account = open_account(db, clock)
    ordered = order(db, clock, account.id, months=1)
    payments = queued(db, clock, *(["1990.00"] * 5))
    for waiting in payments:
        crediting = partial(review.credit_to_account, bank_payment_id=waiting.id,
                            account_id=account.id, actor=ACTOR, clock=clock)  # fmt: skip
        calls: list[Callable[[Session], Any]] = [
            crediting,
            partial(review.dismiss, bank_payment_id=waiting.id, reason="не наш", actor=ACTOR,
                    clock=clock),
            partial(review.resolve, bank_payment_id=waiting.id, invoice_id=ordered.invoice.id,
                    actor=ACTOR, clock=clock),
            crediting,
        ]  # fmt: skip
        outcomes = at_once(calls, session_factory)
        done = [value for kind, value in outcomes if kind == "ok"]
        assert len(done) == 1, outcomes
        refused = [value for kind, value in outcomes if kind == "refused"]
        assert len(refused) == 3 and set(refused) <= {
            "bank_payment_resolved",
            "invoice_not_payable",
        }
        assert bank_row(db, waiting.id).status == done[0]
    with db.begin():
        credited = db.scalars(select(BankPayment).where(BankPayment.status == "credited")).all()
        bank_paid = db.scalars(select(Payment).where(Payment.method == "bank_transfer")).all()
        assert credit_balance(db, account.id) == D("1990.00") * len(credited)
    resolved = [p for p in payments if bank_row(db, p.id).status == "resolved"]
    assert len(bank_paid) == len(resolved) <= 1
    assert verify(db).ok
