"""What a refund of the account's credit would do, read before it is requested (the back
office's preview): the credit there is, what is left after, and where the money goes, as
`payments.refunds` will send it: to the payment the operator chose, else to the newest card
payment with enough left on it through the gateway, or (money that came only by bank
transfer) by a bank transfer from finance.
Nothing is written; the refund itself is `payments.refunds.refund_credit`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.records import get_or_404
from podpiska.invoicing.ledger import credit_balance
from podpiska.invoicing.models import Payment
from podpiska.payments.refunds import RefundablePayment, chosen_payment, refundable_payments


@dataclass(frozen=True)
class RefundPreview:
    amount: Decimal
    available: Decimal  # the account's credit now
    left: Decimal  # its credit after the refund
    card_payment: Payment | None  # the payment it goes back to; None: by bank transfer


def account_credit_now(session: Session, *, account_id: int) -> Decimal:
    """Use-case (read): the account's credit, what a refund can take."""
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return credit_balance(session, account_id)


def preview_refund(
    session: Session, *, account_id: int, amount: Decimal, payment_id: int | None = None
) -> RefundPreview:
    """Use-case (read): the refund `refund_credit` would record, refused the same way
    (`invalid_amount`, `refund_exceeds_credit`; for a chosen payment, as `chosen_payment`),
    and where it goes: the chosen payment, else the newest gateway payment with enough
    left on it, else a bank transfer by finance."""
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= ZERO:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        available = credit_balance(session, account_id)
        if amount > available:
            raise DomainError("refund_exceeds_credit", amount=str(amount), available=str(available))
        if payment_id is not None:
            payment: Payment | None = chosen_payment(
                session, account_id=account_id, payment_id=payment_id, amount=amount
            ).payment
        else:
            payment = next(
                (r.payment for r in refundable_payments(session, account_id) if r.left >= amount),
                None,
            )
        session.expunge_all()
    return RefundPreview(
        amount=amount, available=available, left=available - amount, card_payment=payment
    )


def payments_to_refund(session: Session, *, account_id: int) -> list[RefundablePayment]:
    """Use-case (read): the account's gateway payments with something left to refund,
    newest first: the choices of the refund form."""
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        found = refundable_payments(session, account_id)
        session.expunge_all()
    return found
