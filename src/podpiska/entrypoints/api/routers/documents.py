"""PDF documents: an invoice, its act, a credit note, a УПД (and its ФНС XML file). Read
like the invoice itself: an account's key sees its own account's documents only (another's
answer 404)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from podpiska.accounts.apikeys import Principal
from podpiska.entrypoints.api.deps import (
    ContextDep,
    Id,
    PrincipalDep,
    SessionDep,
    VendorAdminDep,
    guard_account,
)
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.answers import (
    AccountDocumentsOut,
    DocumentFixOut,
)
from podpiska.entrypoints.api.schemas.invoice_actions import DocumentResendOut, ResendIn
from podpiska.entrypoints.api.schemas.invoicing import DocumentFixIn
from podpiska.entrypoints.documents import (
    RECONCILIATION_FORMATS,
    RendererMissing,
    fetch_edo_xml,
    fetch_pdf,
    fetch_reconciliation,
    reissue_document,
)
from podpiska.invoicing.documents import (
    ACT,
    ADVANCE,
    CORRECTION,
    CREDIT_NOTE,
    FIX_KINDS,
    INVOICE,
    INVOICE_FACTURA,
    UPD,
    document_filename,
)
from podpiska.notifications.document_resend import resend_document

router = APIRouter(tags=["documents"])

_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF, made once and kept."},
    **errors("document_not_found"),
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


@router.get("/upds/{closing_id}/pdf", response_class=Response, responses=_PDF)
def upd_pdf(closing_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Response:
    """A УПД (the closing document of the services rendered to a day, made by the month-end
    run) as PDF: status 1 (счёт-фактура and act) or 2 (the act only); a closing made for an
    account whose `closing_form` was "act" is printed as the act of the month instead."""
    return _pdf(ctx, db, who, UPD, closing_id)


@router.get("/upds/{closing_id}/invoice-factura/pdf", response_class=Response, responses=_PDF)
def upd_invoice_factura_pdf(
    closing_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Response:
    """The счёт-фактура of a closing printed as an act (the account's `closing_form` was
    "act") that charges VAT, as PDF (`SF-UPD-2026-000001.pdf`): the closing's number, date,
    lines and totals on the счёт-фактура form, made once and kept. A УПД-form closing (the
    УПД of status 1 is the счёт-фактура itself) or a closing without VAT: 404
    `document_not_found` with the reason."""
    return _pdf(ctx, db, who, INVOICE_FACTURA, closing_id)


_XML: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/xml": {}},
        "description": "The ФНС's XML file (format 5.03, windows-1251), named by its ИдФайл.",
    },
    **errors("document_not_found", "edo_id_missing", "buyer_edo_id_missing", "edo_file_refused"),
}


@router.get("/upds/{closing_id}/xml", response_class=Response, responses=_XML)
def upd_xml(
    closing_id: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    recipient: Annotated[
        str | None,
        Query(max_length=46, description="The buyer's EDO participant id (2BM-…)."),
    ] = None,
) -> Response:
    """A УПД as the ФНС's XML file for EDO: the sender is PODPISKA_VENDOR_EDO_ID, the
    recipient the buyer's id given here; without either, 409 `edo_id_missing`."""
    return _xml(ctx, db, who, UPD, closing_id, recipient)


def _xml(
    ctx: ContextDep,
    db: SessionDep,
    who: Principal,
    kind: str,
    source_id: int,
    recipient: str | None,
) -> Response:
    try:
        filename, body = fetch_edo_xml(
            ctx, db, kind=kind, source_id=source_id, recipient_id=recipient, scope=who.scope
        )
    except RendererMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(
        content=body,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/advances/{advance_id}/pdf", response_class=Response, responses=_PDF)
def advance_pdf(advance_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep) -> Response:
    """An advance счёт-фактура (issued by the month-end run within 5 days of a prepayment,
    VAT at 22/122) as PDF."""
    return _pdf(ctx, db, who, ADVANCE, advance_id)


@router.get("/advances/{advance_id}/xml", response_class=Response, responses=_XML)
def advance_xml(
    advance_id: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    recipient: Annotated[
        str | None,
        Query(max_length=46, description="The buyer's EDO participant id (2BM-…)."),
    ] = None,
) -> Response:
    """An advance счёт-фактура as the ФНС's XML file (format 5.03, Функция СЧФ); the
    sender and recipient as for a УПД."""
    return _xml(ctx, db, who, ADVANCE, advance_id, recipient)


_RECONCILIATION: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {media: {} for media in RECONCILIATION_FORMATS.values()},
        "description": "The акт сверки as a PDF or an XLSX workbook, made on each call.",
    },
    **errors("reconciliation_period"),
}


