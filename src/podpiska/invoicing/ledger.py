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
| services rendered (a closing document, the month-end run) | deferred_revenue | revenue |
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.money import ZERO
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import CreditEntry, JournalEntry

RECEIVABLE = "receivable"
DEFERRED = "deferred_revenue"
CASH = "cash"
REVENUE = "revenue"  # earned: the services the closing documents certify
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

    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return credit_balance(session, account_id)


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
    received_on: date | None = None,
    receipt_number: str | None = None,
) -> None:
    """Money owed to the customer. In the caller's transaction. `document`: what the
    posting refers to when neither a change nor an invoice (a bank payment put on the
    account's credit: `bank_payment:ID`, from `cash`). `received_on` and `receipt_number`:
    money received for no invoice (a prepayment), the day it arrived and its payment
    document; the month-end run issues its advance счёт-фактура."""
    session.add(
        CreditEntry(
            account_id=account_id,
            amount=amount,
            reason=reason,
            change_id=change_id,
            invoice_id=invoice_id,
            created_at=at,
            actor=actor,
            received_on=received_on,
            receipt_number=receipt_number,
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
