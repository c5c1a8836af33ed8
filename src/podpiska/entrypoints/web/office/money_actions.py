"""The back office moving money back to a customer (`/office/accounts/{id}/...`), a
vendor_admin's only, each through the use-case the API uses, after a preview of exactly
what will happen: a credit note on a paid invoice
(`subscriptions.credit_notes.issue_credit_note`, as `POST /api/v1/invoices/{id}/credit-notes`:
the lines negated, the money to the account's credit) and a refund of the account's credit
(`payments.refunds.refund_credit`, as `POST /api/v1/accounts/{id}/refunds`: sent by the
gateway to the card it came from, or by a bank transfer). The person is the actor of the
audit row; a domain error comes back as words on the page, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import parse_typed_money
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorAdminDep, http_status
from podpiska.entrypoints.web.formatting import money
from podpiska.entrypoints.web.i18n import _, current_language
from podpiska.entrypoints.web.office.form_ids import optional_id, positive_id
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.invoicing import credit_note_preview
from podpiska.payments import refund_preview
from podpiska.payments.refunds import refund_credit
from podpiska.subscriptions.credit_note_effect import credit_note_ends_term
from podpiska.subscriptions.credit_notes import issue_credit_note

router = APIRouter(prefix="/office/accounts")


def _words(error: DomainError) -> str:
    if http_status(error) == 404:
        raise error
    return error.message(current_language())


def _note_page(
    request: Request,
    db: Session,
    account_id: int,
    *,
    form: dict[str, str] | None = None,
    preview: credit_note_preview.NotePreview | None = None,
    ends_term: date | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "account_id": account_id,
        "invoices": credit_note_preview.creditable_invoices(db, account_id=account_id),
        "form": form or {"invoice_id": "", "reason": ""},
        "preview": preview,
        "ends_term": ends_term,
        "problem": problem,
    }
    return render(request, "office/account_credit_note.html", context, status_code=status_code)


@router.get("/{account_id}/credit-note", include_in_schema=False)
def credit_note_page(
    request: Request, account_id: int, who: VendorAdminDep, db: DbDep
) -> HTMLResponse:
    """A credit note: the account's paid invoices to choose from, and the reason."""
    return _note_page(request, db, account_id)


