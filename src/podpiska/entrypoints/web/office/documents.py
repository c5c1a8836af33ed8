"""The back office's documents of a month (`/office/documents`): the УПД, advance
счета-фактуры, УКД, acts, credit notes and исправления dated in it, filtered, sorted by date
or by a column's header (`?sort=amount`, `-amount` descending: the date, the number, the
amount) and paged, the sums per kind, the CSV of the filtered list in the same order, and
each document's PDF (an act-form closing's счёт-фактура too) and ФНС XML file."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from podpiska.backoffice import month_documents as month
from podpiska.backoffice.month_documents import DocumentFilter, MonthDocument
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.documents import (
    RendererMissing,
    fetch_edo_xml,
    fetch_pdf,
    reissue_document,
    spooled_edo_export,
)
from podpiska.entrypoints.web import labels
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorAdminDep, VendorDep
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.office import sorting
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.invoicing.documents import (
    ACT,
    ADVANCE,
    ADVANCE_FIX,
    CORRECTION,
    CREDIT_NOTE,
    FIX_KINDS,
    INVOICE_FACTURA,
    UPD,
    UPD_FIX,
    document_filename,
)

router = APIRouter(prefix="/office")

KIND_LABELS = {
    UPD: N_("UPD"),
    ADVANCE: N_("Advance VAT invoice"),
    CORRECTION: N_("UKD"),
    ACT: N_("Act"),
    CREDIT_NOTE: N_("Credit note"),
    UPD_FIX: N_("UPD correction"),
    ADVANCE_FIX: N_("Advance VAT invoice correction"),
}
assert tuple(KIND_LABELS) == month.KINDS  # the filter's choices, in the totals' order
XML_KINDS = (UPD, ADVANCE, CORRECTION)  # those with a ФНС XML file for EDO
# The PDFs a row links: its own (credit notes and исправления included: the account page's
# documents link them too), and an act-form closing's счёт-фактура beside it.
PDF_KINDS = (*month.KINDS, INVOICE_FACTURA)
TEST_CHOICES = {"yes": True, "no": False}
# What a row refers to, said under its kind: «Исправление № 1 к УПД № …».
REFERS = {
    CORRECTION: N_("to UPD № %(number)s"),
    CREDIT_NOTE: N_("to invoice № %(number)s"),
    UPD_FIX: N_("Correction № %(fix)s to UPD № %(number)s"),
    ADVANCE_FIX: N_("Correction № %(fix)s to advance VAT invoice № %(number)s"),
}


def _kind_label(code: str) -> str:
    return labels.label(KIND_LABELS, code)


def _refers(row: MonthDocument) -> str:
    """The document `row` refers to, in words (blank: none)."""
    if row.refers_to is None or row.kind not in REFERS:
        return ""
    return _(REFERS[row.kind]) % {"fix": row.fix_no, "number": row.refers_to}


def _wanted(
    month_text: str, kind: str, q: str, test: str, sort: str, *, current: date
) -> DocumentFilter:
    """The filter of the query's fields; a month that is not YYYY-MM or an unknown kind
    raises `invalid_field`; an unknown sort is the default (by date)."""
    return DocumentFilter(
        month=month.parse_month(month_text) if month_text else current,
        kind=month.parse_kind(kind),
        query=q[:200],
        test=TEST_CHOICES.get(test),
        sort=sorting.chosen(sort, month.SORTS),
    )


def _kept_wanted(
    month_text: str, kind: str, q: str, test: str, sort: str, *, current: date
) -> tuple[DocumentFilter, list[str], bool]:
    """The filter shown when a field is wrong: each wrong field dropped (the current month,
    every kind), the others kept; with the reasons and whether the month was the wrong one."""
    problems: list[str] = []
    bad_month = False
    try:
        if month_text:
            month.parse_month(month_text)
    except DomainError as error:
        problems.append(error.message(current_language()))
        month_text, bad_month = "", True
    try:
        month.parse_kind(kind)
    except DomainError as error:
        problems.append(error.message(current_language()))
        kind = ""
    return _wanted(month_text, kind, q, test, sort, current=current), problems, bad_month


@router.get("/documents", include_in_schema=False)
def documents(
    request: Request,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    month_: Annotated[str, Query(alias="month", max_length=20)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    test: Annotated[str, Query(max_length=5)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: int = 1,
) -> HTMLResponse:
    """The month's closing documents (the current month in Moscow time by default)."""
    current = month.current_month(ctx.clock)
    # a bad month: the current one; a bad kind: every kind; the rest kept (the sort)
    wanted, problems, bad_month = _kept_wanted(month_, kind, q, test, sort, current=current)
    problem = " ".join(problems) or None
    found = month.month_documents(db, wanted=wanted, page=page, per_page=month.PER_PAGE)
    kept = {
        k: v
        for k, v in {
            "month": wanted.month.strftime("%Y-%m"),
            "kind": wanted.kind or "",
            "q": wanted.query,
            "test": test if test in TEST_CHOICES else "",
            "sort": wanted.sort,
        }.items()
        if v
    }

    def page_url(number: int) -> str:
        return "/office/documents?" + urlencode({**kept, "page": number})

    return render(
        request,
        "office/documents.html",
        {
            "found": found,
            "form": {
                "month": month_ if bad_month else kept["month"],
                "q": q,
                "test": kept.get("test", ""),
                "sort": wanted.sort,
            },
            "sorted": sorting.headers(
                "/office/documents", kept, month.SORTS, wanted.sort or "date"
            ),
            "kinds": KIND_LABELS,
            "kind_label": _kind_label,
            "refers": _refers,
            "xml_kinds": XML_KINDS,
            "problem": problem,
            "page_url": page_url,
            "csv_url": "/office/documents.csv?" + urlencode(kept),
            "export_url": "/office/documents/edo-export.zip?" + urlencode({"month": kept["month"]}),
            "back": "/office/documents?" + urlencode({**kept, "page": page}),
            "fix_kinds": tuple(FIX_KINDS),
            "admin": who.is_vendor_admin,
        },
        status_code=422 if problem else 200,
    )


