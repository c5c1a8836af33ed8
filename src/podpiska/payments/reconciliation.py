"""What the gateway says about a payment, recorded: a webhook (checked by the adapter, never
trusted as it is: the payment is fetched from the gateway's API, and only that is recorded),
the customer's return, or the reconciliation run, which asks about every attempt still open
and due (one whose result was never stored is sent again under its key) and sends the
refunds. Recording is idempotent (an attempt completes once; a payment is unique per method
and external id), so the same news delivered a hundred times applies once. A payment
confirmed pays its invoice; money the invoice can no longer take (paid meanwhile, closed)
is booked to the account's credit and refunded; a held payment is captured first; a
failed one gets its audit row and its event, with the next dunning day for autopay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, emit, get_or_404
from podpiska.invoicing.ledger import CASH
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.common import OPEN, RECHECK, lock_invoice_account, next_charge_day
from podpiska.payments.methods import save_payment_method
from podpiska.payments.models import PaymentAttempt
from podpiska.payments.receipts import rebuild_request
from podpiska.payments.refunds import record_gateway_refund, request_refund, send_refunds
from podpiska.ports import Clock, GatewayError, GatewayPayment, NotificationRejected, PaymentGateway
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.settlement import PaymentRows, not_payable, record_payment

# How each gateway method type is recorded as a payment.
PAYMENT_METHOD_OF = {"bank_card": "card", "yoo_money": "e_wallet", "sbp": "sbp"}
# A customer who never confirmed: the attempt is given up after this (the gateway cancels
# unconfirmed payments itself well before).
CHECKOUT_EXPIRES = timedelta(days=2)


# -- recording what the gateway says ------------------------------------------------------


def record_gateway_payment(
    session: Session,
    gateway: PaymentGateway,
    payment: GatewayPayment,
    *,
    attempt_id: int | None = None,
    clock: Clock,
) -> PaymentAttempt:
    """Store what the gateway says about a payment (fetched from its API, never taken from
    a webhook's body). Idempotent: a completed attempt does not change again. A payment
    that succeeded but is held (`waiting_for_capture`) is captured, then recorded."""
    attempt = _record(session, gateway, payment, attempt_id=attempt_id, clock=clock)
    if payment.status == "waiting_for_capture" and attempt.status in OPEN:
        try:
            captured = gateway.capture_payment(
                payment.id,
                amount=attempt.amount,
                currency=attempt.currency,
                idempotency_key=f"capture-{attempt.id}",
            )
        except GatewayError as error:
            return gateway_failed(session, attempt.id, error, clock=clock)
        attempt = _record(session, gateway, captured, attempt_id=attempt.id, clock=clock)
    return attempt


def _find_attempt(
    session: Session, gateway: PaymentGateway, payment: GatewayPayment, attempt_id: int | None
) -> int:
    if attempt_id is None:
        attempt_id = session.scalar(
            select(PaymentAttempt.id).where(
                PaymentAttempt.gateway == gateway.name, PaymentAttempt.external_id == payment.id
            )
        )
    if attempt_id is None:
        raw = payment.metadata.get("attempt_id", "")
        attempt_id = int(raw) if raw.isdigit() else None
    if attempt_id is None:
        raise DomainError("payment_attempt_not_found", attempt_id=payment.id)
    return attempt_id


def _record(
    session: Session,
    gateway: PaymentGateway,
    payment: GatewayPayment,
    *,
    attempt_id: int | None,
    clock: Clock,
) -> PaymentAttempt:
    with session.begin():
        attempt_id = _find_attempt(session, gateway, payment, attempt_id)
        # Locks: the subscription, then the invoice, then the attempt.
        invoice, subscription, account = lock_invoice_account(
            session, get_or_404(session, PaymentAttempt, attempt_id, "payment attempt").invoice_id
        )
        attempt = get_or_404(session, PaymentAttempt, attempt_id, "payment attempt", lock=True)
        if attempt.gateway != gateway.name or (
            attempt.external_id is not None and attempt.external_id != payment.id
        ):
            raise DomainError("payment_attempt_not_found", attempt_id=payment.id)
        now = clock.now()
        attempt.external_id = payment.id
        late = (
            attempt.status == "failed"
            and attempt.payment_id is None
            and payment.status == "succeeded"
            and payment.currency == attempt.currency
        )
        if attempt.status not in OPEN and not late:
            return attempt  # completed before: the same news again changes nothing
        if late:
            # Given up here (expired, superseded), yet the gateway took the money: it is
            # booked all the same (the invoice if it still takes it, else refunded).
            audit(
                session,
                actor=f"gateway:{gateway.name}",
                action="payment_attempt.succeeded_late",
                object_type="payment_attempt",
                object_id=attempt.id,
                account_id=attempt.account_id,
                at=now,
                before={"status": attempt.status, "reason": attempt.failure_reason},
                after={"status": "succeeded", "amount": str(payment.amount)},
            )
            attempt.failure_reason = None
        attempt.updated_at = now
        if payment.status in ("pending", "waiting_for_capture"):
            attempt.status = "pending"
            attempt.confirmation_url = payment.confirmation_url
            age = now - attempt.created_at
            if attempt.kind == "checkout" and age > CHECKOUT_EXPIRES:
                attempt.status = "failed"
                attempt.failure_reason = "expired_on_confirmation"
                attempt.next_check_at = None
                _failed_event(session, attempt, now)
            else:
                attempt.next_check_at = now + _recheck_after(age)
            return attempt
        attempt.next_check_at = None
        if payment.status == "canceled":
            attempt.status = "failed"
            attempt.failure_reason = payment.failure_reason or "canceled"
            _failed_event(session, attempt, now)
            return attempt
        if payment.status != "succeeded" or payment.currency != attempt.currency:
            # Not what was asked for: keep it for a person, never book a wrong currency.
            attempt.status = "failed"
            attempt.failure_reason = f"unexpected {payment.status} {payment.currency}"[:200]
            _failed_event(session, attempt, now)
            return attempt
        # The amount received is booked as it is: less pays part of the invoice, more goes
        # to the account's credit (the gateway's word, fetched from its API, is what counts).
        today = today_for(session, account, clock)
        attempt.status = "succeeded"
        attempt.confirmation_url = None
        attempt.payment_id = _book(
            session, attempt, invoice, subscription, account, payment, today=today, now=now
        )
        if attempt.save_method and payment.method is not None and payment.method.saved:
            save_payment_method(session, attempt, subscription, payment, now=now, today=today)
    return attempt


def _recheck_after(age: timedelta) -> timedelta:
    for step in RECHECK:
        if age < step * 2:
            return step
    return RECHECK[-1]


def _book(
    session: Session,
    attempt: PaymentAttempt,
    invoice: Invoice,
    subscription: Subscription,
    account: Account,
    payment: GatewayPayment,
    *,
    today: date,
    now: datetime,
) -> int:
    """The money arrived: it pays the invoice (activating or renewing), or, when the invoice
    can no longer take it (paid meanwhile by another way, cancelled), goes to the account's
    credit, from where it can be used or refunded."""
    method = PAYMENT_METHOD_OF.get(attempt.method_type or "", "card")
    earlier = session.scalar(
        select(Payment).where(Payment.method == method, Payment.external_id == payment.id)
    )
    if earlier is not None:
        return earlier.id
    actor = f"gateway:{attempt.gateway}"
    if not_payable(invoice, subscription) is None:
        return record_payment(
            session,
            invoice=invoice,
            subscription=subscription,
            account=account,
            amount=payment.amount,
            method=method,
            external_id=payment.id,
            actor=actor,
            now=now,
            today=today,
        ).id
    # Nobody asked to pay twice: the money goes back the way it came, to this very payment
    # (through the account's credit, so a refund the gateway refuses stays there).
    rows = PaymentRows(session)
    booked = rows.payment(
        {
            "id": None,
            "invoice_id": invoice.id,
            "account_id": account.id,
            "method": method,
            "amount": payment.amount,
            "status": "succeeded",
            "external_id": payment.id,
            "received_on": today,
            "created_at": now,
        }
    )
    rows.grant_credit(
        account_id=account.id,
        amount=payment.amount,
        reason=f"payment for invoice {invoice.number}, which could no longer take it",
        actor=actor,
        at=now,
        invoice_id=invoice.id,
        from_ledger=CASH,
    )
    rows.write(session)
    refund = request_refund(
        session,
        account_id=account.id,
        amount=payment.amount,
        reason=f"Возврат: счёт № {invoice.number} уже оплачен или закрыт",
        actor=actor,
        at=now,
        payment_id=booked,
        gateway=attempt.gateway,
    )
    audit(
        session,
        actor=actor,
        action="payment.surplus_refunded",
        object_type="payment",
        object_id=booked,
        account_id=account.id,
        at=now,
        after={
            "invoice": invoice.number,
            "invoice_status": invoice.status,
            "amount": str(payment.amount),
            "method": method,
            "refund_id": refund.id,
        },
    )
    return booked


def _failed_event(session: Session, attempt: PaymentAttempt, now: datetime) -> None:
    invoice = session.get(Invoice, attempt.invoice_id)
    subscription = (
        session.get(Subscription, invoice.subscription_id) if invoice is not None else None
    )
    next_try = None
    if attempt.kind == "autopay" and invoice is not None and subscription is not None:
        next_try = next_charge_day(session, subscription, attempt.charge_day)
    audit(
        session,
        actor=attempt.actor,
        action="payment_attempt.failed",
        object_type="payment_attempt",
        object_id=attempt.id,
        account_id=attempt.account_id,
        at=now,
        after={"reason": attempt.failure_reason, "kind": attempt.kind},
    )
    emit(
        session,
        "payment.failed",
        account_id=attempt.account_id,
        subscription_id=subscription.id if subscription is not None else None,
        occurred_on=attempt.charge_day or now.date(),
        at=now,
        attempt_id=attempt.id,
        kind=attempt.kind,
        reason=attempt.failure_reason,
        amount=attempt.amount,
        number=invoice.number if invoice is not None else None,
        next_attempt_on=next_try,
    )


def gateway_failed(
    session: Session, attempt_id: int, error: GatewayError, *, clock: Clock
) -> PaymentAttempt:
    with session.begin():
        attempt = get_or_404(session, PaymentAttempt, attempt_id, "payment attempt", lock=True)
        now = clock.now()
        attempt.updated_at = now
        if error.final and attempt.status in OPEN:
            attempt.status = "failed"
            attempt.failure_reason = error.code or "refused"
            attempt.next_check_at = None
            _failed_event(session, attempt, now)
        elif attempt.status in OPEN:
            # Unknown outcome: reconciliation sends the same request with the same key.
            attempt.next_check_at = now + RECHECK[0]
    return attempt


# -- webhooks -----------------------------------------------------------------------------


def handle_notification(
    session: Session,
    gateway: PaymentGateway,
    *,
    body: bytes,
    remote_addr: str | None,
    headers: Mapping[str, str],
    clock: Clock,
) -> str:
    """A webhook from the gateway: checked by the adapter (networks, signature), then the
    object is fetched from the gateway and recorded. Returns what was done."""
    try:
        notice = gateway.parse_notification(body, remote_addr=remote_addr, headers=headers)
    except NotificationRejected as error:
        raise DomainError("notification_rejected", reason=str(error)) from None
    try:
        if notice.event.startswith("refund."):
            refund = gateway.get_refund(notice.object_id)
            return record_gateway_refund(session, refund, gateway=gateway, clock=clock)
        payment = gateway.get_payment(notice.object_id)
    except GatewayError as error:
        if error.final:
            raise DomainError("notification_rejected", reason=str(error)) from None
        raise DomainError("gateway_unavailable", gateway=gateway.name, reason=str(error)) from None
    try:
        attempt = record_gateway_payment(session, gateway, payment, clock=clock)
    except DomainError as error:
        if error.code == "payment_attempt_not_found":
            return "ignored: not a payment of ours"
        raise
    return f"attempt {attempt.id}: {attempt.status}"


# -- reconciliation -----------------------------------------------------------------------


@dataclass
class ReconcileReport:
    checked: int = 0
    succeeded: int = 0
    failed: int = 0
    still_open: int = 0
    errors: list[str] = field(default_factory=list)
    refunds: int = 0


def reconcile(
    session: Session, gateway: PaymentGateway, *, clock: Clock, limit: int = 500
) -> ReconcileReport:
    """Ask the gateway about every attempt (and refund) still open and due for a check:
    an attempt whose result was never stored (a crash, a timeout) is sent again with its
    key; one that waits is fetched. Safe to run at any time, by any number of workers."""
    report = ReconcileReport()
    now = clock.now()
    with session.begin():
        due = list(
            session.execute(
                select(PaymentAttempt.id, PaymentAttempt.external_id)
                .where(
                    PaymentAttempt.status.in_(OPEN),
                    PaymentAttempt.gateway == gateway.name,
                    PaymentAttempt.next_check_at <= now,
                )
                .order_by(PaymentAttempt.next_check_at, PaymentAttempt.id)
                .limit(limit)
            )
        )
    for attempt_id, external_id in due:
        report.checked += 1
        try:
            if external_id is None:
                request = rebuild_request(session, attempt_id)
                result = gateway.create_payment(request)
            else:
                result = gateway.get_payment(external_id)
        except GatewayError as error:
            attempt = gateway_failed(session, attempt_id, error, clock=clock)
            report.errors.append(f"attempt {attempt_id}: {error}")
        else:
            attempt = record_gateway_payment(
                session, gateway, result, attempt_id=attempt_id, clock=clock
            )
        if attempt.status == "succeeded":
            report.succeeded += 1
        elif attempt.status == "failed":
            report.failed += 1
        else:
            report.still_open += 1
    report.refunds = send_refunds(session, gateway, clock=clock, limit=limit)
    return report
