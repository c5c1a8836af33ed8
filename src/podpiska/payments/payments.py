"""Payments through a gateway: checkout by card, YooMoney or SBP; saved methods and autopay
with its dunning schedule; the gateway's webhooks; reconciliation; refunds.

DESIGN.md's rule, everywhere here: no gateway call inside a database transaction.
Transaction 1 stores a `PaymentAttempt` (status `created`); the gateway is called with
`attempt-<id>` as its idempotency key; transaction 2 stores the result. If the process dies
in between, `reconcile` finds the attempt still `created` and sends the same request with
the same key: the gateway answers with the payment it already made, never a second one.

A webhook is never trusted as it is: the adapter checks where it comes from, then the
payment is fetched from the gateway's API, and only that is recorded. Recording is
idempotent (an attempt completes once; a payment is unique per method and external id), so
the same webhook delivered a hundred times applies once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for, today_for
from podpiska.core.db.models import (
    Account,
    CreditEntry,
    Invoice,
    Payment,
    PaymentAttempt,
    PaymentMethod,
    Refund,
    Subscription,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, allocate
from podpiska.core.records import acts_for_account, audit, emit, get_or_404, not_found
from podpiska.invoicing.invoices import invoice_lines
from podpiska.invoicing.ledger import CASH, CREDIT, post, request_refund
from podpiska.ports import (
    METHOD_TYPES,
    VAT_CODE_EXEMPT,
    ChargeRequest,
    Clock,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    NotificationRejected,
    PaymentGateway,
    Receipt,
    ReceiptItem,
    RefundRequest,
)
from podpiska.subscriptions.domain.lifecycle import Status, next_autopay_charge
from podpiska.subscriptions.settlement import (
    PaymentRows,
    lock_invoice,
    not_payable,
    record_payment,
)

# How each gateway method type is recorded as a payment.
PAYMENT_METHOD_OF = {"bank_card": "card", "yoo_money": "e_wallet", "sbp": "sbp"}
OPEN = ("created", "pending")
# 54-FZ VAT codes by rate: (the rate, the calculated rate used for a prepayment).
VAT_CODES = {"22": (11, 12), "20": (4, 6), "10": (3, 5), "7": (8, 10), "5": (7, 9), "0": (2, 2)}
# When reconciliation asks again about an attempt that is still open.
_RECHECK = (timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))
# A customer who never confirmed: the attempt is given up after this (the gateway cancels
# unconfirmed payments itself well before).
CHECKOUT_EXPIRES = timedelta(days=2)
# How often a payer who found an open attempt that has just completed looks again.
_TRIES = 3

CONSENT_TEXT = {
    "ru": (
        "Я соглашаюсь сохранить этот способ оплаты и разрешаю списывать с него плату за "
        "продление подписки в день выставления счёта на продление и, если списание не "
        "удалось, повторно в течение льготного периода. Сумма списания равна сумме счёта "
        "на продление. Я могу удалить способ оплаты и отключить автоплатёж в любой момент "
        "в настройках оплаты; после этого списаний не будет."
    ),
    "en": (
        "I agree to keep this payment method and allow it to be charged for the renewal of "
        "the subscription on the day the renewal invoice is issued and, if that fails, again "
        "during the grace period. Each charge equals the renewal invoice. I can remove the "
        "payment method and turn autopay off at any time in the billing settings; nothing "
        "is charged after that."
    ),
}


def consent_text(lang: str = "ru") -> str:
    return CONSENT_TEXT.get(lang, CONSENT_TEXT["en"])


# -- checkout ---------------------------------------------------------------------------------


def start_checkout(
    session: Session,
    gateway: PaymentGateway,
    *,
    invoice_id: int,
    method_type: str,
    save_method: bool = False,
    consent_accepted: bool = False,
    return_url: str | None,
    actor: str,
    clock: Clock,
    lang: str = "ru",
    two_stage: bool = False,
) -> PaymentAttempt:
    """The customer pays an invoice: an attempt is stored, the gateway creates the payment,
    and the customer is sent to its `confirmation_url` (card form, 3-D Secure, wallet).
    With `save_method` (and the customer's consent) the method is kept for autopay."""
    if method_type not in METHOD_TYPES or method_type not in gateway.method_types:
        raise DomainError(
            "invalid_method_type", method_type=method_type, allowed=gateway.method_types
        )
    if save_method and method_type not in gateway.savable_method_types:
        raise DomainError(
            "method_not_savable", method_type=method_type, allowed=gateway.savable_method_types
        )
    if save_method and not consent_accepted:
        raise DomainError("consent_required")
    # One open attempt per invoice (a unique index): the callers who find one get that one.
    for _ in range(_TRIES):
        with session.begin():
            invoice, subscription, account = _lock_invoice(session, invoice_id)
            problem = not_payable(invoice, subscription)
            if problem is not None:
                raise DomainError("invoice_not_payable", number=invoice.number, status=problem)
            if save_method and not acts_for_account(session, actor, account.id):
                raise DomainError("consent_by_customer_only", actor=actor)
            found = _open_attempt(session, invoice.id)
            if found is None:
                now = clock.now()
                attempt = _new_attempt(
                    session,
                    gateway,
                    invoice,
                    account,
                    kind="checkout",
                    actor=actor,
                    now=now,
                    audited_at=now,
                    noted={"method_type": method_type},
                    method_type=method_type,
                    save_method=save_method,
                    capture=not two_stage,
                    consent_text=consent_text(lang) if save_method else None,
                    amount=invoice.total - invoice.amount_paid,
                    return_url=return_url,
                )
                request = _charge_request(
                    session,
                    attempt,
                    invoice,
                    account,
                    today_for(session, account, clock),
                    capture=attempt.capture,
                )
            else:
                number, found_id, external_id = invoice.number, found.id, found.external_id
        if found is None:
            return _call_gateway(session, gateway, attempt.id, request, clock=clock)
        # Another click, or a concurrent request: where that attempt stands now, from the
        # gateway (its request sent again with its own key if the gateway never answered).
        earlier = _refresh_attempt(session, gateway, found_id, external_id, clock=clock)
        if earlier.status in OPEN:
            if (
                earlier.kind == "checkout"
                and earlier.gateway == gateway.name
                and earlier.method_type == method_type
                and earlier.save_method == save_method
            ):
                return earlier
            raise _in_progress(number, earlier)
        if earlier.status == "succeeded":
            return earlier  # it paid the invoice meanwhile
        # It failed (declined, expired): a new attempt.
    raise DomainError("payment_in_progress", number=number, attempt_id=found_id)


def _open_attempt(session: Session, invoice_id: int) -> PaymentAttempt | None:
    """The open attempt of an invoice (at most one: `uq_payment_attempts_open_invoice`)."""
    return session.scalars(
        select(PaymentAttempt).where(
            PaymentAttempt.invoice_id == invoice_id, PaymentAttempt.status.in_(OPEN)
        )
    ).first()


def _in_progress(number: str | None, attempt: PaymentAttempt) -> DomainError:
    return DomainError(
        "payment_in_progress",
        number=number,
        attempt_id=attempt.id,
        kind=attempt.kind,
        method_type=attempt.method_type,
        confirmation_url=attempt.confirmation_url,
    )


def _refresh_attempt(
    session: Session,
    gateway: PaymentGateway,
    attempt_id: int,
    external_id: str | None,
    *,
    clock: Clock,
) -> PaymentAttempt:
    """Outside any transaction: ask the gateway about an open attempt and record the answer
    (idempotent). One the gateway never answered is sent again with its own key: the
    gateway answers with the payment it made for that key, never a second one."""
    try:
        if external_id is None:
            result = gateway.create_payment(_rebuild_request(session, attempt_id))
        else:
            result = gateway.get_payment(external_id)
    except GatewayError as error:
        return _gateway_failed(session, attempt_id, error, clock=clock)
    return record_gateway_payment(session, gateway, result, attempt_id=attempt_id, clock=clock)


def pay_with_saved_method(
    session: Session,
    gateway: PaymentGateway,
    *,
    invoice_id: int,
    method_id: int,
    account_id: int | None = None,
    actor: str,
    clock: Clock,
    two_stage: bool = False,
) -> PaymentAttempt:
    """The customer pays an invoice now with a method saved before (under the consent it
    was saved with): charged at once, without the customer at the gateway. With
    `account_id`, another account's invoice or method is not found."""
    for _ in range(_TRIES):
        with session.begin():
            invoice, subscription, account = _lock_invoice(session, invoice_id)
            if account_id is not None and invoice.account_id != account_id:
                raise not_found("invoice", invoice_id)
            method = session.get(
                PaymentMethod, method_id, with_for_update=True, populate_existing=True
            )
            if (
                method is None
                or method.account_id != invoice.account_id
                or method.status != "active"
                or method.gateway != gateway.name
            ):
                raise DomainError("payment_method_not_found", method_id=method_id)
            problem = not_payable(invoice, subscription)
            if problem is not None:
                raise DomainError("invoice_not_payable", number=invoice.number, status=problem)
            found = _open_attempt(session, invoice.id)
            if found is None:
                now = clock.now()
                today = today_for(session, account, clock)
                attempt = _new_attempt(
                    session,
                    gateway,
                    invoice,
                    account,
                    kind="saved_method",
                    actor=actor,
                    now=now,
                    audited_at=now,
                    noted={"method": method.title},
                    method_type=method.type,
                    payment_method_id=method.id,
                    save_method=False,
                    capture=not two_stage,
                    amount=invoice.total - invoice.amount_paid,
                )
                request = _charge_request(
                    session,
                    attempt,
                    invoice,
                    account,
                    today,
                    saved_method_id=method.external_id,
                    capture=attempt.capture,
                )
            else:
                number, found_id, external_id = invoice.number, found.id, found.external_id
        if found is None:
            return _call_gateway(session, gateway, attempt.id, request, clock=clock)
        # Another payment of the invoice is open: never a second charge beside it.
        earlier = _refresh_attempt(session, gateway, found_id, external_id, clock=clock)
        if earlier.status in OPEN:
            raise _in_progress(number, earlier)
        # Completed meanwhile: paid (the invoice now says so) or failed (a new attempt).
    raise DomainError("payment_in_progress", number=number, attempt_id=found_id)


def _new_attempt(
    session: Session,
    gateway: PaymentGateway,
    invoice: Invoice,
    account: Account,
    *,
    kind: str,
    actor: str,
    now: datetime,
    audited_at: datetime,
    noted: dict[str, str],
    **fields: Any,
) -> PaymentAttempt:
    """Store an attempt of paying `invoice` through `gateway` (status `created`, checked
    again after the first recheck delay) with its audit row: the first step of the rule
    "stored, called, stored". `noted`: what the audit row says beside the invoice and the
    amount."""
    attempt = PaymentAttempt(
        account_id=account.id,
        invoice_id=invoice.id,
        gateway=gateway.name,
        kind=kind,
        currency=invoice.currency,
        status="created",
        next_check_at=now + _RECHECK[0],
        created_at=now,
        updated_at=now,
        actor=actor,
        **fields,
    )
    session.add(attempt)
    try:
        session.flush()
    except IntegrityError:
        # Another attempt of this invoice opened meanwhile (a path that did not lock the
        # invoice): the unique index refuses the second one; the transaction is void.
        raise DomainError("payment_in_progress", number=invoice.number) from None
    audit(
        session,
        actor=actor,
        action="payment_attempt.created",
        object_type="payment_attempt",
        object_id=attempt.id,
        account_id=account.id,
        at=audited_at,
        after={"invoice": invoice.number, "amount": str(attempt.amount), **noted},
    )
    return attempt


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """Where the payment of an invoice stands, as the gateway last said."""

    invoice: Invoice
    attempt: PaymentAttempt | None  # the latest through a gateway


def refresh_invoice_payment(
    session: Session,
    gateway: PaymentGateway,
    *,
    invoice_id: int,
    account_id: int | None = None,
    clock: Clock,
) -> InvoicePayment:
    """The customer is back from the gateway: each open attempt of the invoice is fetched
    from the gateway now and recorded (what a webhook or the reconciliation task would do,
    without waiting for them; recording is idempotent), then the invoice is read again.
    With `account_id`, another account's invoice is not found."""
    with session.begin():
        invoice = session.get(Invoice, invoice_id)
        if invoice is None or (account_id is not None and invoice.account_id != account_id):
            raise not_found("invoice", invoice_id)
        waiting = list(
            session.execute(
                select(PaymentAttempt.id, PaymentAttempt.external_id).where(
                    PaymentAttempt.invoice_id == invoice_id,
                    PaymentAttempt.gateway == gateway.name,
                    PaymentAttempt.status.in_(OPEN),
                    PaymentAttempt.external_id.is_not(None),
                )
            )
        )
    for attempt_id, external_id in waiting:
        try:
            found = gateway.get_payment(str(external_id))
        except GatewayError:
            continue  # unknown for now: reconciliation asks again later
        record_gateway_payment(session, gateway, found, attempt_id=attempt_id, clock=clock)
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        session.refresh(invoice)
        latest = session.scalars(
            select(PaymentAttempt)
            .where(PaymentAttempt.invoice_id == invoice_id)
            .order_by(PaymentAttempt.id.desc())
            .limit(1)
        ).first()
        return InvoicePayment(invoice, latest)


def _charge_request(
    session: Session,
    attempt: PaymentAttempt,
    invoice: Invoice,
    account: Account,
    today: date,
    saved_method_id: str | None = None,
    capture: bool = True,
) -> ChargeRequest:
    """The gateway request of an attempt: the same every time it is built (reconciliation
    sends it again with the same key)."""
    description = f"Оплата по счёту № {invoice.number}"
    return ChargeRequest(
        idempotency_key=f"attempt-{attempt.id}",
        amount=attempt.amount,
        currency=attempt.currency,
        description=description,
        method_type=None if saved_method_id else attempt.method_type,
        return_url=attempt.return_url,
        save_method=attempt.save_method,
        saved_method_id=saved_method_id,
        capture=capture,
        receipt=build_receipt(session, invoice, attempt.amount, account, prepayment_on=today),
        metadata={"attempt_id": str(attempt.id), "invoice": invoice.number or ""},
    )


def build_receipt(
    session: Session, invoice: Invoice, amount: Decimal, account: Account, *, prepayment_on: date
) -> Receipt:
    """The 54-FZ receipt of a payment of `amount` for `invoice`: its lines (a part payment
    shares the amount out by line, exactly), VAT code per line, "service" as the subject.
    Paid before the term starts it is a prepayment (22/122 instead of 22 %)."""
    lines = [line for line in invoice_lines(session, invoice.id) if line.amount != ZERO]
    prepayment = invoice.term_starts_on is not None and prepayment_on < invoice.term_starts_on
    mode = "full_prepayment" if prepayment else "full_payment"
    if not lines or any(line.amount < ZERO for line in lines):
        # Credits inside the invoice (a mid-term change): one item for the whole payment.
        items = [
            (f"Оплата по счёту № {invoice.number}", amount, invoice.vat_mode, invoice.vat_rate)
        ]
    else:
        shares = allocate(amount, [line.amount for line in lines])
        items = [
            (line.description, share, line.vat_mode, line.vat_rate)
            for line, share in zip(lines, shares, strict=True)
            if share > ZERO
        ]
    return Receipt(
        items=tuple(
            ReceiptItem(
                description=text[:128],
                quantity=Decimal(1),
                amount=share,
                vat_code=_vat_code(vat_mode, vat_rate, prepayment=prepayment),
                payment_mode=mode,
            )
            for text, share, vat_mode, vat_rate in items
        ),
        customer_email=account.admin_email,
        customer_phone=account.admin_phone,
    )


def _vat_code(vat_mode: str, vat_rate: str | None, *, prepayment: bool) -> int:
    if vat_mode == "exempt" or not vat_rate:
        return VAT_CODE_EXEMPT
    rate = vat_rate.rstrip("%").strip()
    if rate.endswith(".00"):
        rate = rate[:-3]
    codes = VAT_CODES.get(rate)
    if codes is None:
        return VAT_CODE_EXEMPT
    return codes[1] if prepayment else codes[0]


def _lock_invoice(session: Session, invoice_id: int) -> tuple[Invoice, Subscription, Account]:
    """The invoice, its subscription (locked in the one order: `settlement.lock_invoice`)
    and its account."""
    invoice, subscription = lock_invoice(session, invoice_id)
    account = get_or_404(session, Account, invoice.account_id, "account")
    return invoice, subscription, account


def _call_gateway(
    session: Session,
    gateway: PaymentGateway,
    attempt_id: int,
    request: ChargeRequest,
    *,
    clock: Clock,
) -> PaymentAttempt:
    """Outside any transaction: the gateway call, then transaction 2 with its result."""
    try:
        result = gateway.create_payment(request)
    except GatewayError as error:
        return _gateway_failed(session, attempt_id, error, clock=clock)
    return record_gateway_payment(session, gateway, result, attempt_id=attempt_id, clock=clock)


def _gateway_failed(
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
            attempt.next_check_at = now + _RECHECK[0]
    return attempt


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
            return _gateway_failed(session, attempt.id, error, clock=clock)
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
        invoice, subscription, account = _lock_invoice(
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
            _save_method(session, attempt, subscription, payment, now=now, today=today)
    return attempt


def _recheck_after(age: timedelta) -> timedelta:
    for step in _RECHECK:
        if age < step * 2:
            return step
    return _RECHECK[-1]


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


def _save_method(
    session: Session,
    attempt: PaymentAttempt,
    subscription: Subscription,
    payment: GatewayPayment,
    *,
    now: datetime,
    today: date,
) -> None:
    assert payment.method is not None
    method = session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.gateway == attempt.gateway,
            PaymentMethod.external_id == payment.method.id,
        )
    )
    if method is None:
        method = PaymentMethod(
            account_id=attempt.account_id,
            gateway=attempt.gateway,
            external_id=payment.method.id,
            type=payment.method.type,
            title=payment.method.title,
            status="active",
            consent_text=attempt.consent_text or consent_text(),
            consent_at=attempt.created_at,
            consent_by=attempt.actor,
            attempt_id=attempt.id,
            created_at=now,
        )
        session.add(method)
        session.flush()
        audit(
            session,
            actor=attempt.actor,
            action="payment_method.saved",
            object_type="payment_method",
            object_id=method.id,
            account_id=attempt.account_id,
            at=now,
            after={"title": method.title, "consent_at": attempt.created_at.isoformat()},
        )
        emit(
            session,
            "payment_method.saved",
            account_id=attempt.account_id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            payment_method_id=method.id,
            title=method.title,
        )
    if subscription.status != Status.CANCELLED.value and not subscription.autopay:
        # The consent was to autopay.
        _switch_autopay(session, subscription, True, actor=attempt.actor, now=now, today=today)


def _switch_autopay(
    session: Session,
    subscription: Subscription,
    enabled: bool,
    *,
    actor: str,
    now: datetime,
    today: date,
) -> None:
    """Autopay on or off because of a saved method, with its audit row and its e-mail."""
    subscription.autopay = enabled
    subscription.updated_at = now
    audit(
        session,
        actor=actor,
        action="subscription.autopay_changed",
        object_type="subscription",
        object_id=subscription.id,
        account_id=subscription.account_id,
        at=now,
        before={"autopay": not enabled},
        after={"autopay": enabled},
    )
    emit(
        session,
        "subscription.autopay_changed",
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        autopay=enabled,
    )


def _failed_event(session: Session, attempt: PaymentAttempt, now: datetime) -> None:
    invoice = session.get(Invoice, attempt.invoice_id)
    subscription = (
        session.get(Subscription, invoice.subscription_id) if invoice is not None else None
    )
    next_try = None
    if attempt.kind == "autopay" and invoice is not None and subscription is not None:
        next_try = _next_charge_day(session, subscription, attempt.charge_day)
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
                request = _rebuild_request(session, attempt_id)
                result = gateway.create_payment(request)
            else:
                result = gateway.get_payment(external_id)
        except GatewayError as error:
            attempt = _gateway_failed(session, attempt_id, error, clock=clock)
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


def _rebuild_request(session: Session, attempt_id: int) -> ChargeRequest:
    with session.begin():
        attempt = get_or_404(session, PaymentAttempt, attempt_id, "payment attempt")
        invoice = get_or_404(session, Invoice, attempt.invoice_id, "invoice")
        account = get_or_404(session, Account, attempt.account_id, "account")
        saved = None
        if attempt.payment_method_id is not None:
            method = get_or_404(session, PaymentMethod, attempt.payment_method_id, "method")
            saved = method.external_id
        # The receipt's payment mode depends on the day: the day the attempt was made.
        day = attempt.charge_day or attempt.created_at.date()
        return _charge_request(
            session, attempt, invoice, account, day, saved_method_id=saved, capture=attempt.capture
        )


# -- saved methods --------------------------------------------------------------------------


def list_methods(session: Session, account_id: int) -> list[PaymentMethod]:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(PaymentMethod)
                .where(PaymentMethod.account_id == account_id)
                .order_by(PaymentMethod.id)
            )
        )


