"""Refunds through the gateway: every requested refund sent back the way the money came, to
the newest gateway payment of the account with enough left on it (money that came only by
bank transfer is left to finance: `manual`), with its 54-FZ receipt and `refund-<id>` as
its idempotency key; pending refunds asked about again; the gateway's answer recorded
(idempotent); a refund the gateway refuses puts the money back on the account's credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.types import Kopecks
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.records import audit, emit, get_or_404, not_found
from podpiska.invoicing.ledger import CASH, CREDIT, credit_balance, post
from podpiska.invoicing.models import CreditEntry, Invoice, Payment
from podpiska.payments.models import PaymentAttempt, Refund
from podpiska.payments.receipts import build_receipt
from podpiska.ports import Clock, GatewayError, GatewayRefund, PaymentGateway, RefundRequest


def send_refunds(
    session: Session, gateway: PaymentGateway, *, clock: Clock, limit: int = 500
) -> int:
    """Send every requested refund back the way the money came: to the newest gateway
    payment of the account with enough left on it. Money that came only by bank transfer
    is refunded by finance (`manual`). Pending refunds are asked about again."""
    with session.begin():
        ids = list(
            session.scalars(
                select(Refund.id)
                .where(or_(Refund.status == "requested", Refund.status == "pending"))
                .order_by(Refund.id)
                .limit(limit)
            )
        )
    done = 0
    for refund_id in ids:
        try:
            prepared = _prepare_refund(session, gateway, refund_id, clock=clock)
        except DomainError as error:
            # Its receipt cannot be made (a VAT rate with no 54-FZ code): nothing was sent;
            # the refund fails with the code as its reason and the money goes back to the
            # account's credit, where finance sees it. The other refunds go on.
            _refund_failed(session, refund_id, error.code, clock=clock)
            continue
        if prepared is None:
            continue
        request, external_id = prepared
        try:
            if external_id is not None:
                result = gateway.get_refund(external_id)
            else:
                result = gateway.create_refund(request)
        except GatewayError as error:
            if error.final:
                _refund_failed(session, refund_id, str(error.code or error), clock=clock)
            continue
        record_gateway_refund(session, result, gateway=gateway, clock=clock, refund_id=refund_id)
        done += 1
    return done


def _prepare_refund(
    session: Session, gateway: PaymentGateway, refund_id: int, *, clock: Clock
) -> tuple[RefundRequest, str | None] | None:
    with session.begin():
        refund = session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
        if refund is None or refund.status not in ("requested", "pending"):
            return None
        if refund.gateway is not None and refund.gateway != gateway.name:
            return None  # it goes back through the gateway the money came by
        now = clock.now()
        if refund.payment_id is None:
            source = _refund_source(session, refund, gateway.name)
            if source is None:
                refund.status = "manual"
                refund.updated_at = now
                audit(
                    session,
                    actor="refunds",
                    action="refund.manual",
                    object_type="refund",
                    object_id=refund.id,
                    account_id=refund.account_id,
                    at=now,
                    after={"reason": "no gateway payment to refund to: send by bank transfer"},
                )
                return None
            refund.payment_id = source.id
        if refund.status == "requested":
            refund.gateway = gateway.name
            refund.status = "pending"
            refund.updated_at = now
        payment = get_or_404(session, Payment, refund.payment_id, "payment")
        invoice = get_or_404(session, Invoice, payment.invoice_id, "invoice")
        account = get_or_404(session, Account, refund.account_id, "account")
        receipt = build_receipt(
            session, invoice, refund.amount, account, prepayment_on=payment.received_on
        )
        request = RefundRequest(
            idempotency_key=f"refund-{refund.id}",
            payment_id=payment.external_id or "",
            amount=refund.amount,
            currency=invoice.currency,
            description=f"Возврат по счёту № {invoice.number}"[:128],
            receipt=receipt,
        )
        return request, refund.external_id


def _left_on_payments(account_id: int, gateway: str | None = None) -> Select[Any]:
    """The account's payments taken through a gateway (a card or an e-wallet; `gateway`:
    that one only), each with its gateway and what is left on it to refund: its amount less
    the refunds sent or to be sent to it (requested with it, pending, succeeded)."""
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount).label("amount"))
        .where(
            Refund.status.in_(("requested", "pending", "succeeded")),
            Refund.payment_id.is_not(None),
        )
        .group_by(Refund.payment_id)
        .subquery()
    )
    attempts = select(PaymentAttempt.payment_id, PaymentAttempt.gateway).where(
        PaymentAttempt.status == "succeeded", PaymentAttempt.payment_id.is_not(None)
    )
    if gateway is not None:
        attempts = attempts.where(PaymentAttempt.gateway == gateway)
    through = attempts.subquery()
    # kopecks less kopecks, read back as money (a bare difference is read as an int)
    left = type_coerce(Payment.amount - func.coalesce(refunded.c.amount, ZERO), Kopecks).label(
        "left"
    )
    return (
        select(Payment, through.c.gateway, left)
        .join(through, through.c.payment_id == Payment.id)
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(Payment.account_id == account_id)
    )


def _refund_source(session: Session, refund: Refund, gateway_name: str) -> Payment | None:
    """The newest gateway payment of the account with enough left on it for the refund."""
    query = _left_on_payments(refund.account_id, gateway_name)
    row = session.execute(
        query.where(query.selected_columns.left >= refund.amount)
        .order_by(Payment.id.desc())
        .limit(1)
    ).first()
    return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class RefundablePayment:
    payment: Payment
    gateway: str
    left: Decimal  # what is left on it to refund


def refundable_payments(session: Session, account_id: int) -> list[RefundablePayment]:
    """The account's gateway payments with something left to refund, newest first (in the
    caller's transaction): what a refund may be sent to."""
    query = _left_on_payments(account_id)
    rows = session.execute(
        query.where(query.selected_columns.left > ZERO).order_by(Payment.id.desc()).limit(100)
    )
    return [RefundablePayment(p, g, left) for p, g, left in rows]


