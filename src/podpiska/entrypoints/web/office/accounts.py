"""The back office's accounts (`/office/accounts`): the search, and the account's page with its
subscription, invoices, payments, events, audit log and entitlement tester."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.backoffice import account_search
from podpiska.backoffice.account_search import AccountFilter
from podpiska.catalog.domain.catalog import ACTIONS
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements import decisions as entitlements
from podpiska.entitlements import overview as license_overview
from podpiska.entitlements.domain import BILLING_ACTIONS, Decision
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web import requisites as requisites_form
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep
from podpiska.entrypoints.web.i18n import N_, _
from podpiska.entrypoints.web.office.account_timeline import timeline_view
from podpiska.entrypoints.web.office.audit import changes, compact
from podpiska.entrypoints.web.office.document_actions import closing_documents
from podpiska.entrypoints.web.office.documents import PDF_KINDS
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.invoicing.documents import FIX_KINDS
from podpiska.payments import history as account_views
from podpiska.subscriptions import apps as app_uses

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
    """The account: its requisites, subscription, invoices, payments, events, audit log and
    the entitlement tester (`?action=...&app=...`: its answer, without JavaScript)."""
    return _account_page(request, db, ctx, account_id, action=action, app=app)


SHOWN = 50  # an account page's invoices and payments: the newest, the rest a link away


def _account_page(
    request: Request,
    db: Session,
    ctx: Context,
    account_id: int,
    *,
    action: str = "",
    app: str = "",
    form: requisites_form.RequisitesForm | None = None,
) -> HTMLResponse:
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    # the newest rows; the rest in the paged lists filtered by the account (linked below each)
    invoices = account_views.account_invoices(db, account_id=account_id, limit=SHOWN + 1)
    payments = account_views.account_payments(db, account_id=account_id, limit=SHOWN + 1)
    activity = account_activity(db, ctx, account_id=account_id, action=action, app=app)
    refused = form is not None
    return render(
        request,
        "office/account.html",
        {
            "overview": overview,
            "invoices": invoices[:SHOWN],
            "payments": payments[:SHOWN],
            "invoices_all": (
                f"/office/invoices?account={account_id}" if len(invoices) > SHOWN else None
            ),
            "payments_all": (
                f"/office/payments?account={account_id}" if len(payments) > SHOWN else None
            ),
            "documents": closing_documents(db, account_id=account_id),
            "pdf_kinds": PDF_KINDS,
            "fix_kinds": FIX_KINDS,
            "requisites": form or requisites_form.shown(overview.account),
            "requisites_action": f"/office/accounts/{account_id}/requisites",
            **activity,
        },
        status_code=422 if refused or activity["tester"]["problem"] else 200,
    )


@router.post("/accounts/{account_id}/requisites", include_in_schema=False)
def change_requisites(
    request: Request,
    account_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    kpp: Annotated[str, Form()] = "",
    legal_address: Annotated[str, Form()] = "",
    ogrn: Annotated[str, Form()] = "",
    state_contract_id: Annotated[str, Form()] = "",
    edo_id: Annotated[str, Form()] = "",
    closing_form: Annotated[str | None, Form()] = None,
) -> Response:
    """The buyer's КПП, legal address, ОГРН/ОГРНИП, state contract id and EDO participant
    id (an empty one is cleared) and closing form: `accounts.change_account`, as the API's
    PATCH, audited with the person as actor. Both vendor roles may, as both vendor API keys
    may. A refused value: the page again (422) with the values given and the reason under
    the field."""
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
        return _account_page(request, db, ctx, account_id, form=refused)
    flash(request, _("The requisites are saved."), "success")
    return RedirectResponse(f"/office/accounts/{account_id}#requisites", status_code=303)


APP_ACTIONS = ("apps.use", "apps.install")
UNKNOWN_ACTION = N_("Choose an action of the catalog.")
TESTED_ACTIONS = tuple(a for a in ACTIONS if a not in BILLING_ACTIONS) + tuple(
    a for a in ACTIONS if a in BILLING_ACTIONS
)


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
        **timeline_view(db, account_id=account_id),
        "installed_apps": [a for _i, a in app_uses.installations(db, account_id)],
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
