"""Money that stays put: the double-entry journal, the customer's credit, credit notes,
refunds, and the check that they all agree.

Ledgers (debit +, credit −): `receivable` (what customers owe), `deferred_revenue` (revenue
to recognise: invoiced, not yet earned), `cash` (money received), `customer_credit` (money
owed to customers). Postings, each a transaction summing to zero:

| what | debit | credit |
|---|---|---|
| invoice issued | receivable | deferred_revenue |
| invoice voided (unpaid) | deferred_revenue | receivable |
| payment received | cash | receivable |
| credit given (a change worth less) | deferred_revenue | customer_credit |
| overpayment, bank payment put on credit (prepayment) | cash | customer_credit |
| credit used on an invoice | customer_credit | receivable |
| refund of credit | customer_credit | cash |
| credit note on a paid invoice | deferred_revenue | customer_credit |
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.records import audit, emit, get_or_404
from podpiska.invoicing.models import CreditEntry, Invoice, JournalEntry
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.models import Payment, Refund
from podpiska.ports import Clock

RECEIVABLE = "receivable"
DEFERRED = "deferred_revenue"
CASH = "cash"
CREDIT = "customer_credit"
CREDIT_NOTE_SERIES = "credit_note"
TEST_CREDIT_NOTE_SERIES = "test_credit_note"  # accounts on a test clock: never the real series


def post(
    session: Session,
    *,
    account_id: int,
    debit: str,
    credit: str,
    amount: Decimal,
    kind: str,
    document: str,
    at: datetime,
) -> None:
    """One balanced transaction of two rows, in the caller's transaction."""
    if amount == ZERO:
        return
    session.add_all(
        JournalEntry(**row)
        for row in journal_rows(account_id, debit, credit, amount, kind, document, at)
    )


def journal_rows(
    account_id: int,
    debit: str,
    credit: str,
    amount: Decimal,
    kind: str,
    document: str,
    at: datetime,
) -> list[dict[str, object]]:
    """The same posting as rows, for bulk writers (the daily run)."""
    transaction = uuid.uuid4().hex
    common = {"transaction": transaction, "customer_account_id": account_id, "kind": kind,
              "document": document, "created_at": at}  # fmt: skip
    return [
        {**common, "ledger": debit, "amount": amount},
        {**common, "ledger": credit, "amount": -amount},
    ]


def credit_balance(session: Session, account_id: int) -> Decimal:
    """What the account has to its credit (in the caller's transaction)."""
    value = session.scalar(
        select(func.sum(CreditEntry.amount)).where(CreditEntry.account_id == account_id)
    )
    return value if isinstance(value, Decimal) else ZERO


def account_credit(session: Session, account_id: int) -> Decimal:
    """Use-case: the account's credit balance."""
    from podpiska.accounts.models import Account

    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return credit_balance(session, account_id)


def apply_credit(session: Session, invoice: Invoice, *, actor: str, at: datetime) -> Decimal:
    """Use the account's credit on a just-issued invoice, up to what is due; returns the
    amount used (recorded as a payment of method `credit`). In the caller's transaction."""
    available = credit_balance(session, invoice.account_id)
    due = invoice.total - invoice.amount_paid
    used = min(available, due)
    if used <= ZERO:
        return ZERO
    session.add(
        CreditEntry(
            account_id=invoice.account_id,
            amount=-used,
            reason=f"used on invoice {invoice.number}",
            invoice_id=invoice.id,
            created_at=at,
            actor=actor,
        )
    )
    payment = Payment(
        invoice_id=invoice.id,
        account_id=invoice.account_id,
        method="credit",
        amount=used,
        status="succeeded",
        external_id=None,
        received_on=invoice.issued_on or at.date(),
        created_at=at,
    )
    session.add(payment)
    invoice.amount_paid = invoice.amount_paid + used
    post(
        session,
        account_id=invoice.account_id,
        debit=CREDIT,
        credit=RECEIVABLE,
        amount=used,
        kind="credit_use",
        document=f"invoice:{invoice.id}",
        at=at,
    )
    audit(
        session,
        actor=actor,
        action="credit.used",
        object_type="invoice",
        object_id=invoice.id,
        account_id=invoice.account_id,
        at=at,
        after={"amount": str(used), "invoice": invoice.number},
    )
    return used


def grant_credit(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    actor: str,
    at: datetime,
    change_id: int | None = None,
    invoice_id: int | None = None,
    from_ledger: str = DEFERRED,
    document: str | None = None,
) -> None:
    """Money owed to the customer. In the caller's transaction. `document`: what the
    posting refers to when neither a change nor an invoice (a bank payment put on the
    account's credit: `bank_payment:ID`, from `cash`)."""
    session.add(
        CreditEntry(
            account_id=account_id,
            amount=amount,
            reason=reason,
            change_id=change_id,
            invoice_id=invoice_id,
            created_at=at,
            actor=actor,
        )
    )
    post(
        session,
        account_id=account_id,
        debit=from_ledger,
        credit=CREDIT,
        amount=amount,
        kind="credit_grant",
        document=document or (f"change:{change_id}" if change_id else f"invoice:{invoice_id}"),
        at=at,
    )


def refund_credit(
    session: Session, *, account_id: int, amount: Decimal, reason: str, actor: str, clock: Clock
) -> Refund:
    """A refund of the account's credit, on request: recorded now, sent by the gateway."""
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= ZERO:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        get_or_404(session, Account, account_id, "account", lock=True)
        available = credit_balance(session, account_id)
        if amount > available:
            raise DomainError("refund_exceeds_credit", amount=str(amount), available=str(available))
        return request_refund(
            session,
            account_id=account_id,
            amount=amount,
            reason=reason,
            actor=actor,
            at=clock.now(),
        )


def request_refund(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    actor: str,
    at: datetime,
    payment_id: int | None = None,
    gateway: str | None = None,
) -> Refund:
    """A refund out of the account's credit, in the caller's transaction: the credit goes
    down now, the worker sends the money (to `payment_id` when given, else to the newest
    gateway payment with enough left)."""
    refund = Refund(
        account_id=account_id,
        amount=amount,
        status="requested",
        reason=reason[:500],
        payment_id=payment_id,
        gateway=gateway,
        created_at=at,
        actor=actor,
    )
    session.add(refund)
    session.flush()
    session.add(
        CreditEntry(
            account_id=account_id,
            amount=-amount,
            reason=f"refund {refund.id}",
            created_at=at,
            actor=actor,
        )
    )
    post(
        session,
        account_id=account_id,
        debit=CREDIT,
        credit=CASH,
        amount=amount,
        kind="refund",
        document=f"refund:{refund.id}",
        at=at,
    )
    audit(
        session,
        actor=actor,
        action="refund.requested",
        object_type="refund",
        object_id=refund.id,
        account_id=account_id,
        at=at,
        after={
            "amount": str(amount),
            "reason": reason,
            **({"payment_id": payment_id} if payment_id is not None else {}),
        },
    )
    emit(
        session,
        "refund.requested",
        account_id=account_id,
        subscription_id=None,
        occurred_on=at.date(),
        at=at,
        refund_id=refund.id,
        amount=amount,
    )
    return refund


@dataclass
class LedgerReport:
    transactions: int = 0
    unbalanced: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unbalanced and not self.mismatches


def verify(session: Session) -> LedgerReport:
    """Prove, over the whole database, that every transaction balances and that each
    account's receivable equals its open invoices, its customer credit its credit balance,
    and its cash its payments (and bank payments put on its credit) less refunds."""
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
