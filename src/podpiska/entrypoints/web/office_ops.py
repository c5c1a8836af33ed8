"""The back office's operations pages: the account page's events, audit log and entitlement
tester; the outbox's deliveries and webhook endpoints (`/office/deliveries`); test clocks
(`/office/test-clocks`). Every read and write is the services' that the API and the CLI
use: `entitlements.check_entitlement`, `notifications.list_deliveries` / `redeliver`,
`outbox.backlog`, `webhook_endpoints.list_endpoints`, `clocks.create_test_clock`,
`lifecycle.advance_test_clock` (with the day's autopay charges, as the API runs it),
`clock_accounts.open_test_account` (open, order and pay as the API's scenario does)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.backoffice import clock_accounts, outbox
from podpiska.backoffice import views as back_office
from podpiska.catalog.domain.catalog import ACTIONS
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import apps
from podpiska.entitlements import decisions as entitlements
from podpiska.entitlements.domain import BILLING_ACTIONS, Decision
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web import labels
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep, http_status
from podpiska.entrypoints.web.formatting import VENDOR_TIMEZONE, long_date, money
from podpiska.entrypoints.web.i18n import (
    N_,
    _,
    current_language,
)
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.notifications import deliveries as notifications
from podpiska.notifications import webhook_endpoints
from podpiska.payments import payments
from podpiska.ports import Clock
from podpiska.subscriptions import lifecycle

router = APIRouter(prefix="/office")

APP_ACTIONS = ("apps.use", "apps.install")
UNKNOWN_ACTION = N_("Choose an action of the catalog.")
TESTED_ACTIONS = tuple(a for a in ACTIONS if a not in BILLING_ACTIONS) + tuple(
    a for a in ACTIONS if a in BILLING_ACTIONS
)


def compact(value: Any, limit: int = 240) -> str:
    """A JSON value on one line, cut to `limit` characters (events' payloads, audit rows)."""
    if value is None or value == {}:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None, limit: int = 400) -> str:
    """An audit row's change: only the fields that differ (`status: pending → active`),
    or the values written when there was nothing before."""
    if not before or not after:
        return compact(after or before, limit)

    def one(value: Any) -> str:
        return "—" if value is None else compact(value, 120).strip('"')

    parts = [
        f"{key}: {one(before.get(key))} → {one(after.get(key))}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the account page: events, audit log, the entitlement tester ---------------------------


def tested(db: Session, ctx: Context, *, account_id: int, action: str, app: str) -> dict[str, Any]:
    """The tester's answer: "may the account do `action` (with `app`) now?" — the same
    check as `GET /api/v1/accounts/{id}/entitlements/{action}`."""
    action, app = action.strip()[:100], app.strip()[:100]
    decision: Decision | None = None
    problem: str | DomainError | None = None  # translated by the template (its language)
    if action:
        if action not in ACTIONS:
            problem = UNKNOWN_ACTION
        else:
            try:
                decision = entitlements.check_entitlement(
                    db,
                    account_id=account_id,
                    action=action,
                    clock=ctx.clock,
                    app_code=app if app and action in APP_ACTIONS else None,
                )
            except DomainError as error:
                if error.code == "not_found":  # the account itself: 404
                    raise
                problem = error  # an unknown app: said in the answer
    return {
        "tester": {"action": action, "app": app, "decision": decision, "problem": problem},
        "actions": TESTED_ACTIONS,
        "app_actions": APP_ACTIONS,
        "account_id": account_id,
    }


def account_activity(
    db: Session, ctx: Context, *, account_id: int, action: str = "", app: str = ""
) -> dict[str, Any]:
    """What the account page shows besides its subscription, invoices and payments."""
    return {
        "events": back_office.account_events(db, account_id=account_id, limit=50),
        "audit": back_office.account_audit(db, account_id=account_id, limit=50),
        "installed_apps": [a for _i, a in apps.installations(db, account_id)],
        "compact": compact,
        "changes": changes,
        **tested(db, ctx, account_id=account_id, action=action, app=app),
    }


@router.get("/accounts/{account_id}/entitlement", include_in_schema=False)
def entitlement_tester(
    request: Request,
    account_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    action: str = "",
    app: str = "",
) -> Response:
    """The tester's answer as an htmx partial; without JavaScript, the account page with
    the answer on it."""
    if request.headers.get("hx-request") != "true":
        query = urlencode({"action": action[:100], "app": app[:100]})
        return RedirectResponse(f"/office/accounts/{account_id}?{query}#entitlement", 303)
    values = tested(db, ctx, account_id=account_id, action=action, app=app)
    problem = values["tester"]["problem"]
    return render(
        request,
        "office/_entitlement_answer.html",
        values,
        status_code=422 if problem else 200,
    )


# --- deliveries and webhooks ---------------------------------------------------------------

DELIVERY_STATUSES = {
    "pending": N_("Pending"),
    "delivered": N_("Sent"),
    "dead": N_("Dead"),
}
CHANNELS = {"email": N_("E-mail"), "webhook": N_("Webhook")}


def _deliveries_page(
    request: Request, db: Session, *, status: str, problem: str | None = None
) -> HTMLResponse:
    rows: list[notifications.DeliveryView] = []
    code = 200
    wanted = status if status else None
    try:
        rows = notifications.list_deliveries(db, status=wanted, limit=100)
    except DomainError as error:
        problem, code = error.message(current_language()), 422
    endpoints = webhook_endpoints.list_endpoints(db)
    endpoint_events = webhook_endpoints.endpoint_event_types(db, [e.id for e in endpoints])
    return render(
        request,
        "office/deliveries.html",
        {
            "rows": rows,
            "status": status,
            "statuses": DELIVERY_STATUSES,
            "status_label": lambda c: labels.label(DELIVERY_STATUSES, c),
            "channel_label": lambda c: labels.label(CHANNELS, c),
            "backlog": outbox.backlog(db),
            "endpoints": endpoints,
            "endpoint_urls": {str(e.id): e.url for e in endpoints},
            "endpoint_events": endpoint_events,
            "problem": problem,
        },
        status_code=code,
    )


@router.get("/deliveries", include_in_schema=False)
def deliveries(request: Request, who: VendorDep, db: DbDep, status: str = "") -> HTMLResponse:
    """The latest deliveries (e-mails and webhooks) with their status and last error, the
    backlog figures, the webhook endpoints."""
    return _deliveries_page(request, db, status=status[:20])


@router.post("/deliveries/{delivery_id}/redeliver", include_in_schema=False)
def redeliver(
    request: Request,
    delivery_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    status: Annotated[str, Form()] = "",
) -> Response:
    """Put a dead (or sent) delivery back in the queue, due now."""
    view = notifications.redeliver(db, delivery_id=delivery_id, actor=who.actor, clock=ctx.clock)
    flash(
        request,
        _("Delivery {id} is in the queue again: the worker sends it now.").format(id=view.id),
        "success",
    )
    back = "/office/deliveries" + (f"?status={status}" if status in DELIVERY_STATUSES else "")
    return RedirectResponse(back, status_code=303)


# --- test clocks -------------------------------------------------------------------------------

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
    charged = payments.AutopayReport()

    def after_day(test_clock_id: int, day_clock: Clock) -> None:
        assert gateway is not None
        charged.add(
            payments.charge_autopay(
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
