"""The back office's actions on one open invoice of an account's page
(`/office/accounts/{account_id}/invoices/{invoice_id}/...`), through the same use-cases as
the API's `POST /api/v1/invoices/{id}/void|mark-paid|resend|pay`:

- «Аннулировать»: a reason, then a page that says what will happen (the amount, what
  happens to the subscription) and asks to confirm;
- «Отметить оплаченным»: the method, the day paid, the payer's document number and the
  amount (by default what is due), then a preview line to confirm;
- «Отправить повторно»: at once (to the account's e-mail or another address);
- «Списать с сохранённой карты»: at once.

Resending moves no money: both vendor roles may. Voiding, marking paid and charging are
the vendor_admin's (403 to an operator). The person is the actor; a refusal shows its
message on the page (422/409), never a 500.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import AmountFormatError, parse_typed_money
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import (
    ContextDep,
    DbDep,
    VendorAdminDep,
    VendorDep,
    http_status,
)
from podpiska.entrypoints.web.formatting import money
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.notifications.invoice_resend import resend_invoice
from podpiska.payments.invoice_charge import charge_saved_method
from podpiska.subscriptions.invoice_actions import (
    MARK_METHODS,
    mark_invoice_paid,
    void_issued_invoice,
    void_preview,
)

router = APIRouter(prefix="/office")

EFFECTS = {
    "order_cancelled": N_(
        "The order is cancelled: the subscription waiting for this invoice will not start."
    ),
    "renewal_dropped": N_(
        "The renewal is dropped and autopay turned off: the subscription ends with its "
        "paid term unless renewed by hand."
    ),
    "change_cancelled": N_("The pending change of the subscription is cancelled."),
    "none": N_("The subscription is not changed."),
}
METHOD_LABELS = {
    "bank_transfer": N_("Bank transfer"),
    "cash": N_("Cash"),
    "other": N_("Other"),
}


def _back(account_id: int) -> RedirectResponse:
    return RedirectResponse(f"/office/accounts/{account_id}#invoice-actions", status_code=303)


def _confirm_page(
    request: Request,
    db: Session,
    ctx: Context,
    account_id: int,
    invoice_id: int,
    *,
    action: str,
    values: dict[str, Any],
    problem: str | None = None,
    status_code: int = 200,
    shown_amount: Decimal | None = None,
    paid_day: date | None = None,
) -> Response:
    invoice, effect = void_preview(db, invoice_id=invoice_id, account_id=account_id)
    return render(
        request,
        "office/invoice_action_confirm.html",
        {
            "account_id": account_id,
            "invoice": invoice,
            "due": invoice.total - invoice.amount_paid,
            "action": action,
            "effect": _(EFFECTS[effect]),
            "values": values,
            "problem": problem,
            "methods": METHOD_LABELS,
            "shown_amount": shown_amount,
            "paid_day": paid_day,
        },
        status_code=status_code,
    )


@router.post("/accounts/{account_id}/invoices/{invoice_id}/void", include_in_schema=False)
def void(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Without `confirm`: what voiding will do, to confirm. With it: voided."""
    values = {"reason": reason[:600]}
    page: dict[str, Any] = {"action": "void", "values": values}
    if not reason.strip():
        problem = DomainError("void_reason_required", max=500)
        return _confirm_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            **page,
            problem=problem.message(current_language()),
            status_code=422,
        )
    if confirm != "yes":
        return _confirm_page(request, db, ctx, account_id, invoice_id, **page)
    try:
        result = void_issued_invoice(
            db,
            invoice_id=invoice_id,
            reason=reason,
            account_id=account_id,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        return _confirm_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            **page,
            problem=error.message(current_language()),
            status_code=http_status(error),
        )
    flash(
        request,
        _("Invoice {number} is void.").format(number=result.invoice.number)
        + " "
        + _(EFFECTS[result.effect]),
        "success",
    )
    return _back(account_id)


