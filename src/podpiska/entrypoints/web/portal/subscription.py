"""The customer's portal (`account_admin`; the vendor's people may look too): every URL
carries the account's id, and another account's page answers 404 (`guard_account`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account
from podpiska.entrypoints.web.rendering import render

router = APIRouter(prefix="/portal")


@router.get("", include_in_schema=False)
def portal_home(who: PersonDep) -> Response:
    if who.account_id is None:
        return RedirectResponse("/office/accounts", status_code=303)
    return RedirectResponse(f"/portal/{who.account_id}", status_code=303)


@router.get("/{account_id}", include_in_schema=False)
def my_subscription(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    return render(request, "portal/subscription.html", {"overview": overview})
