"""The portal's payment settings (`/portal/{account}/payment-methods`): autopay, saved cards,
the e-mails' language, the company's requisites, and cancellation at the end of the term.
What changes something takes two clicks where the 2026 rules ask for it (autopay, removing a
card, cancelling): the first shows what will happen, the second (a form carrying
`confirmed`) does it. The language and the requisites take one click: nothing is lost."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.accounts import accounts
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web import requisites as requisites_form
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.portal.common import error_message
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.payments.autopay import set_autopay
from podpiska.payments.methods import consent_text, list_methods
from podpiska.payments.methods import remove_method as remove_saved_method
from podpiska.subscriptions import billing

router = APIRouter(prefix="/portal")

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
    requisites: requisites_form.RequisitesForm | None = None,
) -> HTMLResponse:
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    methods = list_methods(db, account_id)
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
            "consent": consent_text(current_language()),
            "confirming": confirming,
            "error": error,
            "requisites": requisites or requisites_form.shown(overview.account),
            "requisites_action": f"/portal/{account_id}/requisites",
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
            request,
            db,
            ctx,
            account_id,
            error=error_message(request, exc),
            status_code=http_status(exc),
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
        lambda: set_autopay(
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


@router.post("/{account_id}/requisites", include_in_schema=False)
def requisites(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    kpp: str = Form(""),
    legal_address: str = Form(""),
    ogrn: str = Form(""),
    state_contract_id: str = Form(""),
    edo_id: str = Form(""),
    closing_form: str | None = Form(None),
) -> Response:
    """The company's КПП, legal address, ОГРН/ОГРНИП, state contract id, EDO participant id
    and closing form (one click, as the language): `accounts.change_account`, the API's
    PATCH. A refused value: the page again (422) with the values given and the reason
    under the field."""
    guard_account(who, account_id)
    refused = requisites_form.change(
        db,
        ctx,
        account_id=account_id,
        given={
            "kpp": kpp,
            "legal_address": legal_address,
            "ogrn": ogrn,
            "state_contract_id": state_contract_id,
            "edo_id": edo_id,
            # the month's closing document: upd or act (not sent: left as it is)
            **({} if closing_form is None else {"closing_form": closing_form}),
        },
        actor=who.actor,
    )
    if refused is not None:
        return _methods_page(request, db, ctx, account_id, status_code=422, requisites=refused)
    flash(request, _("The requisites are saved."), "success")
    return RedirectResponse(f"/portal/{account_id}/payment-methods#requisites", status_code=303)


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
        lambda: remove_saved_method(
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