def remove_method(
    session: Session, *, account_id: int, method_id: int, actor: str, clock: Clock
) -> PaymentMethod:
    """The customer withdraws the consent: the method is never charged again, and autopay
    is turned off when no other method is left. Takes effect at once, even for a charge
    due today (the charge re-reads the method under a lock)."""
    with session.begin():
        subscription = session.scalar(
            select(Subscription)
            .where(Subscription.account_id == account_id, Subscription.status != "cancelled")
            .with_for_update()
        )
        method = session.get(PaymentMethod, method_id, with_for_update=True, populate_existing=True)
        if method is None or method.account_id != account_id:
            raise DomainError("payment_method_not_found", method_id=method_id)
        if method.status == "removed":
            return method
        now = clock.now()
        method.status = "removed"
        method.removed_at = now
        method.removed_by = actor
        audit(
            session,
            actor=actor,
            action="payment_method.removed",
            object_type="payment_method",
            object_id=method.id,
            account_id=account_id,
            at=now,
            before={"status": "active"},
            after={"status": "removed"},
        )
        others = session.scalar(
            select(func.count())
            .select_from(PaymentMethod)
            .where(PaymentMethod.account_id == account_id, PaymentMethod.status == "active")
        )
        occurred = now.date()
        if subscription is not None:
            account = get_or_404(session, Account, account_id, "account")
            occurred = today_for(session, account, clock)
        emit(
            session,
            "payment_method.removed",
            account_id=account_id,
            subscription_id=subscription.id if subscription is not None else None,
            occurred_on=occurred,
            at=now,
            payment_method_id=method.id,
            title=method.title,
        )
        if subscription is not None and subscription.autopay and not others:
            _switch_autopay(session, subscription, False, actor=actor, now=now, today=occurred)
    return method


