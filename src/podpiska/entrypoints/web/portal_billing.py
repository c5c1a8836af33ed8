"""The customer's billing pages in the portal: renew (periods and prices side by side, then
pay at the gateway by card, SBP or YooMoney — those the gateway takes —, by a saved method or
by bank transfer with the invoice's PDF),
change the tariff or the users (the exact preview, then confirm), autopay and saved cards,
cancellation at the end of the term, and the documents and payments.

Every route calls the same services as the API (`billing`, `changes`, `payments`,
`documents`); nothing here decides a price, a date or whether something is allowed. The
account's administrator sees its own account only (another's answers 404); the vendor's
people may open any account's pages. What changes something takes two clicks where the
2026 rules ask for it (autopay, removing a card, cancelling): the first shows what will
happen, the second (a form carrying `confirmed`) does it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.accounts import accounts
from podpiska.accounts import views as account_views
from podpiska.accounts.people import Person
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import not_found
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.documents import RendererMissing, fetch_pdf
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.invoicing.document_lookup import account_documents
from podpiska.invoicing.documents import ACT, CREDIT_NOTE, INVOICE
from podpiska.invoicing.documents import document_filename as pdf_filename
from podpiska.payments import payments
from podpiska.payments.bank.statements import expected_activation
from podpiska.ports import PaymentGateway
from podpiska.subscriptions import billing, changes

router = APIRouter(prefix="/portal")

DOCUMENT_KINDS = {
    INVOICE: N_("Invoice"),
    ACT: N_("Act"),
    CREDIT_NOTE: N_("Credit note"),
}
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
CONFIRMATIONS = {
    "autopay-on": N_("Turn autopay on? The renewal invoice will be charged to your saved card."),
    "autopay-off": N_(
        "Turn autopay off? Nothing will be charged; you will renew by paying the invoice."
    ),
    "cancel": N_(
        "Cancel the subscription at the end of the paid term? It works until then, nothing "
        "is charged after it, and autopay turns off."
    ),
    "undo-cancel": N_("Keep the subscription? It will renew as before."),
    "remove": N_(
        "Remove this card? It will never be charged again; with no card left, autopay turns off."
    ),
}


def _gateway(ctx: Context) -> PaymentGateway:
    gateway = ctx.ports.gateway
    if gateway is None:
        raise DomainError("unknown_gateway", gateway=ctx.settings.gateway, allowed=[])
    return gateway


def _error(request: Request, error: DomainError) -> str:
    return error.message(current_language())


def _own_invoice(db: DbDep, account_id: int, invoice_id: int) -> Any:
    """The invoice with its lines, if it is this account's (else 404, as if it did not
    exist)."""
    invoice, lines = billing.get_invoice(db, invoice_id)
    if invoice.account_id != account_id:
        raise not_found("invoice", invoice_id)
    return invoice, lines


# --- renew -----------------------------------------------------------------------------------


def _renew_page(
    request: Request,
    db: DbDep,
    ctx: Context,
    account_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    chosen: int | None = None,
) -> HTMLResponse:
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    offers = None
    problem = None
    try:
        offers = billing.renewal_offers(db, account_id=account_id, clock=ctx.clock)
    except DomainError as exc:  # no subscription at all
        problem = _error(request, exc)
    return render(
        request,
        "portal/renew.html",
        {
            "overview": overview,
            "offers": offers,
            "problem": problem,
            "error": error,
            "chosen": chosen or (offers.current_months if offers else None),
        },
        status_code=status_code,
    )


@router.get("/{account_id}/renew", include_in_schema=False)
def renew_page(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    return _renew_page(request, db, ctx, account_id)


@router.post("/{account_id}/renew", include_in_schema=False)
def renew(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    months: str = Form(""),
) -> Response:
    guard_account(who, account_id)
    if not months.strip().isdigit():
        return _renew_page(
            request, db, ctx, account_id, error=_("Choose a period."), status_code=422
        )
    try:
        invoice = billing.renew_subscription(
            db, account_id=account_id, months=int(months), actor=who.actor, clock=ctx.clock
        )
    except DomainError as exc:
        if http_status(exc) == 404:
            raise
        return _renew_page(
            request,
            db,
            ctx,
            account_id,
            error=_error(request, exc),
            status_code=http_status(exc),
            chosen=int(months),
        )
    return RedirectResponse(f"/portal/{account_id}/invoices/{invoice.id}/pay", status_code=303)


# --- paying an invoice ---------------------------------------------------------------------


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
    invoice, lines = _own_invoice(db, account_id, invoice_id)
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    methods = [m for m in payments.list_methods(db, account_id) if m.status == "active"]
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
            "paid": account_views.invoice_payments(db, invoice_id=invoice.id),
            "methods": methods,
            "cards_only": all(m.type == "bank_card" for m in methods),
            "options": gateway_options(ctx.ports.gateway),
            "consent": payments.consent_text(current_language()),
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
    _own_invoice(db, account_id, invoice_id)
    base = ctx.settings.public_url.rstrip("/")
    try:
        attempt = payments.start_checkout(
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
        message = _error(request, exc)
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
    _own_invoice(db, account_id, invoice_id)
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
        payments.pay_with_saved_method(
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
            error=_error(request, exc),
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
    state = payments.refresh_invoice_payment(
        db, _gateway(ctx), invoice_id=invoice_id, account_id=account_id, clock=ctx.clock
    )
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    attempt = state.attempt
    waiting = (
        state.invoice.status == "issued"
        and attempt is not None
        and attempt.status in (payments.OPEN)
    )
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


# --- documents -------------------------------------------------------------------------------


def _pdf(ctx: Context, db: DbDep, account_id: int, kind: str, source_id: int) -> Response:
    try:
        document, pdf = fetch_pdf(ctx, db, kind=kind, source_id=source_id, account_id=account_id)
    except RendererMissing:
        raise HTTPException(503) from None
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf_filename(document)}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/{account_id}/invoices/{invoice_id}/invoice.pdf", include_in_schema=False)
def invoice_pdf(
    account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, INVOICE, invoice_id)


@router.get("/{account_id}/invoices/{invoice_id}/act.pdf", include_in_schema=False)
def act_pdf(
    account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, ACT, invoice_id)


@router.get("/{account_id}/credit-notes/{note_id}/credit-note.pdf", include_in_schema=False)
def credit_note_pdf(
    account_id: int, note_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, CREDIT_NOTE, note_id)


@router.get("/{account_id}/documents", include_in_schema=False)
def documents(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    return render(
        request,
        "portal/documents.html",
        {
            "overview": overview,
            "documents": account_documents(db, account_id=account_id),
            "payments": account_views.account_payments(db, account_id=account_id),
            "kinds": {kind: _(label) for kind, label in DOCUMENT_KINDS.items()},
        },
    )


# --- change the tariff or the users ---------------------------------------------------------


def _change_params(kind: str, value: str) -> dict[str, Any]:
    """The form's value as `preview_change` takes it (bad input: a clear message)."""
    if kind == "seats":
        text = value.strip()
        if not text.isdigit() or int(text) < 1:
            raise DomainError(
                "invalid_field",
                field="seats",
                problem_ru="укажите целое число пользователей, не меньше 1",
                problem_en="enter a whole number of users, at least 1",
            )
        return {"seats": int(text)}
    if kind == "plan":
        return {"plan": value.strip()}
    raise DomainError(
        "invalid_field",
        field="kind",
        problem_ru="выберите, что изменить: пользователей или тариф",
        problem_en="choose what to change: users or the tariff",
    )


