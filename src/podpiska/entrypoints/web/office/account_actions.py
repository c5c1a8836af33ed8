"""The back office acting on an account (`/office/accounts/{id}/...`), each action through
the use-case the API and the CLI use, never a copy: a bank payment recorded by hand
(`payments.bank.manual.record_bank_payment`, through the one payment writer), a user
blocked or unblocked (`subscriptions.users.set_user_blocked`), autopay turned off
(`payments.autopay.set_autopay`), the current term extended as a gift
(`subscriptions.extensions.extend_term`, as `POST /api/v1/subscriptions/{id}/extensions`).
Money moves for a vendor_admin only; the money-neutral actions are an operator's too. The
operator is the actor of the audit row; a domain error comes back as words on the page (a
flash), never a 500."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.accounts import accounts as account_records
from podpiska.accounts.people import Person
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import parse_typed_money
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorAdminDep, VendorDep, http_status
from podpiska.entrypoints.web.formatting import money
from podpiska.entrypoints.web.i18n import _, current_language
from podpiska.entrypoints.web.office import accounts as account_pages
from podpiska.entrypoints.web.office.form_ids import optional_id, positive_id, positive_number
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.payments.autopay import set_autopay
from podpiska.payments.bank import manual
from podpiska.subscriptions import billing, changes, extensions, users

router = APIRouter(prefix="/office/accounts")

DAYS_DIGITS = 6  # the days of a gift typed: more digits are no number of days at all


def _back(account_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/office/accounts/{account_id}{anchor}", status_code=303)


def _page_again(
    request: Request, account_id: int, who: Person, db: Session, ctx: Context, problem: str
) -> HTMLResponse:
    """The account's page again with the problem (a form's bad input): 422."""
    flash(request, problem, "error")
    shown = account_pages.account(request, account_id, who, db, ctx)
    shown.status_code = 422
    return shown


def _refused(request: Request, error: DomainError) -> None:
    """A domain error in words on the next page; a 404 stays a 404."""
    if http_status(error) == 404:
        raise error
    flash(request, error.message(current_language()), "error")


@router.post("/{account_id}/bank-payments", include_in_schema=False)
def record_bank_payment(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    amount: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    invoice_id: Annotated[str, Form()] = "",
) -> Response:
    """Money received by transfer: on one of the account's open invoices, or (no invoice
    chosen) on its credit. An amount that is not money (`parse_typed_money`) or a bad date:
    the account's page again with the reason, 422, nothing recorded."""
    try:
        paid = parse_typed_money(amount)
        received = date.fromisoformat(day.strip())
        invoice = optional_id(invoice_id)  # none chosen: on the account's credit
    except ValueError:
        problem = _("Give the amount (e.g. 1500.00) and the date of the payment.")
        return _page_again(request, account_id, who, db, ctx, problem)
    try:
        row = manual.record_bank_payment(
            db,
            account_id=account_id,
            amount=paid,
            day=received,
            reference=reference[:200],
            invoice_id=invoice,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        _refused(request, error)
        return _back(account_id, "#bank-payment")
    if row.invoice_id is not None:
        message = _("Bank payment of {amount} recorded on the invoice.")
    else:
        message = _("Bank payment of {amount} put on the account's credit.")
    flash(request, message.format(amount=money(row.amount, "RUB")), "success")
    return _back(account_id)


@router.get("/{account_id}/users", include_in_schema=False)
def account_users(request: Request, account_id: int, who: VendorDep, db: DbDep) -> HTMLResponse:
    """The account's users, each with its block or unblock button."""
    account = account_records.get_account(db, account_id)
    return render(
        request,
        "office/account_users.html",
        {"account": account, "users": account_records.list_users(db, account_id)},
    )


@router.post("/{account_id}/users/{user_id}/{what}", include_in_schema=False)
def block_user(
    request: Request,
    account_id: int,
    user_id: int,
    what: str,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
) -> Response:
    """Block (`block`) or unblock (`unblock`) a user: money-neutral, an operator's too."""
    if what not in ("block", "unblock"):
        return Response(status_code=404)
    try:
        user = users.set_user_blocked(
            db,
            account_id=account_id,
            user_id=user_id,
            blocked=what == "block",
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        _refused(request, error)
    else:
        message = _("User {email} blocked.") if what == "block" else _("User {email} unblocked.")
        flash(request, message.format(email=user.email), "success")
    return RedirectResponse(f"/office/accounts/{account_id}/users", status_code=303)


@router.post("/{account_id}/autopay-off", include_in_schema=False)
def autopay_off(
    request: Request, account_id: int, who: VendorDep, db: DbDep, ctx: ContextDep
) -> Response:
    """Autopay off (money-neutral: an operator's too; turning it on is the customer's)."""
    try:
        set_autopay(db, account_id=account_id, enabled=False, actor=who.actor, clock=ctx.clock)
    except DomainError as error:
        _refused(request, error)
    else:
        flash(request, _("Autopay is off."), "success")
    return _back(account_id)


@router.post("/{account_id}/extensions", include_in_schema=False)
def extend_term(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    subscription_id: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Extend the current term by some days as a gift, with the reason (a zero invoice).
    Malformed input (`form_ids`: the subscription's id, the days in ASCII digits) or days
    the use-case refuses (1..`extensions.MAX_DAYS`, in its words): the account's page again
    with the problem, 422, nothing written."""
    try:
        subscription = positive_id(subscription_id)
    except ValueError:
        problem = _("The form names no valid subscription: reload the page and try again.")
        return _page_again(request, account_id, who, db, ctx, problem)
    try:
        count = positive_number(days, max_digits=DAYS_DIGITS)
    except ValueError:
        problem = _("Give the number of days, a whole number from 1 to 365.")
        return _page_again(request, account_id, who, db, ctx, problem)
    try:
        made = extensions.extend_term(
            db,
            subscription_id=subscription,
            days=count,
            reason=reason[:1000],
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        if http_status(error) == 422:  # bad input in the use-case's words: the form again
            problem = error.message(current_language())
            return _page_again(request, account_id, who, db, ctx, problem)
        _refused(request, error)
        return _back(account_id, "#extension")
    if made.subscription.account_id != account_id:  # a form of another account's page
        return _back(made.subscription.account_id)
    flash(
        request,
        _("The term is extended by {days} days: invoice {number} for 0.").format(
            days=count, number=made.invoice.number
        ),
        "success",
    )
    return _back(account_id)


CHANGE_KINDS = ("seats", "plan")


def _change_page(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    account_id: int,
    *,
    form: dict[str, str] | None = None,
    preview: changes.Preview | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    options = changes.change_options(db, account_id=account_id, clock=ctx.clock)
    subscription = options.subscription
    return render(
        request,
        "office/account_change.html",
        {
            "account_id": account_id,
            "options": options,
            "form": form or {"kind": "seats", "seats": str(subscription.seats), "plan": ""},
            "preview": preview,
            "paid_through": (
                date.fromordinal(preview.change.after.ends_on.toordinal() - 1)
                if preview is not None
                else None
            ),
            "problem": problem,
        },
        status_code=status_code,
    )


@router.get("/{account_id}/change", include_in_schema=False)
def change_page(
    request: Request, account_id: int, who: VendorAdminDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    """Change the plan or the seats on the customer's behalf: the form, then the preview."""
    return _change_page(request, db, ctx, account_id)


@router.post("/{account_id}/change/preview", include_in_schema=False)
def change_preview(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    kind: Annotated[str, Form()] = "seats",
    seats: Annotated[str, Form()] = "",
    plan: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The exact preview the portal and the API show (`changes.preview_change`): the lines,
    the amount due now, the new end; nothing changes until it is confirmed."""
    form = {
        "kind": kind if kind in CHANGE_KINDS else "seats",
        "seats": seats[:10],
        "plan": plan[:100],
    }
    options = changes.change_options(db, account_id=account_id, clock=ctx.clock)
    try:
        if form["kind"] == "seats":
            params: dict[str, object] = {"seats": positive_number(seats, max_digits=6)}
        else:
            params = {"plan": form["plan"]}
    except ValueError:
        return _change_page(
            request,
            db,
            ctx,
            account_id,
            form=form,
            problem=_("The number of users must be a whole number."),
            status_code=422,
        )
    try:
        preview = changes.preview_change(
            db,
            subscription_id=options.subscription.id,
            kind=form["kind"],
            params=params,
            secret=ctx.settings.secret_key,
            clock=ctx.clock,
        )
    except DomainError as error:
        if http_status(error) == 404:
            raise
        return _change_page(
            request,
            db,
            ctx,
            account_id,
            form=form,
            problem=error.message(current_language()),
            status_code=http_status(error),
        )
    return _change_page(request, db, ctx, account_id, form=form, preview=preview)


@router.post("/{account_id}/change/commit", include_in_schema=False)
def change_commit(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    token: Annotated[str, Form()] = "",
) -> Response:
    """Confirm the previewed change with its token (`changes.commit_change`): the same
    lines, or the service's words when something changed in between."""
    options = changes.change_options(db, account_id=account_id, clock=ctx.clock)
    try:
        done = changes.commit_change(
            db,
            subscription_id=options.subscription.id,
            token=token[:2000],
            secret=ctx.settings.secret_key,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        if http_status(error) == 404:
            raise
        return _change_page(
            request,
            db,
            ctx,
            account_id,
            problem=error.message(current_language()),
            status_code=http_status(error),
        )
    if done.invoice is not None:
        message = _("Change made: invoice {number} for {total} is issued.").format(
            number=done.invoice.number, total=money(done.invoice.total, done.invoice.currency)
        )
    else:
        message = _("Change made.")
    flash(request, message, "success")
    return _back(account_id)


@router.get("/{account_id}/renewal", include_in_schema=False)
def renewal_page(
    request: Request, account_id: int, who: VendorAdminDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    """Every period the next term can be bought for, with the exact price the invoice will
    have (`billing.renewal_offers`, the portal's), each with its button."""
    offers = billing.renewal_offers(db, account_id=account_id, clock=ctx.clock)
    return render(request, "office/account_renewal.html", {"account_id": account_id, "r": offers})


@router.post("/{account_id}/renewals", include_in_schema=False)
def issue_renewal(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    months: Annotated[str, Form()] = "",
) -> Response:
    """Issue the renewal invoice for the period chosen (`billing.renew_subscription`, as
    `POST /api/v1/accounts/{id}/renewals`)."""
    try:
        period = positive_number(months, max_digits=2)
    except ValueError:
        flash(request, _("Choose a period."), "error")
        return RedirectResponse(f"/office/accounts/{account_id}/renewal", status_code=303)
    try:
        invoice = billing.renew_subscription(
            db, account_id=account_id, months=period, actor=who.actor, clock=ctx.clock
        )
    except DomainError as error:
        _refused(request, error)
        return RedirectResponse(f"/office/accounts/{account_id}/renewal", status_code=303)
    flash(
        request,
        _("Renewal invoice {number} for {total} is issued.").format(
            number=invoice.number, total=money(invoice.total, invoice.currency)
        ),
        "success",
    )
    return _back(account_id)
