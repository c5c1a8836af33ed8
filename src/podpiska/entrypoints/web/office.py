"""The vendor's back office (`vendor_admin`, `vendor_operator`): accounts for now."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from podpiska.accounts import views as account_views
from podpiska.backoffice import account_search
from podpiska.backoffice.account_search import AccountFilter
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.web import office_ops
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep
from podpiska.entrypoints.web.i18n import _
from podpiska.entrypoints.web.rendering import render

router = APIRouter(prefix="/office")


def _choice(value: str | None, allowed: tuple[str, ...] | list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/accounts", include_in_schema=False)
def accounts(
    request: Request,
    who: VendorDep,
    db: DbDep,
    q: str = "",
    state: str = "",
    plan: str = "",
    edition: str = "",
    due_before: str = "",
    page: int = 1,
) -> HTMLResponse:
    """Search by name, INN or e-mail; filter by state, tariff, edition, renewal due."""
    problems = []
    due: date | None = None
    if due_before:
        try:
            due = date.fromisoformat(due_before)
        except ValueError:
            problems.append(_("The due date must be a date (YYYY-MM-DD)."))
    wanted = AccountFilter(
        query=q[:200],
        state=_choice(state, account_search.STATES),
        plan=plan[:100] or None,
        edition=_choice(edition, account_search.EDITIONS),
        due_before=due,
    )
    found = account_search.search_accounts(db, wanted=wanted, page=page)
    kept = {
        k: v
        for k, v in {
            "q": q,
            "state": wanted.state or "",
            "plan": plan,
            "edition": wanted.edition or "",
            "due_before": due_before if due else "",
        }.items()
        if v
    }

    def page_url(number: int) -> str:
        return "/office/accounts?" + urlencode({**kept, "page": number})

    values = {
        "found": found,
        "wanted": wanted,
        "form": {"q": "", "plan": "", "due_before": "", **kept},
        "states": account_search.STATES,
        "editions": account_search.EDITIONS,
        "problems": problems,
        "page_url": page_url,
    }
    if request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == (
        "accounts-table"
    ):
        return render(request, "office/_accounts_table.html", values)
    return render(request, "office/accounts.html", values)


@router.get("/accounts/{account_id}", include_in_schema=False)
def account(
    request: Request,
    account_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    action: str = "",
    app: str = "",
) -> HTMLResponse:
    """The account: its subscription, invoices, payments, events, audit log and the
    entitlement tester (`?action=...&app=...`: its answer, without JavaScript)."""
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    invoices = account_views.account_invoices(db, account_id=account_id)
    payments = account_views.account_payments(db, account_id=account_id)
    activity = office_ops.account_activity(db, ctx, account_id=account_id, action=action, app=app)
    return render(
        request,
        "office/account.html",
        {"overview": overview, "invoices": invoices, "payments": payments, **activity},
        status_code=422 if activity["tester"]["problem"] else 200,
    )
