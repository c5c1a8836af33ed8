"""The back office's bank statements (`/office/bank`): upload a 1C statement (the same
`importing.import_statement` as `podpiska bank import` and `POST /api/v1/bank-statements`),
the matching summary of that import, the review queue and what an operator does with a
payment there: match it to an invoice (`review.resolve`), put it on an account's credit
(`review.credit_to_account`) or set it aside as not ours (`review.dismiss`, undone by
`review.reopen`), and the latest bank payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.backoffice import views as back_office
from podpiska.config import our_bank_accounts
from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.web import labels
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep, http_status
from podpiska.entrypoints.web.formatting import money
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.payments.bank import importing, review

router = APIRouter(prefix="/office/bank")

MAX_STATEMENT_BYTES = 64 * 1024 * 1024
SUMMARY_KEY = "bank_import"  # the last import's summary, shown once on the next page
SUMMARY_ACCOUNTS = 10  # accounts of the statement shown in the summary
QUEUE_PAGE = 50  # payments of the review queue a page
OUTCOMES = ("paid", "partial", "overpaid", "unmatched")
OUTCOME_LABELS = {
    "paid": N_("Paid in full"),
    "partial": N_("Paid in part"),
    "overpaid": N_("Overpaid (the rest to credit)"),
    "unmatched": N_("To review"),
    "resolved": N_("Matched by hand"),
    "credited": N_("To account credit"),
    "dismissed": N_("Not ours"),
}


def _summary(report: importing.ImportReport) -> dict[str, Any]:
    """What the page shows of an import (kept in the session until shown: plain values)."""
    return {
        "source": report.source,
        "documents": report.documents,
        "outgoing": report.outgoing,
        "not_ours": report.not_ours,
        "already_imported": report.already_imported,
        "counts": {k: report.counts.get(k, 0) for k in OUTCOMES},
        "amounts": {
            **{k: report.amount.get(k, "0.00") for k in OUTCOMES},
            "outgoing": report.outgoing_amount,
            "not_ours": report.not_ours_amount,
        },
        # the session is a cookie: the first accounts (a statement has one to a few)
        "accounts": [
            [t.account, t.opening, t.received, t.debited, t.closing]
            for t in report.accounts[:SUMMARY_ACCOUNTS]
        ],
        "more_accounts": max(len(report.accounts) - SUMMARY_ACCOUNTS, 0),
    }


def _page(
    request: Request,
    db: DbDep,
    *,
    payment: int | None = None,
    q: str = "",
    credit: int | None = None,
    account_q: str = "",
    problem: str | None = None,
    problem_payment: int | None = None,
    problem_action: str | None = None,
    reason: str = "",
    status_code: int = 200,
    after: int = 0,
) -> HTMLResponse:
    # the queue 50 at a time, oldest first; a payment asked about (chosen, being credited,
    # or refused an action) is shown on the page that starts with it when not on this one
    found = review.queue_page(db, after=after, limit=QUEUE_PAGE)
    focus = payment or credit or problem_payment
    if focus and all(p.id != focus for p in found.rows) and review.waiting(db, focus):
        after = focus - 1
        found = review.queue_page(db, after=after, limit=QUEUE_PAGE)
    queue = list(found.rows)
    selected = next((p for p in queue if p.id == payment), None)
    if not any(p.id == problem_payment for p in queue):
        problem_payment = None  # no longer in the queue: the message goes on top
    query = q if q or selected is None else (selected.payer_inn or "")
    choices = back_office.payable_invoices(db, query=query) if selected is not None else []
    crediting = next((p for p in queue if p.id == credit), None)
    accounts_query = account_q if account_q or crediting is None else (crediting.payer_inn or "")
    accounts = (
        back_office.credit_accounts(db, query=accounts_query) if crediting is not None else []
    )
    summary = request.session.pop(SUMMARY_KEY, None)
    if summary is not None:
        summary["amounts"] = {k: Decimal(v) for k, v in summary["amounts"].items()}
        summary["accounts"] = [
            [account, *(None if v is None else Decimal(v) for v in values)]
            for account, *values in summary.get("accounts", [])
        ]
    return render(
        request,
        "office/bank.html",
        {
            "queue": queue,
            "waiting": review.queue_size(db),
            "next_url": f"/office/bank?after={found.next_after}" if found.has_more else None,
            "first_url": "/office/bank" if after else None,
            "selected": selected,
            "q": query,
            "choices": choices,
            "summary": summary,
            "outcomes": OUTCOMES,
            "outcome_label": lambda code: labels.label(OUTCOME_LABELS, code),
            "latest": back_office.latest_bank_payments(db, limit=20),
            "crediting": crediting,
            "account_q": accounts_query,
            "accounts": accounts,
            "problem": problem,
            "problem_payment": problem_payment,
            "problem_action": problem_action,
            "reason": reason,
        },
        status_code=status_code,
    )


@router.get("", include_in_schema=False)
def bank_page(
    request: Request,
    who: VendorDep,
    db: DbDep,
    payment: int | None = None,
    q: str = "",
    credit: int | None = None,
    account_q: str = "",
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The upload form, the last import's summary, the review queue (50 a page). `?payment=ID&q=...`
    lists the invoices that payment could pay, `?credit=ID&account_q=...` the accounts whose
    credit it could go to (the no-JavaScript form of the searches)."""
    return _page(
        request,
        db,
        payment=payment,
        q=q[:200],
        credit=credit,
        account_q=account_q[:200],
        after=after,
    )


