"""The portal's documents (`/portal/{account}/documents`): invoices, acts, credit notes,
УПД (or the acts of the month with their счета-фактуры), and their PDFs."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from podpiska.core.domain.scope import Scope
from podpiska.entitlements import overview as license_overview
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.documents import (
    RECONCILIATION_FORMATS,
    RendererMissing,
    fetch_pdf,
    fetch_reconciliation,
)
from podpiska.entrypoints.web.deps import ContextDep, DbDep, PersonDep, guard_account
from podpiska.entrypoints.web.i18n import N_, _
from podpiska.entrypoints.web.rendering import render
from podpiska.invoicing.document_lookup import account_documents
from podpiska.invoicing.documents import (
    ACT,
    ADVANCE,
    CORRECTION,
    CREDIT_NOTE,
    INVOICE,
    INVOICE_FACTURA,
    UPD,
)
from podpiska.invoicing.documents import document_filename as pdf_filename
from podpiska.payments import history as account_views

router = APIRouter(prefix="/portal")

DOCUMENT_KINDS = {
    INVOICE: N_("Invoice"),
    ACT: N_("Act"),
    CREDIT_NOTE: N_("Credit note"),
    UPD: N_("UPD"),
    ADVANCE: N_("Advance VAT invoice"),
    CORRECTION: N_("UKD (corrective document)"),
    INVOICE_FACTURA: N_("VAT invoice"),
}


def _pdf(ctx: Context, db: DbDep, account_id: int, kind: str, source_id: int) -> Response:
    try:
        document, pdf = fetch_pdf(
            ctx, db, kind=kind, source_id=source_id, scope=Scope.account(account_id)
        )
    except RendererMissing:
        raise HTTPException(503) from None
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf_filename(document)}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/{account_id}/invoices/{invoice_id}/invoice.pdf", include_in_schema=False)
def invoice_pdf(
    account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, INVOICE, invoice_id)


@router.get("/{account_id}/invoices/{invoice_id}/act.pdf", include_in_schema=False)
def act_pdf(
    account_id: int, invoice_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, ACT, invoice_id)


@router.get("/{account_id}/credit-notes/{note_id}/credit-note.pdf", include_in_schema=False)
def credit_note_pdf(
    account_id: int, note_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, CREDIT_NOTE, note_id)


@router.get("/{account_id}/upds/{closing_id}/upd.pdf", include_in_schema=False)
def upd_pdf(
    account_id: int, closing_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, UPD, closing_id)


@router.get("/{account_id}/upds/{closing_id}/invoice-factura.pdf", include_in_schema=False)
def invoice_factura_pdf(
    account_id: int, closing_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    """The счёт-фактура of a closing printed as an act that charges VAT."""
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, INVOICE_FACTURA, closing_id)


@router.get("/{account_id}/advances/{advance_id}/advance.pdf", include_in_schema=False)
def advance_pdf(
    account_id: int, advance_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, ADVANCE, advance_id)


@router.get("/{account_id}/reconciliation.{format}", include_in_schema=False)
def reconciliation(
    account_id: int, format: str, who: PersonDep, db: DbDep, ctx: ContextDep, year: int
) -> Response:
    """The account's акт сверки for a calendar year, up to today for the current one."""
    guard_account(who, account_id)
    if format not in RECONCILIATION_FORMATS or not 2000 <= year <= 9999:
        raise HTTPException(404)
    today = ctx.clock.today("Europe/Moscow")
    first, last = date(year, 1, 1), min(date(year, 12, 31), max(today, date(year, 1, 1)))
    try:
        filename, body, media = fetch_reconciliation(
            ctx,
            db,
            account_id=account_id,
            first_day=first,
            last_day=last,
            format=format,
            scope=Scope.account(account_id),
        )
    except RendererMissing:
        raise HTTPException(503) from None
    return Response(
        content=body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/{account_id}/corrections/{correction_id}/correction.pdf", include_in_schema=False)
def correction_pdf(
    account_id: int, correction_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> Response:
    guard_account(who, account_id)
    return _pdf(ctx, db, account_id, CORRECTION, correction_id)


@router.get("/{account_id}/documents", include_in_schema=False)
def documents(
    request: Request, account_id: int, who: PersonDep, db: DbDep, ctx: ContextDep
) -> HTMLResponse:
    guard_account(who, account_id)
    overview = license_overview.subscription_overview(db, account_id=account_id, clock=ctx.clock)
    return render(
        request,
        "portal/documents.html",
        {
            "overview": overview,
            "documents": account_documents(db, account_id=account_id),
            "payments": account_views.account_payments(db, account_id=account_id),
            "kinds": {kind: _(label) for kind, label in DOCUMENT_KINDS.items()},
            "year": ctx.clock.today("Europe/Moscow").year,
        },
    )