def chosen_payment(
    session: Session, *, account_id: int, payment_id: int, amount: Decimal
) -> RefundablePayment:
    """The payment a refund is sent to when the operator chooses it (in the caller's
    transaction): the account's (else 404), taken through a gateway (a bank transfer is
    refunded by finance: `refund_payment_not_gateway`), with `amount` left on it
    (`refund_exceeds_payment`)."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.account_id != account_id:
        raise not_found("payment", payment_id)
    query = _left_on_payments(account_id)
    row = session.execute(query.where(Payment.id == payment_id)).first()
    if row is None:
        raise DomainError("refund_payment_not_gateway", id=payment_id, method=payment.method)
    found = RefundablePayment(row[0], row[1], row[2])
    if amount > found.left:
        raise DomainError(
            "refund_exceeds_payment", id=payment_id, amount=str(amount), left=str(found.left)
        )
    return found


def record_gateway_refund(
    session: Session,
    result: GatewayRefund,
    *,
    gateway: PaymentGateway,
    clock: Clock,
    refund_id: int | None = None,
) -> str:
    with session.begin():
        query = select(Refund).with_for_update()
        if refund_id is not None:
            refund = session.scalar(query.where(Refund.id == refund_id))
        else:
            refund = session.scalar(
                query.where(Refund.gateway == gateway.name, Refund.external_id == result.id)
            )
        if refund is None:
            return "ignored: not a refund of ours"
        refund.external_id = result.id
        if refund.status != "pending":
            return f"refund {refund.id}: {refund.status}"
        now = clock.now()
        refund.updated_at = now
        if result.status == "succeeded":
            refund.status = "succeeded"
            audit(
                session,
                actor=f"gateway:{gateway.name}",
                action="refund.succeeded",
                object_type="refund",
                object_id=refund.id,
                account_id=refund.account_id,
                at=now,
                after={"external_id": result.id, "amount": str(refund.amount)},
            )
            emit(
                session,
                "refund.succeeded",
                account_id=refund.account_id,
                subscription_id=None,
                occurred_on=now.date(),
                at=now,
                refund_id=refund.id,
                amount=refund.amount,
            )
        elif result.status == "canceled":
            _fail_refund(session, refund, result.failure_reason or "canceled", now)
    return f"refund {refund.id}: {refund.status}"


def _refund_failed(session: Session, refund_id: int, reason: str, *, clock: Clock) -> None:
    with session.begin():
        refund = session.get(Refund, refund_id, with_for_update=True, populate_existing=True)
        if refund is not None and refund.status in ("requested", "pending"):
            _fail_refund(session, refund, reason, clock.now())


def _fail_refund(session: Session, refund: Refund, reason: str, now: datetime) -> None:
    """The gateway refused the refund: the money goes back to the account's credit."""
    refund.status = "failed"
    refund.failure_reason = reason[:200]
    refund.updated_at = now
    session.add(
        CreditEntry(
            account_id=refund.account_id,
            amount=refund.amount,
            reason=f"refund {refund.id} failed",
            created_at=now,
            actor="refunds",
        )
    )
    post(
        session,
        account_id=refund.account_id,
        debit=CASH,
        credit=CREDIT,
        amount=refund.amount,
        kind="refund_failed",
        document=f"refund:{refund.id}",
        at=now,
    )
    audit(
        session,
        actor="refunds",
        action="refund.failed",
        object_type="refund",
        object_id=refund.id,
        account_id=refund.account_id,
        at=now,
        after={"reason": reason},
    )
    emit(
        session,
        "refund.failed",
        account_id=refund.account_id,
        subscription_id=None,
        occurred_on=now.date(),
        at=now,
        refund_id=refund.id,
        amount=refund.amount,
        reason=reason,
    )


def refund_credit(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    actor: str,
    clock: Clock,
    payment_id: int | None = None,
) -> Refund:
    """A refund of the account's credit, on request: recorded now, sent by the gateway to
    the payment `payment_id` (the operator's choice: `chosen_payment`), else to the newest
    gateway payment with enough left on it when the worker sends it."""
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= ZERO:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        get_or_404(session, Account, account_id, "account", lock=True)
        available = credit_balance(session, account_id)
        if amount > available:
            raise DomainError("refund_exceeds_credit", amount=str(amount), available=str(available))
        chosen = (
            None
            if payment_id is None
            else chosen_payment(
                session, account_id=account_id, payment_id=payment_id, amount=amount
            )
        )
        return request_refund(
            session,
            account_id=account_id,
            amount=amount,
            reason=reason,
            actor=actor,
            at=clock.now(),
            payment_id=None if chosen is None else chosen.payment.id,
            gateway=None if chosen is None else chosen.gateway,
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