@router.get(
    "/accounts/{account_id}/reconciliation", response_class=Response, responses=_RECONCILIATION
)
def reconciliation(
    account_id: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    first_day: Annotated[
        date, Query(alias="from", description="The period's first day, YYYY-MM-DD.")
    ],
    last_day: Annotated[
        date, Query(alias="to", description="The period's last day (inclusive), YYYY-MM-DD.")
    ],
    format: Annotated[Literal["pdf", "xlsx"], Query(description="pdf or xlsx.")] = "pdf",
) -> Response:
    """The акт сверки взаимных расчётов of an account for a period (at most 5 years): the
    opening balance, the sales (УПД, acts), payments, refunds and corrections in date order,
    the turnovers and the closing balance, as the seller keeps them; the buyer's half is
    blank for the buyer. An account's key sees its own account only (another's: 404)."""
    try:
        filename, body, media = fetch_reconciliation(
            ctx,
            db,
            account_id=account_id,
            first_day=first_day,
            last_day=last_day,
            format=format,
            scope=who.scope,
        )
    except RendererMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(
        content=body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/corrections/{correction_id}/pdf", response_class=Response, responses=_PDF)
def correction_pdf(
    correction_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Response:
    """A УКД (the corrective document of a УПД whose services a credit note took back) as
    PDF."""
    return _pdf(ctx, db, who, CORRECTION, correction_id)


@router.get("/corrections/{correction_id}/xml", response_class=Response, responses=_XML)
def correction_xml(
    correction_id: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    recipient: Annotated[
        str | None,
        Query(max_length=46, description="The buyer's EDO participant id (2BM-…)."),
    ] = None,
) -> Response:
    """A УКД as the ФНС's XML file (КНД 1115133); the sender and recipient as for a УПД."""
    return _xml(ctx, db, who, CORRECTION, correction_id, recipient)


# -- исправленные documents (a wrong requisite fixed: the same document, «Исправление № N») --

_PATHS = {UPD: "upds", ADVANCE: "advances"}
_RECIPIENT = Annotated[
    str | None, Query(max_length=46, description="The buyer's EDO participant id (2BM-…).")
]


def _fix_links(kind: str, source_id: int, fix_no: int) -> tuple[str, str]:
    base = f"/api/v1/{_PATHS[kind]}/{source_id}/fixes/{fix_no}"
    return f"{base}/pdf", f"{base}/xml"


def _reissue(
    ctx: ContextDep, db: SessionDep, who: Principal, kind: str, source_id: int, reason: str
) -> Any:
    fix, document, _ = reissue_document(
        ctx, db, kind=kind, source_id=source_id, reason=reason, actor=who.actor
    )
    number = document.number if document is not None else None
    pdf, xml = _fix_links(kind, source_id, fix.fix_no)
    return {
        "id": fix.id,
        "kind": kind,
        "source_id": source_id,
        "fix_no": fix.fix_no,
        "number": number,
        "date": fix.issued_on.isoformat(),
        "reason": fix.reason,
        "pdf": pdf,
        "xml": xml,
    }


_FIX_ERRORS = errors(
    "document_fix_reason_required", "document_fix_reason_too_long", "document_not_rendered"
)


@router.post(
    "/upds/{closing_id}/fixes",
    response_model=DocumentFixOut,
    status_code=201,
    responses=_FIX_ERRORS,
)
def upd_fix(
    closing_id: Id, body: DocumentFixIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Reissue a УПД whose requisite was wrong (fixed since in the account or the
    settings): «Исправление № N» of the same document, with its number, date, lines and
    money, and today's requisites. The original never changes. vendor_admin keys only."""
    return _reissue(ctx, db, who, UPD, closing_id, body.reason)


@router.post(
    "/advances/{advance_id}/fixes",
    response_model=DocumentFixOut,
    status_code=201,
    responses=_FIX_ERRORS,
)
def advance_fix(
    advance_id: Id, body: DocumentFixIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Reissue an advance счёт-фактура whose requisite was wrong, as for a УПД."""
    return _reissue(ctx, db, who, ADVANCE, advance_id, body.reason)


def _fix_id(db: SessionDep, who: Principal, kind: str, source_id: int, fix_no: int) -> int:
    from podpiska.invoicing.document_lookup import resolve_fix

    return resolve_fix(db, kind=kind, source_id=source_id, fix_no=fix_no, scope=who.scope)


@router.get("/upds/{closing_id}/fixes/{fix_no}/pdf", response_class=Response, responses=_PDF)
def upd_fix_pdf(
    closing_id: Id, fix_no: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Response:
    """The исправление № `fix_no` of a УПД as PDF (made once and kept)."""
    return _pdf(ctx, db, who, FIX_KINDS[UPD], _fix_id(db, who, UPD, closing_id, fix_no))


@router.get("/upds/{closing_id}/fixes/{fix_no}/xml", response_class=Response, responses=_XML)
def upd_fix_xml(
    closing_id: Id,
    fix_no: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    recipient: _RECIPIENT = None,
) -> Response:
    """The исправление of a УПД as the ФНС's XML file (ИспрДок: НомИспр, ДатаИспр), a file
    of its own (its GUID is the fix's)."""
    fix_id = _fix_id(db, who, UPD, closing_id, fix_no)
    return _xml(ctx, db, who, FIX_KINDS[UPD], fix_id, recipient)


@router.get("/advances/{advance_id}/fixes/{fix_no}/pdf", response_class=Response, responses=_PDF)
def advance_fix_pdf(
    advance_id: Id, fix_no: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Response:
    """The исправление № `fix_no` of an advance счёт-фактура as PDF."""
    return _pdf(ctx, db, who, FIX_KINDS[ADVANCE], _fix_id(db, who, ADVANCE, advance_id, fix_no))


@router.get("/advances/{advance_id}/fixes/{fix_no}/xml", response_class=Response, responses=_XML)
def advance_fix_xml(
    advance_id: Id,
    fix_no: Id,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
    recipient: _RECIPIENT = None,
) -> Response:
    """The исправление of an advance счёт-фактура as the ФНС's XML file."""
    fix_id = _fix_id(db, who, ADVANCE, advance_id, fix_no)
    return _xml(ctx, db, who, FIX_KINDS[ADVANCE], fix_id, recipient)


# Where each kind's PDF (and ФНС XML) is, by its source id.
_LINKS = {
    INVOICE: ("/api/v1/invoices/{id}/pdf", None),
    ACT: ("/api/v1/invoices/{id}/act.pdf", None),
    CREDIT_NOTE: ("/api/v1/credit-notes/{id}/pdf", None),
    UPD: ("/api/v1/upds/{id}/pdf", "/api/v1/upds/{id}/xml"),
    INVOICE_FACTURA: ("/api/v1/upds/{id}/invoice-factura/pdf", None),
    ADVANCE: ("/api/v1/advances/{id}/pdf", "/api/v1/advances/{id}/xml"),
    CORRECTION: ("/api/v1/corrections/{id}/pdf", "/api/v1/corrections/{id}/xml"),
}


@router.get(
    "/accounts/{account_id}/documents", response_model=AccountDocumentsOut, responses=errors()
)
def account_documents_list(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    """The account's documents, newest first (at most 200 of each kind): invoices, acts,
    УПД, advance счета-фактуры, УКД and credit notes, each with its number, date, amount
    and where its PDF (and, for the ФНС's kinds, its XML) is; a closing (`upd`) names its
    `form` ("upd" or "act": how its PDF prints), and an act-form closing that charges VAT
    is followed by its счёт-фактура (`invoice_factura`, the same number and date; its XML
    is the closing's). Vendor keys and the account's own key
    (another account's: 404)."""
    from podpiska.invoicing.document_lookup import account_documents

    guard_account(who, account_id)
    rows = account_documents(db, account_id=account_id)
    items = []
    for row in rows:
        pdf, xml = _LINKS[row.kind]
        items.append(
            {
                "kind": row.kind,
                "source_id": row.source_id,
                "number": row.number,
                "date": row.day.isoformat() if row.day else None,
                "total": str(row.total),
                "currency": row.currency,
                "invoice_number": row.invoice_number,
                # a closing's (upd) form, recorded when it was made: "upd" or "act"
                "form": row.form,
                "pdf": pdf.format(id=row.source_id),
                "xml": xml.format(id=row.source_id) if xml else None,
                "fixes": [
                    {
                        "fix_no": fix.fix_no,
                        "date": fix.day.isoformat(),
                        "reason": fix.reason,
                        "pdf": _fix_links(row.kind, row.source_id, fix.fix_no)[0],
                        "xml": _fix_links(row.kind, row.source_id, fix.fix_no)[1],
                    }
                    for fix in row.fixes
                ],
            }
        )
    return {"items": items}


# -- a closing document sent again by e-mail with its PDF ----------------------------------

ResentKind = Literal[
    "act",
    "upd",
    "invoice_factura",
    "advance",
    "correction",
    "credit_note",
    "upd_fix",
    "advance_fix",
]


@router.post(
    "/documents/{kind}/{source_id}/resend",
    status_code=202,
    response_model=DocumentResendOut,
    responses=errors("document_not_found"),
)
def document_resend(
    kind: ResentKind,
    source_id: Id,
    body: ResendIn,
    who: PrincipalDep,
    db: SessionDep,
    ctx: ContextDep,
) -> Any:
    """Send a closing document's e-mail again, with its PDF: to `email`, else the account's.
    `kind` and `source_id` name it as its PDF's path does (an act: the invoice's id; a УПД
    or its счёт-фактура: the closing's; an исправление: the fix's id). Recorded in the
    events feed as `document.resent` (no webhook fires) and audited. 404 for a document the
    key does not see, `document_not_found` when the source has no such document (yet); an
    invoice is sent again by `POST /invoices/{id}/resend`."""
    resent = resend_document(
        db,
        kind=kind,
        source_id=source_id,
        email=body.email,
        scope=who.scope,
        actor=who.actor,
        clock=ctx.clock,
    )
    return DocumentResendOut(
        kind=kind,
        source_id=source_id,
        number=resent.document.number,
        delivery_id=resent.delivery.id,
        email=resent.delivery.target,
        status=resent.delivery.status,
    )
