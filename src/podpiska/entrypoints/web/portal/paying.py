"""Paying an invoice in the portal (`/portal/{account}/invoices/{invoice}/pay`): at the gateway
by card, SBP or YooMoney (those the gateway takes), by a saved method, or by bank transfer
with the invoice's PDF; then the payment's result."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.accounts.people import Person
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.portal.common import error_message, own_invoice
from podpiska.entrypoints.web.rendering import render
from podpiska.payments import history as account_views
from podpiska.payments.bank.review import expected_activation
from podpiska.payments.checkout import (
    pay_with_saved_method,
    refresh_invoice_payment,
    start_checkout,
)
from podpiska.payments.common import OPEN
from podpiska.payments.methods import consent_text, list_methods
from podpiska.ports import PaymentGateway

router = APIRouter(prefix="/portal")

ATTEMPT_STATUSES = {
    "created": N_("Sent to the payment provider"),
    "pending": N_("Waiting for confirmation"),
    "succeeded": N_("Paid"),
    "failed": N_("Did not go through"),
}


@dataclass(frozen=True, slots=True)
class MethodWords:
    """How the payment page speaks of one way to pay at the gateway (message ids)."""

    key: str  # for the page's test ids: pay-card, pay-sbp, pay-yoo_money
    name: str
    title: str
    hint: str
    button: str  # with %(amount)s
    save: str  # the label of the "keep it for autopay" box


# The ways to pay at the gateway, in the order the payment page offers them. The page shows
# those the configured gateway takes (`PaymentGateway.method_types`) and the box that keeps
# one for autopay only where the gateway can keep it (`savable_method_types`).
GATEWAY_METHODS = {
    "bank_card": MethodWords(
        key="card",
        name=N_("Bank card"),
        title=N_("By card"),
        hint=N_("You will enter the card on the payment provider's page and come back here."),
        button=N_("Pay %(amount)s by card"),
        save=N_("Save the card for autopay: I accept the terms below"),
    ),
    "sbp": MethodWords(
        key="sbp",
        name=N_("SBP"),
        title=N_("By SBP"),
        hint=N_(
            "The Faster Payments System: on the payment provider's page scan the QR code "
            "with your bank's app (or open the app from a phone), confirm the payment there "
            "and come back here."
        ),
        button=N_("Pay %(amount)s by SBP"),
        save=N_("Save SBP for autopay: I accept the terms below"),
    ),
    "yoo_money": MethodWords(
        key="yoo_money",
        name=N_("YooMoney"),
        title=N_("By YooMoney"),
        hint=N_(
            "You will confirm the payment in your YooMoney wallet on the payment provider's "
            "page and come back here."
        ),
        button=N_("Pay %(amount)s with YooMoney"),
        save=N_("Save the YooMoney wallet for autopay: I accept the terms below"),
    ),
}


@dataclass(frozen=True, slots=True)
class GatewayOption:
    """One way to pay at the gateway, as the payment page offers it."""

    method_type: str
    words: MethodWords
    savable: bool


def gateway_options(gateway: PaymentGateway | None) -> list[GatewayOption]:
    """What the configured gateway takes, in the page's order (none without a gateway)."""
    if gateway is None:
        return []
    return [
        GatewayOption(method_type, words, method_type in gateway.savable_method_types)
        for method_type, words in GATEWAY_METHODS.items()
        if method_type in gateway.method_types
    ]


# The two-click actions of the payment settings page: what the confirmation says.
def _gateway(ctx: Context) -> PaymentGateway:
    gateway = ctx.ports.gateway
    if gateway is None:
        raise DomainError("unknown_gateway", gateway=ctx.settings.gateway, allowed=[])
    return gateway