def _mark_problem(method: str, paid_on: str, amount: str) -> tuple[str | None, date, Decimal]:
    """The form's values read (a problem in words, or none)."""
    day = date.min
    value = Decimal(0)
    if method not in MARK_METHODS:
        return _("Choose how the money came."), day, value
    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        return _("The day paid must be a date (YYYY-MM-DD)."), day, value
    if amount.strip():
        try:
            value = parse_typed_money(amount)  # "1 500,00" as the pages print it
        except AmountFormatError:
            return _("The amount must be a sum of money, like 1990.00."), day, value
        if value <= 0:
            return _("The amount must be more than zero."), day, value
    return None, day, value


@router.post("/accounts/{account_id}/invoices/{invoice_id}/mark-paid", include_in_schema=False)
def mark_paid(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    method: Annotated[str, Form()] = "bank_transfer",
    paid_on: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Without `confirm`: the payment to register, in one line, to confirm. With it: the
    payment registered and settled."""
    values = {
        "method": method[:40],
        "paid_on": paid_on[:40],
        "reference": reference[:200],
        "amount": amount[:40],
    }
    page: dict[str, Any] = {"action": "mark_paid", "values": values}
    problem, day, value = _mark_problem(method, paid_on, amount)
    if problem is not None:
        return _confirm_page(
            request, db, ctx, account_id, invoice_id, **page, problem=problem, status_code=422
        )
    if confirm != "yes":
        return _confirm_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            **page,
            shown_amount=value if amount.strip() else None,
            paid_day=day,
        )
    try:
        payment, invoice, _sub, _replayed = mark_invoice_paid(
            db,
            invoice_id=invoice_id,
            method=method,
            paid_on=day,
            reference=reference,
            amount=value if amount.strip() else None,
            account_id=account_id,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        return _confirm_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            **page,
            problem=error.message(current_language()),
            status_code=http_status(error),
        )
    flash(
        request,
        _("A payment of {amount} is registered on invoice {number}.").format(
            amount=money(payment.amount, invoice.currency), number=invoice.number
        ),
        "success",
    )
    return _back(account_id)


def _problem(request: Request, error: DomainError, account_id: int) -> Response:
    if error.code == "not_found":
        raise error
    flash(request, error.message(current_language()), "error")
    return _back(account_id)


@router.post("/accounts/{account_id}/invoices/{invoice_id}/resend", include_in_schema=False)
def resend(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    """The invoice's e-mail sent again (money-neutral: an operator may)."""
    try:
        delivery = resend_invoice(
            db,
            invoice_id=invoice_id,
            email=email[:320] or None,
            account_id=account_id,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        return _problem(request, error, account_id)
    flash(
        request,
        _("The invoice's e-mail will be sent again to {email}.").format(email=delivery.target),
        "success",
    )
    return _back(account_id)


@router.post("/accounts/{account_id}/invoices/{invoice_id}/charge", include_in_schema=False)
def charge(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
) -> Response:
    """What is due charged to the account's saved card now."""
    gateway = ctx.ports.gateway
    try:
        if gateway is None:
            raise DomainError("unknown_gateway", gateway=ctx.settings.gateway, allowed=[])
        attempt = charge_saved_method(
            db,
            gateway,
            invoice_id=invoice_id,
            account_id=account_id,
            actor=who.actor,
            clock=ctx.clock,
            two_stage=ctx.settings.gateway_two_stage,
        )
    except DomainError as error:
        return _problem(request, error, account_id)
    if attempt.status == "failed":
        flash(
            request,
            _("The charge of {amount} was declined: {reason}.").format(
                amount=money(attempt.amount, attempt.currency), reason=attempt.failure_reason
            ),
            "error",
        )
    else:
        flash(
            request,
            _("The charge of {amount} to the saved card is sent: {status}.").format(
                amount=money(attempt.amount, attempt.currency), status=attempt.status
            ),
            "success",
        )
    return _back(account_id)