@router.get("/payments/{payment_id}/invoices", include_in_schema=False)
def invoice_choices(
    request: Request, payment_id: int, who: VendorDep, db: DbDep, q: str = ""
) -> Response:
    """The invoices matching `q` for one payment of the queue (the htmx partial)."""
    if request.headers.get("hx-request") != "true":
        query = urlencode({"payment": payment_id, "q": q[:200]})
        return RedirectResponse(f"/office/bank?{query}#payment-{payment_id}", 303)
    selected = review.waiting(db, payment_id)
    choices = back_office.payable_invoices(db, query=q[:200]) if selected is not None else []
    return render(
        request,
        "office/_invoice_choices.html",
        {"p": selected, "choices": choices, "q": q[:200]},
    )


@router.post("/statements", include_in_schema=False)
def upload_statement(
    request: Request,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    statement: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the uploaded statement; a file that cannot be read changes nothing."""
    data = statement.file.read(MAX_STATEMENT_BYTES + 1) if statement is not None else b""
    source = ((statement.filename if statement is not None else None) or "statement.txt")[:200]
    if not data:
        return _page(request, db, problem=_("Choose a statement file."), status_code=422)
    if len(data) > MAX_STATEMENT_BYTES:
        return _page(
            request,
            db,
            problem=_("The file is larger than 64 MB: import it with `podpiska bank import`."),
            status_code=422,
        )
    try:
        report = importing.import_statement(
            db,
            data=data,
            source=source,
            our_accounts=our_bank_accounts(ctx.settings),
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        return _page(
            request, db, problem=error.message(current_language()), status_code=http_status(error)
        )
    request.session[SUMMARY_KEY] = _summary(report)
    flash(request, _("Statement {source} imported.").format(source=source), "success")
    return RedirectResponse("/office/bank", status_code=303)


@router.post("/payments/{payment_id}/resolve", include_in_schema=False)
def resolve_payment(
    request: Request,
    payment_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    invoice_id: Annotated[int, Form()],
) -> Response:
    """Assign a payment of the review queue to an invoice (registered there)."""
    try:
        row = review.resolve(
            db, bank_payment_id=payment_id, invoice_id=invoice_id, actor=who.actor, clock=ctx.clock
        )
    except DomainError as error:
        return _page(
            request,
            db,
            payment=payment_id,
            problem=error.message(current_language()),
            problem_payment=payment_id,
            status_code=http_status(error),
        )
    invoice = back_office.invoice_brief(db, invoice_id=invoice_id)
    flash(
        request,
        _("Payment № {payment} is matched to invoice {invoice} ({account}): {status}.").format(
            payment=row.doc_number,
            invoice=invoice.number,
            account=invoice.account_name,
            status=labels.label(labels.INVOICE_STATUSES, invoice.status).lower(),
        ),
        "success",
    )
    return RedirectResponse("/office/bank", status_code=303)


@router.get("/payments/{payment_id}/accounts", include_in_schema=False)
def account_choices(
    request: Request, payment_id: int, who: VendorDep, db: DbDep, account_q: str = ""
) -> Response:
    """The accounts matching `account_q` for one payment of the queue (the htmx partial)."""
    if request.headers.get("hx-request") != "true":
        query = urlencode({"credit": payment_id, "account_q": account_q[:200]})
        return RedirectResponse(f"/office/bank?{query}#payment-{payment_id}", 303)
    selected = review.waiting(db, payment_id)
    accounts = (
        back_office.credit_accounts(db, query=account_q[:200]) if selected is not None else []
    )
    return render(
        request,
        "office/_account_choices.html",
        {"p": selected, "accounts": accounts, "account_q": account_q[:200]},
    )


@router.post("/payments/{payment_id}/credit", include_in_schema=False)
def credit_payment(
    request: Request,
    payment_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    account_id: Annotated[int, Form()],
) -> Response:
    """Put a payment of the review queue on an account's credit (a prepayment)."""
    try:
        row = review.credit_to_account(
            db, bank_payment_id=payment_id, account_id=account_id, actor=who.actor, clock=ctx.clock
        )
    except DomainError as error:
        return _page(
            request,
            db,
            credit=payment_id,
            problem=error.message(current_language()),
            problem_payment=payment_id,
            problem_action="credit",
            status_code=http_status(error),
        )
    account = back_office.credit_account(db, account_id=account_id)
    flash(
        request,
        _("Payment № {payment} is put on the credit of {account}: its credit is now {credit}.")
        .format(payment=row.doc_number, account=account.name, credit=money(account.credit)),
        "success",
    )  # fmt: skip
    return RedirectResponse("/office/bank", status_code=303)


@router.post("/payments/{payment_id}/dismiss", include_in_schema=False)
def dismiss_payment(
    request: Request,
    payment_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Set a payment of the review queue aside as not ours, with the reason."""
    try:
        row = review.dismiss(
            db, bank_payment_id=payment_id, reason=reason, actor=who.actor, clock=ctx.clock
        )
    except DomainError as error:
        return _page(
            request,
            db,
            problem=error.message(current_language()),
            problem_payment=payment_id,
            problem_action="dismiss",
            reason=reason[:2000],
            status_code=http_status(error),
        )
    flash(
        request,
        _("Payment № {payment} is set aside as not ours.").format(payment=row.doc_number),
        "success",
    )
    return RedirectResponse("/office/bank", status_code=303)


@router.post("/payments/{payment_id}/reopen", include_in_schema=False)
def reopen_payment(
    request: Request, payment_id: int, who: VendorDep, db: DbDep, ctx: ContextDep
) -> Response:
    """Take a payment set aside as not ours back to the review queue."""
    try:
        row = review.reopen(db, bank_payment_id=payment_id, actor=who.actor, clock=ctx.clock)
    except DomainError as error:
        return _page(
            request, db, problem=error.message(current_language()), status_code=http_status(error)
        )
    flash(
        request,
        _("Payment № {payment} is back in the review queue.").format(payment=row.doc_number),
        "success",
    )
    return RedirectResponse(f"/office/bank#payment-{row.id}", status_code=303)
