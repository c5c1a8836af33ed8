"""Paying through the gateway: checkout (card, YooMoney, SBP), the gateway's webhooks,
saved payment methods (autopay consent) and their removal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StrictBool

from podpiska.core.domain.errors import DomainError
from podpiska.core.records import not_found
from podpiska.entrypoints.api.deps import ContextDep, Id, PrincipalDep, SessionDep, guard_account
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.answers import (
    ConsentOut,
    NotificationOut,
)
from podpiska.entrypoints.api.schemas.common import Code, In, Line
from podpiska.entrypoints.api.schemas.payments import PaymentOut
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.presenters import amount
from podpiska.payments.checkout import get_attempt, start_checkout
from podpiska.payments.history import invoice_payments as received_for_invoice
from podpiska.payments.methods import consent_text, list_methods, remove_method
from podpiska.payments.reconciliation import handle_notification
from podpiska.ports import METHOD_TYPES, PaymentGateway
from podpiska.subscriptions import billing

router = APIRouter(tags=["payments"])


class CheckoutIn(In):
    method_type: Code = Field("bank_card", description="bank_card, yoo_money or sbp")
    save_method: StrictBool = Field(
        False, description="Keep the method for autopay (needs consent_accepted)"
    )
    consent_accepted: StrictBool = Field(
        False, description="The customer accepted the text of GET /payments/consent"
    )
    return_url: Line | None = Field(None, description="Where the customer comes back to")


class AttemptOut(BaseModel):
    id: int
    invoice_id: int
    kind: str
    status: str
    method_type: str | None
    amount: str
    currency: str
    confirmation_url: str | None
    failure_reason: str | None
    payment_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, a: Any) -> AttemptOut:
        return cls(
            id=a.id,
            invoice_id=a.invoice_id,
            kind=a.kind,
            status=a.status,
            method_type=a.method_type,
            amount=amount(a.amount),
            currency=a.currency,
            confirmation_url=a.confirmation_url,
            failure_reason=a.failure_reason,
            payment_id=a.payment_id,
            created_at=a.created_at,
        )


class MethodOut(BaseModel):
    id: int
    type: str
    title: str
    status: str
    consent_text: str
    consent_at: datetime
    consent_by: str
    removed_at: datetime | None

    @classmethod
    def of(cls, m: Any) -> MethodOut:
        return cls(
            id=m.id,
            type=m.type,
            title=m.title,
            status=m.status,
            consent_text=m.consent_text,
            consent_at=m.consent_at,
            consent_by=m.consent_by,
            removed_at=m.removed_at,
        )


def _gateway(ctx: Context) -> PaymentGateway:
    gateway = ctx.ports.gateway
    if gateway is None:
        raise DomainError("unknown_gateway", gateway=ctx.settings.gateway, allowed=[])
    return gateway


@router.get(
    "/payments/consent", response_model=ConsentOut, responses=errors(key=False, found=False)
)
def consent(ctx: ContextDep, lang: str | None = None) -> dict[str, Any]:
    """The text a customer accepts to keep a payment method for autopay."""
    language = lang or ctx.settings.language
    return {"language": language, "text": consent_text(language)}


@router.post(
    "/invoices/{invoice_id}/checkout",
    status_code=201,
    response_model=AttemptOut,
    responses=errors(
        "consent_by_customer_only",
        "consent_required",
        "invalid_method_type",
        "invoice_not_payable",
        "method_not_savable",
        "payment_attempt_not_found",
        "payment_in_progress",
        "unknown_gateway",
    ),
)
def checkout(
    invoice_id: Id, body: CheckoutIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Pay an invoice through the gateway: send the customer to `confirmation_url`; the
    invoice is paid when the gateway confirms (webhook, or the reconciliation task)."""
    found, _lines = billing.get_invoice(db, invoice_id)
    if not who.may_see(found.account_id):
        raise not_found("invoice", invoice_id)
    if body.method_type not in METHOD_TYPES:
        raise DomainError("invalid_method_type", method_type=body.method_type, allowed=METHOD_TYPES)
    attempt = start_checkout(
        db,
        _gateway(ctx),
        invoice_id=invoice_id,
        method_type=body.method_type,
        save_method=body.save_method,
        consent_accepted=body.consent_accepted,
        return_url=body.return_url or f"{ctx.settings.public_url}/api/v1/invoices/{invoice_id}",
        actor=who.actor,
        clock=ctx.clock,
        lang=ctx.settings.language,
        two_stage=ctx.settings.gateway_two_stage,
    )
    return AttemptOut.of(attempt)


@router.get("/invoices/{invoice_id}/payments", response_model=list[PaymentOut], responses=errors())
def invoice_payments(invoice_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """The money received for an invoice (card, wallet, SBP, bank transfer, manual)."""
    found, received = received_for_invoice(db, invoice_id=invoice_id)
    if not who.may_see(found.account_id):
        raise not_found("invoice", invoice_id)
    return [PaymentOut.of(p) for p in received]


@router.get(
    "/payment-attempts/{attempt_id}",
    response_model=AttemptOut,
    responses=errors("payment_attempt_not_found"),
)
def attempt(attempt_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    found = get_attempt(db, attempt_id)
    if not who.may_see(found.account_id):
        raise DomainError("payment_attempt_not_found", attempt_id=attempt_id)
    return AttemptOut.of(found)


@router.post(
    "/gateway/{name}/notifications", response_model=NotificationOut, include_in_schema=True
)
async def notification(name: str, request: Request) -> dict[str, str]:
    """The gateway's webhook (no API key: the adapter checks where it comes from, and the
    payment is fetched from the gateway before anything is recorded)."""
    ctx: Context = request.app.state.context
    gateway = _gateway(ctx)
    if name != gateway.name:
        raise DomainError("unknown_gateway", gateway=name, allowed=[gateway.name])
    body = await request.body()
    remote = request.client.host if request.client else None
    db = ctx.session()
    try:
        from starlette.concurrency import run_in_threadpool

        outcome = await run_in_threadpool(
            handle_notification,
            db,
            gateway,
            body=body,
            remote_addr=remote,
            headers=dict(request.headers),
            clock=ctx.clock,
        )
    finally:
        db.close()
    return {"status": "ok", "outcome": outcome}


@router.get(
    "/accounts/{account_id}/payment-methods", response_model=list[MethodOut], responses=errors()
)
def methods(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """Saved methods, with the consent each was kept under (removed ones too)."""
    guard_account(who, account_id)
    return [MethodOut.of(m) for m in list_methods(db, account_id)]


@router.delete(
    "/accounts/{account_id}/payment-methods/{method_id}",
    response_model=MethodOut,
    responses=errors("payment_method_not_found"),
)
def remove(
    account_id: Id, method_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Remove a saved method: it is never charged again; with no method left, autopay
    turns off."""
    guard_account(who, account_id)
    return MethodOut.of(
        remove_method(
            db, account_id=account_id, method_id=method_id, actor=who.actor, clock=ctx.clock
        )
    )
