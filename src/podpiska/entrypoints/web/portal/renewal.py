"""The portal's renewal (`/portal/{account}/renew`): the periods and their prices side by side;
renewing issues the invoice and goes to its payment page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.i18n import _
from podpiska.entrypoints.web.portal.common import error_message
from podpiska.entrypoints.web.rendering import render
from podpiska.subscriptions import billing

router = APIRouter(prefix="/portal")


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
        problem = error_message(request, exc)
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
            error=error_message(request, exc),
            status_code=http_status(exc),
            chosen=int(months),
        )
    return RedirectResponse(f"/portal/{account_id}/invoices/{invoice.id}/pay", status_code=303)