@router.get("/documents.csv", include_in_schema=False)
def documents_csv(
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    month_: Annotated[str, Query(alias="month", max_length=20)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    test: Annotated[str, Query(max_length=5)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Every document of the filtered list (no paging) in the list's order as CSV; a bad
    month or kind: 422."""
    wanted = _wanted(month_, kind, q, test, sort, current=month.current_month(ctx.clock))
    body = "".join(month.month_documents_csv(db, wanted=wanted))
    name = f"documents-{wanted.month.strftime('%Y-%m')}.csv"
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _kind(kind: str, allowed: tuple[str, ...]) -> str:
    if kind not in allowed:
        raise HTTPException(404)
    return kind


@router.get("/documents/{kind}/{source_id}.pdf", include_in_schema=False)
def document_pdf(kind: str, source_id: int, who: VendorDep, db: DbDep, ctx: ContextDep) -> Response:
    """A document's stored PDF (made now if the worker has not yet), as the API serves it."""
    try:
        document, pdf = fetch_pdf(
            ctx, db, kind=_kind(kind, PDF_KINDS), source_id=source_id, scope=Scope.vendor()
        )
    except RendererMissing:
        raise HTTPException(503) from None
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document_filename(document)}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/documents/{kind}/{source_id}/xml", include_in_schema=False)
def document_xml(
    request: Request,
    kind: str,
    source_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    recipient: Annotated[str, Query(max_length=46)] = "",
) -> Response:
    """The ФНС XML file of a УПД, advance счёт-фактура or УКД for the buyer's EDO id given
    in the form (`recipient`), else the one stored on the account; with neither, the form.
    A wrong id or no sender id: the form again with the reason (422)."""
    kind = _kind(kind, XML_KINDS)
    problem = None
    try:  # the id typed in the form, else the one stored on the buyer's account
        filename, body = fetch_edo_xml(
            ctx,
            db,
            kind=kind,
            source_id=source_id,
            recipient_id=recipient.strip() or None,
            scope=Scope.vendor(),
        )
    except RendererMissing:
        raise HTTPException(503) from None
    except DomainError as error:
        if error.code == "not_found":
            raise
        if recipient.strip() or error.code != "buyer_edo_id_missing":
            problem = error.message(current_language())  # said above the form
    else:
        return Response(
            content=body,
            media_type="application/xml",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "private, no-store",
            },
        )
    return render(
        request,
        "office/document_xml.html",
        {
            "kind": kind,
            "kind_label": _kind_label,
            "source_id": source_id,
            "recipient": recipient,
            "problem": problem,
        },
        # a refused id typed in: 422; the form first shown (no id anywhere, or no
        # seller's id, said at once): 200
        status_code=422 if problem and recipient.strip() else 200,
    )


@router.get("/documents/edo-export.zip", include_in_schema=False)
def documents_edo_export(
    request: Request,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    month_: Annotated[str, Query(alias="month", max_length=20)] = "",
) -> Response:
    """The month's EDO files as one ZIP (each document's ФНС XML and PDF, manifest.csv),
    as the API's `/accounting/edo-export`; vendor_admin only. A refusal (no sender id, a
    bad month): back to the page with the reason."""
    wanted = month_ or month.current_month(ctx.clock).strftime("%Y-%m")
    try:
        chunks, name = spooled_edo_export(ctx, db, month=wanted, account_id=None)
    except RendererMissing:
        raise HTTPException(503) from None
    except DomainError as error:
        flash(request, error.message(current_language()), "error")
        return RedirectResponse("/office/documents?" + urlencode({"month": wanted}), 303)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/documents/{kind}/{source_id}/reissue", include_in_schema=False)
def document_reissue(
    request: Request,
    kind: str,
    source_id: int,
    who: VendorAdminDep,
    db: DbDep,
    ctx: ContextDep,
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/office/documents",
) -> Response:
    """An исправление of a УПД or advance счёт-фактура whose requisite was wrong (fixed
    since in the account or the settings), with the operator's reason; vendor_admin only,
    audited with the person. Its PDF is made at once; the page says its number."""
    kind = _kind(kind, tuple(FIX_KINDS))
    target = back if back.startswith("/office/documents") else "/office/documents"
    try:
        fix, document, _pdf = reissue_document(
            ctx, db, kind=kind, source_id=source_id, reason=reason, actor=who.actor
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        flash(request, error.message(current_language()), "error")
        return RedirectResponse(target, 303)
    flash(
        request,
        _("Correction № {fix} is issued: {file}.").format(
            fix=fix.fix_no,
            file=document_filename(document) if document else _("the PDF comes within a minute"),
        ),
        "success",
    )
    return RedirectResponse(target, 303)
