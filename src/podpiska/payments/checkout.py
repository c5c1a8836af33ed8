"""Checkout: the customer pays an invoice at the gateway (card, YooMoney, SBP; optionally
keeping the method for autopay under the consent text) or with a method saved before. One
open attempt per invoice: another click finds the open one, asked about at the gateway.
DESIGN.md's rule: no gateway call inside a database transaction. Transaction 1 stores a
`PaymentAttempt` (status `created`); the gateway is called with `attempt-<id>` as its
idempotency key; transaction 2 stores the result. If the process dies in between,
`reconcile` finds the attempt still `created` and sends the same request with the same
key: the gateway answers with the payment it already made, never a second one. Here too:
the customer back from the gateway, the invoice's payments and an attempt read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podpiska.accounts.actors import acts_for_account
from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, get_or_404, not_found
from podpiska.invoicing.models import Invoice
from podpiska.payments.common import OPEN, RECHECK, lock_invoice_account, open_attempt
from podpiska.payments.methods import consent_text
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.payments.receipts import charge_request, rebuild_request
from podpiska.payments.reconciliation import gateway_failed, record_gateway_payment
from podpiska.ports import METHOD_TYPES, ChargeRequest, Clock, GatewayError, PaymentGateway
from podpiska.subscriptions.settlement import not_payable

# How often a payer who found an open attempt that has just completed looks again.
_TRIES = 3


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
            invoice, subscription, account = lock_invoice_account(session, invoice_id)
            problem = not_payable(invoice, subscription)
            if problem is not None:
                raise DomainError("invoice_not_payable", number=invoice.number, status=problem)
            if save_method and not acts_for_account(session, actor, account.id):
                raise DomainError("consent_by_customer_only", actor=actor)
            found = open_attempt(session, invoice.id)
            if found is None:
                now = clock.now()
                attempt = new_attempt(
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
                request = charge_request(
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
            return call_gateway(session, gateway, attempt.id, request, clock=clock)
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
            invoice, subscription, account = lock_invoice_account(session, invoice_id)
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
            found = open_attempt(session, invoice.id)
            if found is None:
                now = clock.now()
                today = today_for(session, account, clock)
                attempt = new_attempt(
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
                request = charge_request(
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
            return call_gateway(session, gateway, attempt.id, request, clock=clock)
        # Another payment of the invoice is open: never a second charge beside it.
        earlier = _refresh_attempt(session, gateway, found_id, external_id, clock=clock)
        if earlier.status in OPEN:
            raise _in_progress(number, earlier)
        # Completed meanwhile: paid (the invoice now says so) or failed (a new attempt).
    raise DomainError("payment_in_progress", number=number, attempt_id=found_id)


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
            result = gateway.create_payment(rebuild_request(session, attempt_id))
        else:
            result = gateway.get_payment(external_id)
    except GatewayError as error:
        return gateway_failed(session, attempt_id, error, clock=clock)
    return record_gateway_payment(session, gateway, result, attempt_id=attempt_id, clock=clock)


def new_attempt(
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
        next_check_at=now + RECHECK[0],
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


def call_gateway(
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
        return gateway_failed(session, attempt_id, error, clock=clock)
    return record_gateway_payment(session, gateway, result, attempt_id=attempt_id, clock=clock)


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


def get_attempt(session: Session, attempt_id: int) -> PaymentAttempt:
    with session.begin():
        attempt = session.get(PaymentAttempt, attempt_id, populate_existing=True)
        if attempt is None:
            raise DomainError("payment_attempt_not_found", attempt_id=attempt_id)
        return attempt