def _change_page(
    request: Request,
    db: DbDep,
    ctx: Context,
    account_id: int,
    *,
    kind: str | None = None,
    value: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    options = changes.change_options(db, account_id=account_id, clock=ctx.clock)
    preview = None
    if kind and options.problem is None and error is None:
        try:
            preview = changes.preview_change(
                db,
                subscription_id=options.subscription.id,
                kind=kind,
                params=_change_params(kind, value),
                secret=ctx.settings.secret_key,
                clock=ctx.clock,
            )
        except DomainError as exc:
            if exc.code == "not_found":
                raise
            error, status_code = _error(request, exc), http_status(exc)
    elif kind and error is not None:  # stale: the fresh numbers beside the message
        try:
            preview = changes.preview_change(
                db,
                subscription_id=options.subscription.id,
                kind=kind,
                params=_change_params(kind, value),
                secret=ctx.settings.secret_key,
                clock=ctx.clock,
            )
        except DomainError:
            preview = None
    paid_through = None
    if preview is not None:  # the last day inside the new term
        paid_through = preview.change.after.ends_on - timedelta(days=1)
    return render(
        request,
        "portal/change.html",
        {
            "options": options,
            "kind": kind,
            "value": value,
            "preview": preview,
            "new_paid_through": paid_through,
            "error": error,
            "problem": _error(request, options.problem) if options.problem else None,
        },
        status_code=status_code,
    )


@router.get("/{account_id}/change", include_in_schema=False)
def change_page(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    kind: str | None = None,
    seats: str = "",
    plan: str = "",
) -> HTMLResponse:
    """The form; with `kind` (and `seats` or `plan`), the exact preview to confirm."""
    guard_account(who, account_id)
    value = seats if kind == "seats" else plan
    return _change_page(request, db, ctx, account_id, kind=kind or None, value=value)


@router.post("/{account_id}/change", include_in_schema=False)
def change(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    token: str = Form(""),
    kind: str = Form(""),
    value: str = Form(""),
) -> Response:
    """Commit the previewed change: its invoice to pay, or the change applied (or scheduled
    for the next term). A preview that no longer holds answers 409 with the new numbers."""
    guard_account(who, account_id)
    options = changes.change_options(db, account_id=account_id, clock=ctx.clock)
    try:
        if not token:
            raise DomainError("change_token_invalid")
        done = changes.commit_change(
            db,
            subscription_id=options.subscription.id,
            token=token,
            secret=ctx.settings.secret_key,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        return _change_page(
            request,
            db,
            ctx,
            account_id,
            kind=kind or None,
            value=value,
            error=_error(request, exc),
            status_code=http_status(exc),
        )
    if done.invoice is not None:
        flash(request, _("The change is ready: pay its invoice to apply it."), "info")
        return RedirectResponse(
            f"/portal/{account_id}/invoices/{done.invoice.id}/pay", status_code=303
        )
    if done.change.status == "scheduled":
        flash(request, _("The change will take effect at the start of the next term."), "success")
    else:
        flash(request, _("The change is applied."), "success")
    return RedirectResponse(f"/portal/{account_id}/change", status_code=303)


# --- autopay, saved cards, cancellation -------------------------------------------------------


def _methods_page(
    request: Request,
    db: DbDep,
    ctx: Context,
    account_id: int,
    *,
    confirm: str | None = None,
    method_id: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    methods = payments.list_methods(db, account_id)
    confirming = None
    if confirm in CONFIRMATIONS:
        target = next((m for m in methods if m.id == method_id), None)
        if confirm != "remove" or (target is not None and target.status == "active"):
            confirming = {
                "action": confirm,
                "text": _(CONFIRMATIONS[confirm]),
                "method": target,
            }
    return render(
        request,
        "portal/payment_methods.html",
        {
            "overview": overview,
            "subscription": overview.subscription,
            "methods": methods,
            "active_methods": [m for m in methods if m.status == "active"],
            "consent": payments.consent_text(current_language()),
            "confirming": confirming,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/{account_id}/payment-methods", include_in_schema=False)
def payment_methods(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    confirm: str | None = None,
    method: int | None = None,
) -> HTMLResponse:
    """Saved cards with the consent each was kept under, autopay, cancellation. With
    `confirm` (the first click), the confirmation of that action (the second click)."""
    guard_account(who, account_id)
    return _methods_page(request, db, ctx, account_id, confirm=confirm, method_id=method)


def _unconfirmed(account_id: int, action: str, method_id: int | None = None) -> Response:
    """A POST without the confirmation's field changes nothing: back to the confirmation."""
    query = f"?confirm={action}" + (f"&method={method_id}" if method_id is not None else "")
    return RedirectResponse(f"/portal/{account_id}/payment-methods{query}", status_code=303)


def _settings_changed(
    request: Request, db: DbDep, ctx: Context, account_id: int, work: Any, message: str
) -> Response:
    try:
        work()
    except DomainError as exc:
        if http_status(exc) == 404:
            raise
        return _methods_page(
            request, db, ctx, account_id, error=_error(request, exc), status_code=http_status(exc)
        )
    flash(request, message, "success")
    return RedirectResponse(f"/portal/{account_id}/payment-methods", status_code=303)


@router.post("/{account_id}/autopay", include_in_schema=False)
def autopay(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    enabled: str = Form(""),
    confirmed: str = Form(""),
) -> Response:
    guard_account(who, account_id)
    on = enabled == "yes"
    if confirmed != "yes":
        return _unconfirmed(account_id, "autopay-on" if on else "autopay-off")
    return _settings_changed(
        request,
        db,
        ctx,
        account_id,
        lambda: billing.set_autopay(
            db, account_id=account_id, enabled=on, actor=who.actor, clock=ctx.clock
        ),
        _("Autopay is on.") if on else _("Autopay is off."),
    )


@router.post("/{account_id}/email-language", include_in_schema=False)
def email_language(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    language: str = Form(""),
) -> Response:
    """The language of the e-mails to the account (one click: nothing is lost)."""
    guard_account(who, account_id)
    return _settings_changed(
        request,
        db,
        ctx,
        account_id,
        lambda: accounts.set_account_language(
            db, account_id=account_id, language=language, actor=who.actor, clock=ctx.clock
        ),
        _("The e-mail language is saved."),
    )


@router.post("/{account_id}/payment-methods/{method_id}/remove", include_in_schema=False)
def remove_method(
    request: Request,
    account_id: int,
    method_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    confirmed: str = Form(""),
) -> Response:
    guard_account(who, account_id)
    if confirmed != "yes":
        return _unconfirmed(account_id, "remove", method_id)
    return _settings_changed(
        request,
        db,
        ctx,
        account_id,
        lambda: payments.remove_method(
            db, account_id=account_id, method_id=method_id, actor=who.actor, clock=ctx.clock
        ),
        _("The card is removed: it will not be charged again."),
    )


@router.post("/{account_id}/cancel", include_in_schema=False)
def cancel(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    undo: str = Form(""),
    confirmed: str = Form(""),
) -> Response:
    guard_account(who, account_id)
    back = undo == "yes"
    if confirmed != "yes":
        return _unconfirmed(account_id, "undo-cancel" if back else "cancel")
    return _settings_changed(
        request,
        db,
        ctx,
        account_id,
        lambda: billing.cancel_subscription(
            db, account_id=account_id, undo=back, actor=who.actor, clock=ctx.clock
        ),
        _("The subscription will renew as before.")
        if back
        else _("The subscription is cancelled at the end of the paid term."),
    )