def _pay_page(
    request: Request,
    db: DbDep,
    ctx: Context,
    account_id: int,
    invoice_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    invoice, lines = own_invoice(db, account_id, invoice_id)
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    methods = [m for m in list_methods(db, account_id) if m.status == "active"]
    first, last = expected_activation(overview.today)
    return render(
        request,
        "portal/pay.html",
        {
            "overview": overview,
            "invoice": invoice,
            "lines": lines,
            "due": invoice.total - invoice.amount_paid,
            # between the total and what is left to pay: the credit used, earlier payments
            "paid": account_views.invoice_payments(db, invoice_id=invoice.id)[1],
            "methods": methods,
            "cards_only": all(m.type == "bank_card" for m in methods),
            "options": gateway_options(ctx.ports.gateway),
            "consent": consent_text(current_language()),
            "activation": (first, last),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/{account_id}/invoices/{invoice_id}/pay", include_in_schema=False)
def pay_page(
    request: Request, account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    return _pay_page(request, db, ctx, account_id, invoice_id)


def _checkout(
    request: Request,
    db: DbDep,
    ctx: Context,
    who: Person,
    account_id: int,
    invoice_id: int,
    *,
    method_type: str,
    save: bool,
) -> Response:
    """To the gateway's checkout page (card form, SBP QR code, YooMoney wallet); back to the
    result page. The method type and whether it may be saved are the service's to check."""
    own_invoice(db, account_id, invoice_id)
    base = ctx.settings.public_url.rstrip("/")
    try:
        attempt = start_checkout(
            db,
            _gateway(ctx),
            invoice_id=invoice_id,
            method_type=method_type,
            save_method=save,
            consent_accepted=save,  # the box says the consent text shown beside it
            return_url=f"{base}/portal/{account_id}/invoices/{invoice_id}/result",
            actor=who.actor,
            clock=ctx.clock,
            lang=current_language(),
            two_stage=ctx.settings.gateway_two_stage,
        )
    except DomainError as exc:
        if http_status(exc) == 404:
            raise
        message = error_message(request, exc)
        if exc.code == "invalid_method_type":  # the service's list of codes is for the API
            message = _("This way to pay is not offered. Choose one of those on this page.")
        return _pay_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            error=message,
            status_code=http_status(exc),
        )
    if attempt.confirmation_url:
        return RedirectResponse(attempt.confirmation_url, status_code=303)
    return RedirectResponse(f"/portal/{account_id}/invoices/{invoice_id}/result", status_code=303)


@router.post("/{account_id}/invoices/{invoice_id}/pay/gateway", include_in_schema=False)
def pay_at_the_gateway(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    method_type: str = Form(""),
    save_method: str = Form(""),
) -> Response:
    """By card, SBP or YooMoney at the gateway (`method_type`: bank_card, sbp, yoo_money)."""
    guard_account(who, account_id)
    return _checkout(
        request,
        db,
        ctx,
        who,
        account_id,
        invoice_id,
        method_type=method_type.strip(),
        save=save_method == "yes",
    )


@router.post("/{account_id}/invoices/{invoice_id}/pay/card", include_in_schema=False)
def pay_by_card(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    save_method: str = Form(""),
) -> Response:
    """The card's earlier address, kept working: `pay/gateway` with `bank_card`."""
    guard_account(who, account_id)
    return _checkout(
        request,
        db,
        ctx,
        who,
        account_id,
        invoice_id,
        method_type="bank_card",
        save=save_method == "yes",
    )


@router.post("/{account_id}/invoices/{invoice_id}/pay/saved", include_in_schema=False)
def pay_by_saved_card(
    request: Request,
    account_id: int,
    invoice_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    method_id: str = Form(""),
) -> Response:
    guard_account(who, account_id)
    own_invoice(db, account_id, invoice_id)
    if not method_id.isdigit():
        return _pay_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            error=_("Choose a saved card."),
            status_code=422,
        )
    try:
        pay_with_saved_method(
            db,
            _gateway(ctx),
            invoice_id=invoice_id,
            method_id=int(method_id),
            account_id=account_id,
            actor=who.actor,
            clock=ctx.clock,
            two_stage=ctx.settings.gateway_two_stage,
        )
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        return _pay_page(
            request,
            db,
            ctx,
            account_id,
            invoice_id,
            error=error_message(request, exc),
            status_code=http_status(exc),
        )
    return RedirectResponse(f"/portal/{account_id}/invoices/{invoice_id}/result", status_code=303)


@router.get("/{account_id}/invoices/{invoice_id}/result", include_in_schema=False)
def payment_result(
    request: Request, account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    """Back from the gateway: its answer is fetched now (the webhook may come later), and
    the page shows the new paid-through date, or waits and looks again."""
    guard_account(who, account_id)
    state = refresh_invoice_payment(
        db, _gateway(ctx), invoice_id=invoice_id, account_id=account_id, clock=ctx.clock
    )
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    attempt = state.attempt
    waiting = state.invoice.status == "issued" and attempt is not None and attempt.status in (OPEN)
    return render(
        request,
        "portal/pay_result.html",
        {
            "overview": overview,
            "invoice": state.invoice,
            "attempt": attempt,
            "attempt_status": _(ATTEMPT_STATUSES.get(attempt.status, attempt.status))
            if attempt
            else None,
            "method_name": _(GATEWAY_METHODS[attempt.method_type].name)
            if attempt and attempt.status == "succeeded" and attempt.method_type in GATEWAY_METHODS
            else None,
            "waiting": waiting,
        },
        headers={"Refresh": "2"} if waiting else None,
    )
