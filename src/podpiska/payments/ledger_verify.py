"""`ledger verify`: the journal proved against the money — what the accounts owe and hold
by the journal equals what their invoices, payments, refunds and credited bank payments
say, per account and in total. Here, above invoicing, because it reads the payments area's
refunds and the bank's payments as well as the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.core.domain.money import ZERO
from podpiska.invoicing.ledger import CASH, CREDIT, RECEIVABLE
from podpiska.invoicing.models import CreditEntry, Invoice, JournalEntry, Payment
from podpiska.invoicing.rendering_run import RenderingCheck, verify_rendering
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.models import Refund


@dataclass
class LedgerReport:
    transactions: int = 0
    unbalanced: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    rendering: RenderingCheck | None = None  # revenue rendered + deferred (issue 16)

    @property
    def ok(self) -> bool:
        return not self.unbalanced and not self.mismatches


def verify(session: Session) -> LedgerReport:
    """Prove, over the whole database, that every transaction balances and that each
    account's receivable equals its open invoices, its customer credit its credit balance,
    and its cash its payments (and bank payments put on its credit) less refunds; and that
    revenue rendered (the closing documents) + deferred revenue add up
    (`invoicing.rendering_run.verify_rendering`)."""
    report = LedgerReport()
    with session.begin():
        report.transactions = (
            session.scalar(select(func.count(func.distinct(JournalEntry.transaction)))) or 0
        )
        for transaction, total in session.execute(
            select(JournalEntry.transaction, func.sum(JournalEntry.amount))
            .group_by(JournalEntry.transaction)
            .having(func.sum(JournalEntry.amount) != ZERO)
        ):
            report.unbalanced.append(f"transaction {transaction} sums to {total}")
        ledgers: dict[tuple[int, str], Decimal] = {
            (account, ledger): value or ZERO
            for account, ledger, value in session.execute(
                select(JournalEntry.customer_account_id, JournalEntry.ledger,
                       func.sum(JournalEntry.amount))
                .group_by(JournalEntry.customer_account_id, JournalEntry.ledger)
            )
        }  # fmt: skip
        open_due = {
            account: (total or ZERO) - (paid or ZERO)
            for account, total, paid in session.execute(
                select(Invoice.account_id, func.sum(Invoice.total), func.sum(Invoice.amount_paid))
                .where(Invoice.status == "issued")
                .group_by(Invoice.account_id)
            )
        }
        credit = _by_account(
            session.execute(
                select(CreditEntry.account_id, func.sum(CreditEntry.amount)).group_by(
                    CreditEntry.account_id
                )
            )
        )
        paid = _by_account(
            session.execute(
                select(Payment.account_id, func.sum(Payment.amount))
                .where(Payment.method != "credit")
                .group_by(Payment.account_id)
            )
        )
        refunded = _by_account(
            session.execute(
                select(Refund.account_id, func.sum(Refund.amount))
                .where(Refund.status != "failed")  # a failed refund went back to credit
                .group_by(Refund.account_id)
            )
        )
        prepaid = _by_account(  # bank payments put on an account's credit (no invoice)
            session.execute(
                select(BankPayment.account_id, func.sum(BankPayment.amount))
                .where(BankPayment.status == "credited", BankPayment.account_id.is_not(None))
                .group_by(BankPayment.account_id)
            )
        )
        report.rendering = verify_rendering(session)
        report.mismatches += report.rendering.problems
    accounts = {a for a, _ in ledgers} | set(open_due) | set(credit) | set(paid) | set(prepaid)
    for account in sorted(accounts):
        checks = (
            ("receivable", ledgers.get((account, RECEIVABLE), ZERO), open_due.get(account, ZERO)),
            ("customer credit", -ledgers.get((account, CREDIT), ZERO), credit.get(account, ZERO)),
            (
                "cash",
                ledgers.get((account, CASH), ZERO),
                paid.get(account, ZERO) + prepaid.get(account, ZERO) - refunded.get(account, ZERO),
            ),
        )
        for what, booked, actual in checks:
            if booked != actual:
                report.mismatches.append(
                    f"account {account}: {what} in the journal {booked}, in the documents {actual}"
                )
    return report


def _by_account(rows: Iterable[tuple[int, Decimal | None]]) -> dict[int, Decimal]:
    return {account: value or ZERO for account, value in rows}