@router.post("/{account_id}/credit-note/preview", include_in_schema=False)
def credit_note_preview_page(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    invoice_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The note the invoice would get: its lines negated, the total and the VAT, the money
    to the account's credit, the term it ends (or the reason it is refused); nothing is
    written until it is confirmed."""
    form = {"invoice_id": invoice_id[:20], "reason": reason.strip()[:1000]}
    try:
        chosen = positive_id(invoice_id)
    except ValueError:
        return _note_page(
            request, db, account_id, form=form, problem=_("Choose the invoice."), status_code=422
        )
    if not form["reason"]:
        return _note_page(
            request, db, account_id, form=form, problem=_("Give the reason."), status_code=422
        )
    try:
        preview = credit_note_preview.preview_credit_note(
            db, account_id=account_id, invoice_id=chosen
        )
        ends = credit_note_ends_term(db, invoice_id=chosen, clock=ctx.clock)
    except DomainError as error:
        problem = _words(error)
        return _note_page(
            request, db, account_id, form=form, problem=problem, status_code=http_status(error)
        )
    return _note_page(request, db, account_id, form=form, preview=preview, ends_term=ends)


@router.post("/{account_id}/credit-notes", include_in_schema=False)
def credit_note_issue(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    invoice_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Issue the previewed note (`issue_credit_note`, the API's), or the service's words."""
    form = {"invoice_id": invoice_id[:20], "reason": reason.strip()[:1000]}
    try:
        chosen = positive_id(invoice_id)
        # the same checks as the preview: the account's own paid invoice, a reason
        credit_note_preview.preview_credit_note(db, account_id=account_id, invoice_id=chosen)
        if not form["reason"]:
            raise ValueError
        note = issue_credit_note(
            db, invoice_id=chosen, reason=form["reason"], actor=who.actor, clock=ctx.clock
        )
    except ValueError:
        return _note_page(
            request,
            db,
            account_id,
            form=form,
            problem=_("Choose the invoice and give the reason."),
            status_code=422,
        )
    except DomainError as error:
        problem = _words(error)
        return _note_page(
            request, db, account_id, form=form, problem=problem, status_code=http_status(error)
        )
    flash(
        request,
        _(
            "Credit note {number} for {total} is issued; the money is on the account's credit."
        ).format(number=note.number, total=money(-note.total, "RUB")),
        "success",
    )
    return RedirectResponse(f"/office/accounts/{account_id}", status_code=303)


def _refund_page(
    request: Request,
    db: Session,
    account_id: int,
    *,
    form: dict[str, str] | None = None,
    preview: refund_preview.RefundPreview | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "account_id": account_id,
        "available": refund_preview.account_credit_now(db, account_id=account_id),
        "form": form or {"amount": "", "reason": "", "payment_id": ""},
        "payments": refund_preview.payments_to_refund(db, account_id=account_id),
        "preview": preview,
        "problem": problem,
    }
    return render(request, "office/account_refund.html", context, status_code=status_code)


@router.get("/{account_id}/refund", include_in_schema=False)
def refund_page(request: Request, account_id: int, who: VendorAdminDep, db: DbDep) -> HTMLResponse:
    """A refund of the account's credit: the amount and the reason."""
    return _refund_page(request, db, account_id)


@router.post("/{account_id}/refund/preview", include_in_schema=False)
def refund_preview_page(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    payment_id: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """What goes back, and where to (the chosen payment, else the newest card payment with
    enough left through the gateway, or a bank transfer); nothing is written until it is
    confirmed."""
    form = {"amount": amount[:30], "reason": reason.strip()[:500], "payment_id": payment_id[:20]}
    try:
        value = parse_typed_money(amount)  # AmountFormatError: a ValueError
        chosen = optional_id(payment_id)  # blank: the newest with enough left
        if not form["reason"]:
            raise ValueError
    except ValueError:
        return _refund_page(
            request,
            db,
            account_id,
            form=form,
            problem=_("Give the amount (e.g. 1500.00) and the reason."),
            status_code=422,
        )
    try:
        preview = refund_preview.preview_refund(
            db, account_id=account_id, amount=value, payment_id=chosen
        )
    except DomainError as error:
        problem = _words(error)
        return _refund_page(
            request, db, account_id, form=form, problem=problem, status_code=http_status(error)
        )
    return _refund_page(request, db, account_id, form=form, preview=preview)


@router.post("/{account_id}/refunds", include_in_schema=False)
def refund_request(
    request: Request,
    account_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    payment_id: Annotated[str, Form()] = "",
) -> Response:
    """Request the previewed refund (`refund_credit`, the API's): the credit goes down now,
    the gateway worker sends the money (to the chosen payment, if one was chosen)."""
    form = {"amount": amount[:30], "reason": reason.strip()[:500], "payment_id": payment_id[:20]}
    try:
        value = parse_typed_money(amount)  # AmountFormatError: a ValueError
        chosen = optional_id(payment_id)  # blank: the newest with enough left
        if not form["reason"]:
            raise ValueError
        made = refund_credit(
            db,
            account_id=account_id,
            amount=value,
            reason=form["reason"],
            actor=who.actor,
            clock=ctx.clock,
            payment_id=chosen,
        )
    except ValueError:
        return _refund_page(
            request,
            db,
            account_id,
            form=form,
            problem=_("Give the amount (e.g. 1500.00) and the reason."),
            status_code=422,
        )
    except DomainError as error:
        problem = _words(error)
        return _refund_page(
            request, db, account_id, form=form, problem=problem, status_code=http_status(error)
        )
    flash(
        request,
        _("Refund of {amount} is requested; the credit is reduced now.").format(
            amount=money(made.amount, "RUB")
        ),
        "success",
    )
    return RedirectResponse(f"/office/accounts/{account_id}", status_code=303)
