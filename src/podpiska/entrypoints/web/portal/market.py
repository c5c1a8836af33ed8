"""The portal's Marketplace (`/portal/{account}/marketplace`: the subscription, its price
for the account's tariff, the first-time discount, the one-time trial, the installed apps
and which would stop without it) and the tariff advisor (`/portal/{account}/advisor`;
the vendor's people use it from any account's portal)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.catalog.domain.advisor import Need
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import marketplace_views
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.formatting import long_date
from podpiska.entrypoints.web.i18n import _, choose_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.subscriptions import advisor
from podpiska.subscriptions import apps as app_uses

router = APIRouter(prefix="/portal")

MAX_USERS = 100_000
MAX_DISK_GB = 1_000_000
MAX_ORDERS = 100_000_000


@router.get("/{account_id}/marketplace", include_in_schema=False)
def marketplace(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    overview = marketplace_views.marketplace_overview(db, account_id=account_id, clock=ctx.clock)
    return render(request, "portal/marketplace.html", {"o": overview})


@router.post("/{account_id}/marketplace/trial", include_in_schema=False)
def start_trial(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    """Start the one-time trial (once per account: a second try says when the first ran)."""
    guard_account(who, account_id)
    try:
        trial = app_uses.start_trial(db, account_id=account_id, actor=who.actor, clock=ctx.clock)
    except DomainError as error:
        if http_status(error) == 404:
            raise
        flash(request, error.message(choose_language(request)), "error")
    else:
        last_day = trial.ends_on - timedelta(days=1)
        flash(
            request,
            _("The trial has started: every app works until {day}.").format(
                day=long_date(last_day)
            ),
            "success",
        )
    return RedirectResponse(f"/portal/{account_id}/marketplace", status_code=303)


def _whole(value: str, top: int) -> int | None:
    """A whole number 0…top typed in a form, or None."""
    text = value.strip().replace(" ", "").replace("\xa0", "")
    if not text.isdigit():
        return None
    number = int(text)
    return number if number <= top else None


@router.get("/{account_id}/advisor", include_in_schema=False)
def tariff_advisor(
    request: Request,
    account_id: int,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    users: str = "",
    disk_gb: str = "",
    orders: str = "",
) -> HTMLResponse:
    """Users, disk and orders a month → the cheapest tariff and period that fits (with the
    add-ons the account holds), the 12-month budget from the day the account next pays, the
    vendor's guidance with the numbers. A GET form: the answer's URL can be shared."""
    guard_account(who, account_id)
    usage = advisor.account_usage(db, account_id=account_id)
    form = {
        "users": users or str(max(usage.users, 1)),
        "disk_gb": disk_gb or str(usage.disk_gb),
        "orders": orders,
    }
    asked = bool(users or disk_gb or orders)
    problems: list[str] = []
    mine: advisor.AccountAdvice | None = None
    if asked:
        got_users = _whole(form["users"], MAX_USERS)
        got_disk = _whole(form["disk_gb"] or "0", MAX_DISK_GB)
        got_orders = _whole(form["orders"] or "0", MAX_ORDERS)
        if got_users is None:
            problems.append(_("Users: a whole number from 0 to {top}.").format(top=MAX_USERS))
        if got_disk is None:
            problems.append(
                _("Disk: a whole number of GB from 0 to {top}.").format(top=MAX_DISK_GB)
            )
        if got_orders is None:
            problems.append(
                _("Orders a month: a whole number from 0 to {top}.").format(top=MAX_ORDERS)
            )
        if got_users is not None and got_disk is not None and got_orders is not None:
            need = Need(users=got_users, disk_gb=got_disk, orders_per_month=got_orders)
            mine = advisor.advise_account(db, account_id=account_id, need=need, clock=ctx.clock)
    return render(
        request,
        "portal/advisor.html",
        {
            "account_id": account_id,
            "form": form,
            "advice": mine.advice if mine else None,
            "paid_through": mine.paid_through if mine else None,
            "add_ons": mine.add_ons if mine else (),
            "problems": problems,
        },
        status_code=422 if problems else 200,
    )
