"""Use-case: a billing operator charges an invoice to the account's saved payment method
(the one autopay uses: the newest active method of the gateway), through the same
`checkout.pay_with_saved_method` the portal's «pay with the saved card» calls."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.records import get_or_404, not_found
from podpiska.invoicing.models import Invoice
from podpiska.payments.checkout import pay_with_saved_method
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.ports import Clock, PaymentGateway


def saved_method(session: Session, account_id: int, gateway: str) -> PaymentMethod | None:
    """The account's saved method a charge goes to: its newest active one."""
    return session.scalars(
        select(PaymentMethod)
        .where(
            PaymentMethod.account_id == account_id,
            PaymentMethod.status == "active",
            PaymentMethod.gateway == gateway,
        )
        .order_by(PaymentMethod.id.desc())
    ).first()


def charge_saved_method(
    session: Session,
    gateway: PaymentGateway,
    *,
    invoice_id: int,
    account_id: int | None = None,
    actor: str,
    clock: Clock,
    two_stage: bool = False,
) -> PaymentAttempt:
    """Charge what is due on the invoice to the account's saved method now: the attempt
    (succeeded, failed or pending at the gateway). 409 `no_saved_method` when the account
    has none; `invoice_not_payable` for a paid or void invoice."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        if account_id is not None and invoice.account_id != account_id:
            raise not_found("invoice", invoice_id)
        if invoice.status != "issued":
            raise DomainError("invoice_not_payable", number=invoice.number, status=invoice.status)
        method = saved_method(session, invoice.account_id, gateway.name)
        if method is None:
            raise DomainError(
                "no_saved_method", account_id=invoice.account_id, number=invoice.number
            )
        method_id, owner = method.id, invoice.account_id
    return pay_with_saved_method(
        session,
        gateway,
        invoice_id=invoice_id,
        method_id=method_id,
        account_id=owner,
        actor=actor,
        clock=clock,
        two_stage=two_stage,
    )
