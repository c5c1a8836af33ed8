"""Use-case: a bank payment an operator records by hand (money received by transfer that no
imported statement brought): against one of the account's open invoices, through the one
payment writer (`settlement.record_payment`, as the review queue's `resolve`), or to the
account's credit (`ledger.grant_credit` from cash, as `credit_to_account`). It is kept as a
bank payment of source `manual` (resolved or credited), so the statement that brings the
same money later can be told apart by the operator, and the same entry twice is refused.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import is_money
from podpiska.core.records import audit, get_or_404, not_found
from podpiska.invoicing.ledger import CASH, grant_credit
from podpiska.payments.bank.models import BankPayment
from podpiska.ports import Clock
from podpiska.subscriptions.settlement import lock_invoice, record_payment

SOURCE = "manual"


def fingerprint(account_id: int, day: date, amount: Decimal, reference: str) -> str:
    """The same payment entered twice has the same fingerprint."""
    said = f"{SOURCE}|{account_id}|{day.isoformat()}|{amount}|{reference.strip().lower()}"
    return hashlib.sha1(said.encode(), usedforsecurity=False).hexdigest()


def record_bank_payment(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    day: date,
    reference: str,
    invoice_id: int | None,
    actor: str,
    clock: Clock,
) -> BankPayment:
    """Money received by transfer on `day` (the payer's reference: the payment order's
    number), registered on `invoice_id` (one of the account's, issued) or, with None, put on
    the account's credit. One transaction; an audit row `bank_payment.recorded`."""
    reference = reference.strip()[:50]
    if not reference:
        raise DomainError("bank_payment_reference_required")
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= 0:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        mark = fingerprint(account_id, day, amount, reference)
        earlier = session.scalars(
            select(BankPayment).where(BankPayment.fingerprint == mark)
        ).first()
        if earlier is not None:
            raise DomainError(
                "bank_payment_recorded_before",
                reference=reference,
                day=day.isoformat(),
                amount=str(amount),
                id=earlier.id,
            )
        now = clock.now()
        if invoice_id is not None:
            invoice, subscription = lock_invoice(session, invoice_id)
            if invoice.account_id != account_id:
                raise not_found("invoice", invoice_id)
            account = get_or_404(session, Account, account_id, "account")
        else:
            account = get_or_404(session, Account, account_id, "account", lock=True)
        row = BankPayment(
            fingerprint=mark,
            source=SOURCE,
            doc_number=reference,
            day=day,
            amount=amount,
            payer=account.name[:500],
            payer_inn=(account.inn or "")[:12],
            purpose=f"recorded by hand by {actor}"[:2000],
            status="resolved" if invoice_id is not None else "credited",
            imported_at=now,
            resolved_by=actor,
            resolved_at=now,
            account_id=account.id,
        )
        session.add(row)
        session.flush()
        if invoice_id is not None:
            payment = record_payment(
                session,
                invoice=invoice,
                subscription=subscription,
                account=account,
                amount=amount,
                method="bank_transfer",
                external_id=mark,
                actor=actor,
                now=now,
                today=today_for(session, account, clock),
            )
            row.invoice_id, row.payment_id = invoice.id, payment.id
            said = {"invoice": invoice.number}
        else:
            grant_credit(
                session,
                account_id=account.id,
                amount=amount,
                reason=f"prepayment: bank payment № {reference} of {day.isoformat()}",
                actor=actor,
                at=now,
                from_ledger=CASH,
                document=f"bank_payment:{row.id}",
                received_on=day,
                receipt_number=reference,
            )
            said = {"credit": str(amount)}
        audit(
            session,
            actor=actor,
            action="bank_payment.recorded",
            object_type="bank_payment",
            object_id=row.id,
            account_id=account.id,
            at=now,
            after={"amount": str(amount), "day": day.isoformat(), "reference": reference, **said},
        )
    return row