def invoice_payments(session: Session, invoice_id: int) -> tuple[Invoice, list[Payment]]:
    """An invoice and the money received for it, oldest first."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        found = session.scalars(
            select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)
        )
        return invoice, list(found)


def get_attempt(session: Session, attempt_id: int) -> PaymentAttempt:
    with session.begin():
        attempt = session.get(PaymentAttempt, attempt_id, populate_existing=True)
        if attempt is None:
            raise DomainError("payment_attempt_not_found", attempt_id=attempt_id)
        return attempt


# -- autopay ------------------------------------------------------------------------------


@dataclass
class AutopayReport:
    charged: int = 0
    succeeded: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0

    def add(self, other: AutopayReport) -> None:
        self.charged += other.charged
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.pending += other.pending
        self.skipped += other.skipped

    def as_dict(self) -> dict[str, int]:
        return {
            "charged": self.charged,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "pending": self.pending,
            "skipped": self.skipped,
        }


def _next_charge_day(
    session: Session, subscription: Subscription, last_charged_on: date | None
) -> date | None:
    if subscription.ends_on is None:
        return None
    settings = catalog_in_force(session).version(subscription.catalog_version).lifecycle
    return next_autopay_charge(subscription.ends_on, settings, last_charged_on)


def charge_autopay(
    session: Session,
    gateway: PaymentGateway,
    *,
    clock: Clock,
    clock_id: int = 0,
    two_stage: bool = False,
    limit: int = 1000,
) -> AutopayReport:
    """Charge the saved method for every open renewal invoice whose dunning day has come
    (the day the autopay invoice is issued, then the retry days in grace). Accounts on test
    clock `clock_id` (0: real time) only. Nothing is charged without autopay on, an active
    saved method, or after cancellation; each is checked again under a lock right before
    the charge."""
    report = AutopayReport()
    with session.begin():
        scope = (
            Subscription.test_clock_id.is_(None)
            if clock_id == 0
            else Subscription.test_clock_id == clock_id
        )
        candidates = list(
            session.execute(
                select(Subscription.id, Invoice.id)
                .join(Invoice, Invoice.id == Subscription.renewal_invoice_id)
                .where(
                    scope,
                    Subscription.autopay.is_(True),
                    Subscription.cancel_at_period_end.is_(False),
                    Subscription.status.in_((Status.ACTIVE.value, Status.GRACE.value)),
                    Invoice.status == "issued",
                    Subscription.account_id.in_(
                        select(PaymentMethod.account_id).where(
                            PaymentMethod.status == "active",
                            PaymentMethod.gateway == gateway.name,
                        )
                    ),
                    ~Invoice.id.in_(
                        select(PaymentAttempt.invoice_id).where(PaymentAttempt.status.in_(OPEN))
                    ),
                )
                .order_by(Subscription.id)
                .limit(limit)
            )
        )
    for _subscription_id, invoice_id in candidates:
        prepared = _prepare_autopay(session, gateway, invoice_id, clock=clock, two_stage=two_stage)
        if prepared is None:
            report.skipped += 1
            continue
        attempt_id, request = prepared
        report.charged += 1
        attempt = _call_gateway(session, gateway, attempt_id, request, clock=clock)
        if attempt.status == "succeeded":
            report.succeeded += 1
        elif attempt.status == "failed":
            report.failed += 1
        else:
            report.pending += 1
    return report


def _prepare_autopay(
    session: Session, gateway: PaymentGateway, invoice_id: int, *, clock: Clock, two_stage: bool
) -> tuple[int, ChargeRequest] | None:
    """Transaction 1 of an autopay charge: every condition re-read under the locks."""
    with session.begin():
        invoice, subscription, account = _lock_invoice(session, invoice_id)
        if (
            not subscription.autopay
            or subscription.cancel_at_period_end
            or subscription.status not in (Status.ACTIVE.value, Status.GRACE.value)
            or subscription.renewal_invoice_id != invoice.id
            or not_payable(invoice, subscription) is not None
        ):
            return None
        method = session.scalar(
            select(PaymentMethod)
            .where(
                PaymentMethod.account_id == account.id,
                PaymentMethod.status == "active",
                PaymentMethod.gateway == gateway.name,
            )
            .order_by(PaymentMethod.id.desc())
            .with_for_update()
        )
        if method is None:
            return None
        if _open_attempt(session, invoice.id) is not None:
            return None  # a payment of it is open (the customer's, or an earlier charge)
        previous = session.execute(
            select(PaymentAttempt.charge_day, PaymentAttempt.status)
            .where(PaymentAttempt.invoice_id == invoice.id, PaymentAttempt.kind == "autopay")
            .order_by(PaymentAttempt.id.desc())
            .limit(1)
        ).first()
        today = today_for(session, account, clock)
        due_on = _next_charge_day(session, subscription, previous.charge_day if previous else None)
        if due_on is None or due_on > today:
            return None
        now = now_for(session, account, clock)
        attempt = _new_attempt(
            session,
            gateway,
            invoice,
            account,
            kind="autopay",
            actor="autopay",
            now=clock.now(),
            audited_at=now,
            noted={"method": method.title, "charge_day": today.isoformat()},
            method_type=method.type,
            payment_method_id=method.id,
            save_method=False,
            capture=not two_stage,
            amount=invoice.total - invoice.amount_paid,
            charge_day=today,
        )
        request = _charge_request(
            session,
            attempt,
            invoice,
            account,
            today,
            saved_method_id=method.external_id,
            capture=attempt.capture,
        )
        return attempt.id, request


# -- refunds through the gateway ------------------------------------------------------------


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
        prepared = _prepare_refund(session, gateway, refund_id, clock=clock)
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


def _refund_source(session: Session, refund: Refund, gateway_name: str) -> Payment | None:
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.status.in_(("pending", "succeeded")), Refund.payment_id.is_not(None))
        .group_by(Refund.payment_id)
        .subquery()
    )
    gateway_payments = select(PaymentAttempt.payment_id).where(
        PaymentAttempt.gateway == gateway_name, PaymentAttempt.status == "succeeded"
    )
    return session.scalar(
        select(Payment)
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(
            Payment.account_id == refund.account_id,
            Payment.id.in_(gateway_payments),
            Payment.amount - func.coalesce(refunded.c.amount, 0) >= refund.amount,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )


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
