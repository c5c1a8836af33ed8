"""No money is created or lost (hypothesis, on SQLite and PostgreSQL): random sequences of
seat changes, upgrades, add-ons, downgrades, payments (partial, full, over), renewals,
credit notes and refunds on one account, after which the journal balances, agrees with the
documents, and the money adds up: what came in equals what the invoices kept, plus the
account's credit, plus what went back."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError
from podpiska.invoicing.ledger import credit_balance
from podpiska.invoicing.models import CreditEntry, Invoice, Payment
from podpiska.payments.ledger_verify import verify
from podpiska.payments.models import Refund
from podpiska.payments.refunds import refund_credit
from podpiska.subscriptions import billing, changes, lifecycle, settlement
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.helpers import ACTOR, START, move_to, open_account, order

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "test-secret"
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("seats"), st.integers(11, 40)),
        st.tuples(st.just("plan"), st.sampled_from(["start", "business", "corporate"])),
        st.tuples(st.just("add_on"), st.just("api_access")),
        st.tuples(st.just("pay"), st.sampled_from(["part", "full", "over"])),
        st.tuples(st.just("days"), st.integers(1, 120)),
        st.tuples(st.just("renew"), st.sampled_from([1, 3, 12])),
        st.tuples(st.just("credit_note"), st.just(0)),
        st.tuples(st.just("refund"), st.sampled_from(["1.00", "100.00"])),
    ),
    min_size=3,
    max_size=10,
)


def _open_invoices(db: Session, account_id: int) -> list[Invoice]:
    with db.begin():
        return list(
            db.scalars(
                select(Invoice)
                .where(Invoice.account_id == account_id, Invoice.status == "issued")
                .order_by(Invoice.id)
            )
        )


def _step(db: Session, clock: FixedClock, account_id: int, sub_id: int, step: tuple) -> None:  # type: ignore[type-arg]
    kind, value = step
    if kind == "days":
        # Days pass and the nightly run runs (renewals, grace, the month-end run).
        move_to(clock, clock.instant.date() + timedelta(days=value), hour=3)
        lifecycle.run_lifecycle(db, at=clock.instant.date(), clock=clock)
    elif kind in {"seats", "plan", "add_on"}:
        preview = changes.preview_change(
            db, subscription_id=sub_id, kind=kind, params={kind: value}, secret=SECRET, clock=clock
        )
        done = changes.commit_change(
            db, subscription_id=sub_id, token=preview.token, secret=SECRET, actor=ACTOR, clock=clock
        )
        assert [line["amount"] for line in done.change.lines] == [
            str(line.amount) for line in preview.change.lines
        ]  # a preview and its commit never differ
    elif kind == "pay":
        for invoice in _open_invoices(db, account_id)[:1]:
            due = invoice.total - invoice.amount_paid
            amount = {"part": (due / 2).quantize(Decimal("0.01")), "full": due,
                      "over": due + Decimal("123.45")}[value]  # fmt: skip
            if amount > 0:
                settlement.register_payment(
                    db,
                    invoice_id=invoice.id,
                    amount=amount,
                    method="bank_transfer",
                    actor=ACTOR,
                    clock=clock,
                )
    elif kind == "renew":
        billing.renew_subscription(
            db, account_id=account_id, months=value, actor=ACTOR, clock=clock
        )
    elif kind == "credit_note":
        with db.begin():
            paid = db.scalars(
                select(Invoice.id)
                .where(Invoice.account_id == account_id, Invoice.status == "paid")
                .order_by(Invoice.id.desc())
            ).first()
        if paid is not None:
            issue_credit_note(db, invoice_id=paid, reason="test", actor=ACTOR, clock=clock)
    elif kind == "refund":
        refund_credit(
            db,
            account_id=account_id,
            amount=Decimal(value),
            reason="test",
            actor=ACTOR,
            clock=clock,
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_no_money_is_created_or_lost(
    session_factory: sessionmaker[Session], steps: list[tuple[str, object]]
) -> None:
    clock = FixedClock(START)
    with session_factory() as db:
        load_catalog_document(
            db, path=PROJECT / "catalogs" / "site-platform.yaml", actor="test", clock=clock
        )
        account_id = open_account(db, clock).id
        first = order(db, clock, account_id, plan="business", months=12)
        settlement.register_payment(
            db,
            invoice_id=first.invoice.id,
            amount=first.invoice.total,
            method="card",
            actor=ACTOR,
            clock=clock,
        )
        for step in steps:
            # a refused step changes nothing; the books must still agree
            with contextlib.suppress(DomainError):
                _step(db, clock, account_id, first.subscription.id, step)
        report = verify(db)
        assert report.ok, report.unbalanced + report.mismatches
        with db.begin():

            def total(*where: object) -> Decimal:
                value = db.scalar(select(func.sum(where[0])).where(*where[1:]))  # type: ignore[arg-type]
                return value if isinstance(value, Decimal) else Decimal("0.00")

            cash_in = total(
                Payment.amount, Payment.account_id == account_id, Payment.method != "credit"
            )
            refunded = total(Refund.amount, Refund.account_id == account_id)
            kept = total(Invoice.amount_paid, Invoice.account_id == account_id)
            given = total(
                CreditEntry.amount,
                CreditEntry.account_id == account_id,
                CreditEntry.amount > Decimal("0.00"),
                CreditEntry.reason.not_like("overpayment%"),
            )
            credit = credit_balance(db, account_id)
        # Cash in, less refunds, is what the invoices kept plus the credit left, less the
        # credit that came from the invoices themselves (credit notes, cheaper changes,
        # voided part-paid invoices) rather than from cash: nothing created, nothing lost.
        assert cash_in - refunded == kept + credit - given
        assert credit >= 0
