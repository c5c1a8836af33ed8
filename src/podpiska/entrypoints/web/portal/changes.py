"""Changing the tariff or the users mid-term in the portal (`/portal/{account}/change`): the
exact preview, then confirm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account, http_status
from podpiska.entrypoints.web.i18n import _
from podpiska.entrypoints.web.portal.common import error_message
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.subscriptions import changes

router = APIRouter(prefix="/portal")


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
            error, status_code = error_message(request, exc), http_status(exc)
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
            "problem": error_message(request, options.problem) if options.problem else None,
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
            error=error_message(request, exc),
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
