"""The back office's test clocks (`/office/test-clocks`): create one, advance it (the daily run
and the day's autopay charges, as the API runs them), open a test account in it. Every read
and write is the services' that the API and the CLI use: `clocks.create_test_clock`,
`lifecycle.advance_test_clock`, `clock_accounts.open_test_account`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.backoffice import clock_accounts
from podpiska.backoffice import views as back_office
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep, http_status
from podpiska.entrypoints.web.formatting import VENDOR_TIMEZONE, long_date, money
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.office.audit import compact
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.payments.autopay import AutopayReport, charge_autopay
from podpiska.ports import Clock
from podpiska.subscriptions import lifecycle

router = APIRouter(prefix="/office")

ADVANCE_KEY = "clock_advance"  # the last advance's report, shown once on the clock's page
RUN_COUNTS = {
    "reminders": N_("Reminders"),
    "autopay_invoices": N_("Autopay invoices"),
    "grace": N_("Into grace"),
    "suspended": N_("Suspended"),
    "cancelled": N_("Cancelled"),
    "expired_changes": N_("Expired changes"),
    "migration_notices": N_("Migration notices"),
    "version_moves": N_("Catalog version moves"),
    "planned": N_("Paid invoices planned by month"),
    "closings": N_("UPDs issued for services rendered"),
    "advances": N_("Advance VAT invoices issued"),
}
AUTOPAY_COUNTS = {
    "charged": N_("Autopay charged"),
    "succeeded": N_("Autopay succeeded"),
    "failed": N_("Autopay failed"),
}
ACCOUNT_PAYMENTS = {  # the new test account's order invoice
    "paid": N_("Paid now: the subscription starts active"),
    "issued": N_("Left issued: the subscription waits for payment"),
}


def _local(moment: str) -> datetime | None:
    """A `datetime-local` field (`2026-11-22T12:00`) in Moscow time; None when empty."""
    if not moment.strip():
        return None
    return datetime.fromisoformat(moment.strip()).replace(tzinfo=VENDOR_TIMEZONE)


def _clocks_page(
    request: Request, db: Session, *, problem: str | None = None, form: dict[str, str] | None = None
) -> HTMLResponse:
    return render(
        request,
        "office/test_clocks.html",
        {
            "clocks": back_office.list_test_clocks(db),
            "problem": problem,
            "form": form or {"name": "", "now": ""},
        },
        status_code=422 if problem else 200,
    )


@router.get("/test-clocks", include_in_schema=False)
def test_clocks(request: Request, who: VendorDep, db: DbDep) -> HTMLResponse:
    return _clocks_page(request, db)


@router.post("/test-clocks", include_in_schema=False)
def create_test_clock(
    request: Request,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    name: Annotated[str, Form()] = "",
    now: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name[:200], "now": now[:40]}
    try:
        start = _local(now[:40])
    except ValueError:
        return _clocks_page(request, db, problem=_("The start must be a date and time."), form=form)
    made = clocks.create_test_clock(
        db, name=name.strip()[:200], now=start, actor=who.actor, clock=ctx.clock
    )
    flash(request, _("Test clock «{name}» created.").format(name=made.name), "success")
    return RedirectResponse(f"/office/test-clocks/{made.id}", status_code=303)


def _account_offer(
    db: Session, clock_id: int, form: dict[str, str] | None
) -> tuple[clock_accounts.Offer | None, str | None, dict[str, str]]:
    """The "open a test account" form: its choices, why there are none (no catalog on
    sale on the clock's day), and its values (prefilled, or as sent back)."""
    try:
        offer = clock_accounts.offer(db, clock_id=clock_id)
    except DomainError as error:
        if http_status(error) == 404:
            raise
        return None, error.message(current_language()), form or {}
    values = form or {
        "name": _("Test account {n}").format(n=offer.number),
        "inn": "",
        "email": offer.suggested_email,
        "plan": offer.plans[0].code if offer.plans else "",
        "months": str(offer.periods[0].months) if offer.periods else "",
        "users": "",
        "payment": "paid",
    }
    return offer, None, values


def _clock_page(
    request: Request,
    db: Session,
    clock_id: int,
    *,
    problem: str | None = None,
    form: dict[str, str] | None = None,
    account_problem: str | None = None,
    account_form: dict[str, str] | None = None,
) -> HTMLResponse:
    activity = back_office.test_clock_activity(db, clock_id=clock_id)
    failed = problem is not None or account_problem is not None
    report = request.session.pop(ADVANCE_KEY, None) if not failed else None
    if report is not None:
        report["was"] = datetime.fromisoformat(report["was"])
        report["now"] = datetime.fromisoformat(report["now"])
    offer, no_offer, account_values = _account_offer(db, clock_id, account_form)
    return render(
        request,
        "office/test_clock.html",
        {
            "a": activity,
            "report": report,
            "run_counts": RUN_COUNTS,
            "autopay_counts": AUTOPAY_COUNTS,
            "problem": problem,
            "form": form or {"days": "", "to": ""},
            "compact": compact,
            "offer": offer,
            "no_offer": no_offer,
            "account_problem": account_problem,
            "account_form": account_values,
            "account_payments": ACCOUNT_PAYMENTS,
        },
        status_code=422 if failed else 200,
    )


@router.get("/test-clocks/{clock_id}", include_in_schema=False)
def test_clock(request: Request, clock_id: int, who: VendorDep, db: DbDep) -> HTMLResponse:
    """The clock, its accounts as they are now, and what happened to them (events, the
    clock's own history)."""
    return _clock_page(request, db, clock_id)


@router.post("/test-clocks/{clock_id}/advance", include_in_schema=False)
def advance_test_clock(
    request: Request,
    clock_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    days: Annotated[str, Form()] = "",
    to: Annotated[str, Form()] = "",
) -> Response:
    """Move the clock forward by days or to a date (at the clock's time of day): every
    daily run in between happens, in order, with that day's autopay charges."""
    form = {"days": days[:10], "to": to[:20]}
    current = clocks.get_test_clock(db, clock_id)
    try:
        count = int(days) if days.strip() else None
        day = date.fromisoformat(to.strip()) if to.strip() else None
    except ValueError:
        return _clock_page(
            request,
            db,
            clock_id,
            problem=_("Give a whole number of days or a date (YYYY-MM-DD)."),
            form=form,
        )
    target = None
    if day is not None:
        local = current.now.astimezone(VENDOR_TIMEZONE)
        target = datetime.combine(day, local.time(), tzinfo=VENDOR_TIMEZONE)
    if count is not None and count > 3660:
        return _clock_page(
            request, db, clock_id, problem=_("At most ten years at a time."), form=form
        )
    gateway = ctx.ports.gateway
    charged = AutopayReport()

    def after_day(test_clock_id: int, day_clock: Clock) -> None:
        assert gateway is not None
        charged.add(
            charge_autopay(
                db,
                gateway,
                clock=day_clock,
                clock_id=test_clock_id,
                two_stage=ctx.settings.gateway_two_stage,
            )
        )

    try:
        result = lifecycle.advance_test_clock(
            db,
            clock_id=clock_id,
            to=target,
            days=count,
            actor=who.actor,
            clock=ctx.clock,
            after_day=after_day if gateway is not None else None,
        )
    except DomainError as error:
        return _clock_page(
            request, db, clock_id, problem=error.message(current_language()), form=form
        )
    request.session[ADVANCE_KEY] = {
        "was": result.was.isoformat(),
        "now": result.now.isoformat(),
        "days": len(result.report.days),
        "counts": result.report.totals.as_dict(),
        "autopay": charged.as_dict(),
    }
    flash(request, _("The clock moved forward."), "success")
    return RedirectResponse(f"/office/test-clocks/{clock_id}", status_code=303)


@router.post("/test-clocks/{clock_id}/accounts", include_in_schema=False)
def open_test_account(
    request: Request,
    clock_id: int,
    who: VendorDep,
    db: DbDep,
    name: Annotated[str, Form()] = "",
    inn: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    plan: Annotated[str, Form()] = "",
    months: Annotated[str, Form()] = "",
    users: Annotated[str, Form()] = "",
    payment: Annotated[str, Form()] = "",
) -> Response:
    """Open an account on the clock with its subscription ordered (and paid, if asked), at
    the clock's time, all or nothing: `clock_accounts.open_test_account`."""
    form = {
        "name": name[:300],
        "inn": inn[:20],
        "email": email[:320],
        "plan": plan[:100],
        "months": months[:10],
        "users": users[:10],
        "payment": payment[:10],
    }
    try:
        month_count = int(months.strip())
        user_count = int(users.strip()) if users.strip() else None
    except ValueError:
        return _clock_page(
            request,
            db,
            clock_id,
            account_problem=_("The period and the users must be whole numbers."),
            account_form=form,
        )
    if payment not in ACCOUNT_PAYMENTS:
        return _clock_page(
            request,
            db,
            clock_id,
            account_problem=_("Choose whether the invoice is paid now or left issued."),
            account_form=form,
        )
    try:
        made = clock_accounts.open_test_account(
            db,
            clock_id=clock_id,
            name=form["name"],
            admin_email=form["email"],
            inn=form["inn"] or None,
            plan=form["plan"],
            months=month_count,
            users=user_count,
            paid=payment == "paid",
            actor=who.actor,
        )
    except DomainError as error:
        if http_status(error) == 404:
            raise
        return _clock_page(
            request,
            db,
            clock_id,
            account_problem=error.message(current_language()),
            account_form=form,
        )
    invoice = made.invoice
    if made.paid:
        message = _(
            "Account «{name}» opened on the clock: invoice {number} for {total} is paid, "
            "the subscription is active."
        )
    else:
        message = _(
            "Account «{name}» opened on the clock: invoice {number} for {total} is issued, "
            "due by {due}."
        )
    flash(
        request,
        message.format(
            name=made.account.name,
            number=invoice.number,
            total=money(invoice.total, invoice.currency),
            due=long_date(invoice.due_on),
        ),
        "success",
    )
    return RedirectResponse(f"/office/test-clocks/{clock_id}", status_code=303)
