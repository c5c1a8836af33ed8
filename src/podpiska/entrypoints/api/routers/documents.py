"""PDF documents: an invoice, its act, a credit note. Read like the invoice itself: an
account's key sees its own account's documents only (another's answer 404)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from podpiska.accounts.apikeys import Principal
from podpiska.entrypoints.api.deps import ContextDep, Id, PrincipalDep, SessionDep
from podpiska.entrypoints.documents import RendererMissing, fetch_pdf
from podpiska.invoicing.documents import ACT, CREDIT_NOTE, INVOICE, document_filename

router = APIRouter(tags=["documents"])

_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF, made once and kept."}
}


def _pdf(ctx: ContextDep, db: SessionDep, who: Principal, kind: str, source_id: int) -> Response:
    try:
        document, pdf = fetch_pdf(
            ctx,
            db,
            kind=kind,
            source_id=source_id,
            scope=who.scope,
        )
    except RendererMissing as exc:
        raise HTTPException(503, str(exc)) from None
    filename = document_filename(document)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/invoices/{invoice_id}/pdf", response_class=Response, responses=_PDF)
def invoice_pdf(invoice_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Response:
    """The invoice (Счёт на оплату) as PDF, with the vendor's bank requisites."""
    return _pdf(ctx, db, who, INVOICE, invoice_id)


@router.get("/invoices/{invoice_id}/act.pdf", response_class=Response, responses=_PDF)
def act_pdf(invoice_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Response:
    """The act (Акт об оказании услуг) of an invoice paid in full; 404 before that."""
    return _pdf(ctx, db, who, ACT, invoice_id)


@router.get("/credit-notes/{credit_note_id}/pdf", response_class=Response, responses=_PDF)
def credit_note_pdf(
    credit_note_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Response:
    """A credit note (Корректировочный документ) as PDF."""
    return _pdf(ctx, db, who, CREDIT_NOTE, credit_note_id)
