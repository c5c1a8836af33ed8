"""What a billing team does to one invoice: void it, mark it paid by hand, send it again,
charge it to the account's saved method."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from podpiska.entrypoints.api.deps import ContextDep, Id, SessionDep, VendorDep
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.routers.payments import AttemptOut, _gateway
from podpiska.entrypoints.api.schemas.invoice_actions import (
    MarkPaidIn,
    MarkPaidOut,
    ResendIn,
    ResendOut,
    VoidIn,
    VoidOut,
)
from podpiska.entrypoints.api.schemas.invoicing import InvoiceOut
from podpiska.entrypoints.api.schemas.payments import PaymentOut
from podpiska.entrypoints.api.schemas.subscriptions import SubscriptionOut
from podpiska.notifications.invoice_resend import resend_invoice
from podpiska.payments.invoice_charge import charge_saved_method
from podpiska.subscriptions import billing
from podpiska.subscriptions.invoice_actions import mark_invoice_paid, void_issued_invoice

router = APIRouter(tags=["billing"])


@router.post(
    "/invoices/{invoice_id}/void",
    response_model=VoidOut,
    responses=errors("invoice_paid", "void_reason_required", "void_reason_too_long", vendor=True),
)
def void(invoice_id: Id, body: VoidIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Void an unpaid or partly paid invoice with its reason (what was paid goes to the
    account's credit). An order's invoice cancels the pending subscription; a renewal
    invoice drops the planned renewal (autopay off); a change's invoice cancels the change.
    A void invoice answers as it is (`replayed`)."""
    result = void_issued_invoice(
        db, invoice_id=invoice_id, reason=body.reason, actor=who.actor, clock=ctx.clock
    )
    found, lines = billing.get_invoice(db, invoice_id)
    return VoidOut(
        invoice=InvoiceOut.of(found, lines),
        subscription=SubscriptionOut.of(result.subscription),
        effect=result.effect,
        replayed=result.replayed,
    )


@router.post(
    "/invoices/{invoice_id}/mark-paid",
    status_code=201,
    response_model=MarkPaidOut,
    responses=errors(
        "invoice_not_payable",
        "invalid_payment_method",
        "invalid_amount",
        "invalid_paid_on",
        "invalid_payment_reference",
        vendor=True,
    ),
)
def mark_paid(
    invoice_id: Id, body: MarkPaidIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Mark an invoice paid by hand (money outside the gateway): the method, the day paid,
    the payer's document number, the amount (by default what is due). Settled like any
    payment: paid in full, the order activates or the renewal extends."""
    payment, _invoice, subscription, replayed = mark_invoice_paid(
        db,
        invoice_id=invoice_id,
        method=body.method,
        paid_on=body.paid_on,
        reference=body.reference,
        amount=body.amount,
        actor=who.actor,
        clock=ctx.clock,
    )
    found, lines = billing.get_invoice(db, invoice_id)
    return MarkPaidOut(
        payment=PaymentOut.of(payment, replayed),
        invoice=InvoiceOut.of(found, lines),
        subscription=SubscriptionOut.of(subscription),
    )


@router.post(
    "/invoices/{invoice_id}/resend",
    status_code=202,
    response_model=ResendOut,
    responses=errors("invoice_void_not_sent", vendor=True),
)
def resend(invoice_id: Id, body: ResendIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Send the invoice's e-mail (with its PDF) again: to `email`, else the account's."""
    delivery = resend_invoice(
        db, invoice_id=invoice_id, email=body.email, actor=who.actor, clock=ctx.clock
    )
    return ResendOut(
        invoice_id=invoice_id,
        delivery_id=delivery.id,
        email=delivery.target,
        status=delivery.status,
    )


@router.post(
    "/invoices/{invoice_id}/pay",
    status_code=201,
    response_model=AttemptOut,
    responses=errors(
        "no_saved_method",
        "invoice_not_payable",
        "payment_in_progress",
        "payment_method_not_found",
        "unknown_gateway",
        vendor=True,
    ),
)
def pay(invoice_id: Id, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Charge what is due to the account's saved payment method now: the attempt."""
    attempt = charge_saved_method(
        db,
        _gateway(ctx),
        invoice_id=invoice_id,
        actor=who.actor,
        clock=ctx.clock,
        two_stage=ctx.settings.gateway_two_stage,
    )
    return AttemptOut.of(attempt)
