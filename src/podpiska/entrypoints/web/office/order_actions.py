"""The back office ordering a subscription for an account that has none live (never
ordered, or cancelled) (`/office/accounts/{id}/order`): the plan, the period, the users,
the add-ons and promotion codes; the exact quote first (`billing.preview_order`, the
pricing `billing.order_subscription` invoices with), then the order itself through
`billing.order_subscription`, as `POST /api/v1/accounts/{id}/subscriptions`, with the
previewed total (`order_stale` when the price changed in between). An order only issues
an invoice, like a renewal: a vendor_admin's, as issuing a renewal is. A refusal is the
page again with the service's words (422 or 409), nothing written; a second confirm of
the same order finds the first's subscription (409)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.catalog.domain.pricing import Quote
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import parse_typed_money
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorAdminDep, http_status
from podpiska.entrypoints.web.formatting import money
from podpiska.entrypoints.web.i18n import _, current_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.subscriptions import billing

router = APIRouter(prefix="/office/accounts")

MAX_CODES = 20  # add-ons or promotions in one order
EMPTY_FORM = {"plan": "", "months": "", "users": "", "add_ons": [], "promotions": ""}


def _codes(values: list[str]) -> list[str]:
    """Codes as given, trimmed and bounded, blanks and repeats dropped."""
    kept = dict.fromkeys(v.strip()[:100] for v in values[:MAX_CODES] if v.strip())
    return list(kept)


def _order_page(
    request: Request,
    db: Session,
    ctx: Context,
    account_id: int,
    *,
    form: dict[str, Any] | None = None,
    preview: Quote | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    options = billing.order_options(db, account_id=account_id, clock=ctx.clock)
    version = options.version
    return render(
        request,
        "office/account_order.html",
        {
            "account_id": account_id,
            "options": options,
            "plans": sorted(version.plans.values(), key=lambda plan: plan.monthly_price),
            "periods": version.periods,
            "add_ons": list(version.add_ons.values()),
            "form": form or EMPTY_FORM,
            "preview": preview,
            "problem": problem,
        },
        status_code=status_code,
    )


MAX_WHOLE = 2**31 - 1  # as the API's `Count`


def _whole(text: str) -> int:
    """A whole number typed in ASCII digits (`int()` would take other scripts' digits and
    underscores), or ValueError."""
    text = text.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or abs(int(text)) > MAX_WHOLE:
        raise ValueError(text)
    return int(text)


def _parsed(months: str, users: str) -> tuple[int, int | None]:
    """The period and the users (blank: the default), or ValueError."""
    return _whole(months), _whole(users) if users.strip() else None


def _refused(
    request: Request,
    db: Session,
    ctx: Context,
    account_id: int,
    form: dict[str, Any],
    error: DomainError,
) -> HTMLResponse:
    if http_status(error) == 404:
        raise error
    return _order_page(
        request,
        db,
        ctx,
        account_id,
        form=form,
        problem=error.message(current_language()),
        status_code=http_status(error),
    )


@router.get("/{account_id}/order", include_in_schema=False)
def order_page(
    request: Request, account_id: int, who: VendorAdminDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    """The order's form: the plans, periods and add-ons on sale today."""
    return _order_page(request, db, ctx, account_id)


@router.post("/{account_id}/order/preview", include_in_schema=False)
def order_preview(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    plan: Annotated[str, Form()] = "",
    months: Annotated[str, Form()] = "",
    users: Annotated[str, Form()] = "",
    add_ons: Annotated[list[str] | None, Form()] = None,
    promotions: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The exact quote the order would invoice (`billing.preview_order`): every line with
    its derivation, the discount, the VAT and the total; nothing is written."""
    form: dict[str, Any] = {
        "plan": plan.strip()[:100],
        "months": months.strip()[:10],
        "users": users.strip()[:10],
        "add_ons": _codes(add_ons or []),
        "promotions": promotions[:500],
    }
    try:
        period, count = _parsed(months, users)
    except ValueError:
        return _order_page(
            request,
            db,
            ctx,
            account_id,
            form=form,
            problem=_("Choose a period; the number of users must be a whole number."),
            status_code=422,
        )
    try:
        quote = billing.preview_order(
            db,
            account_id=account_id,
            plan=form["plan"],
            months=period,
            users=count,
            add_ons=form["add_ons"],
            promotions=_codes(promotions.replace(",", " ").split()),
            clock=ctx.clock,
        )
    except DomainError as error:
        return _refused(request, db, ctx, account_id, form, error)
    return _order_page(request, db, ctx, account_id, form=form, preview=quote)


@router.post("/{account_id}/orders", include_in_schema=False)
def issue_order(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    plan: Annotated[str, Form()] = "",
    months: Annotated[str, Form()] = "",
    users: Annotated[str, Form()] = "",
    add_ons: Annotated[list[str] | None, Form()] = None,
    promotions: Annotated[str, Form()] = "",
    total: Annotated[str, Form()] = "",
) -> Response:
    """Confirm the previewed order (`billing.order_subscription`): the order invoice is
    issued for the total the preview showed, or the service's words."""
    form: dict[str, Any] = {
        "plan": plan.strip()[:100],
        "months": months.strip()[:10],
        "users": users.strip()[:10],
        "add_ons": _codes(add_ons or []),
        "promotions": promotions[:500],
    }
    problem: str | None = None
    try:
        period, count = _parsed(months, users)
    except ValueError:
        problem = _("Choose a period; the number of users must be a whole number.")
    else:
        try:
            expected: Decimal | None = parse_typed_money(total) if total.strip() else None
        except ValueError:  # parse_typed_money's AmountFormatError
            problem = _("Preview the order first, then confirm it.")
    if problem is not None:
        return _order_page(
            request, db, ctx, account_id, form=form, problem=problem, status_code=422
        )
    try:
        order = billing.order_subscription(
            db,
            account_id=account_id,
            plan=form["plan"],
            months=period,
            users=count,
            add_ons=form["add_ons"],
            promotions=_codes(promotions.replace(",", " ").split()),
            expected_total=expected,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        return _refused(request, db, ctx, account_id, form, error)
    invoice = order.invoice
    flash(
        request,
        _("Order placed: invoice {number} for {total} is issued.").format(
            number=invoice.number, total=money(invoice.total, invoice.currency)
        ),
        "success",
    )
    return RedirectResponse(f"/office/accounts/{account_id}", status_code=303)
