"""The accountant's books: the книга продаж of a period and a month's EDO files (a
vendor_admin key only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from podpiska.core.domain.errors import DomainError
from podpiska.core.records import MAX_ID
from podpiska.entrypoints.api.deps import ContextDep, SessionDep, VendorAdminDep
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.accounting import SalesLedgerOut
from podpiska.entrypoints.documents import RendererMissing, spooled_edo_export
from podpiska.invoicing.accounting import sales_ledger

router = APIRouter(tags=["accounting"])


@router.get(
    "/accounting/sales-ledger",
    response_model=SalesLedgerOut,
    responses=errors(vendor=True, found=False),
)
def get_sales_ledger(
    who: VendorAdminDep,
    db: SessionDep,
    start: Annotated[date, Query(alias="from", description="The first day, YYYY-MM-DD.")],
    end: Annotated[date, Query(alias="to", description="The last day, YYYY-MM-DD.")],
) -> SalesLedgerOut:
    """The книга продаж (codes 01: a УПД; 02: an advance счёт-фактура) and the seller's
    книга покупок lines of code 22 (an advance's VAT deducted) for the documents dated in
    [from, to], with the totals per column. Amounts are strings with two decimals."""
    if start > end:
        raise DomainError(
            "invalid_field",
            field="from",
            problem_ru=f"после конца периода ({end.isoformat()})",
            problem_en=f"is after the period's end ({end.isoformat()})",
        )
    return SalesLedgerOut.of(sales_ledger(db, start=start, end=end))


_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/zip": {}},
        "description": "The ZIP: each document's ФНС XML file and PDF, and manifest.csv.",
    },
    **errors("edo_id_missing", "edo_file_refused", vendor=True, found=False),
}


@router.get("/accounting/edo-export", response_class=StreamingResponse, responses=_ZIP)
def get_edo_export(
    who: VendorAdminDep,
    db: SessionDep,
    ctx: ContextDep,
    month: Annotated[str, Query(max_length=20, description="The calendar month, YYYY-MM.")],
    account_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this account's documents.")
    ] = None,
) -> StreamingResponse:
    """The УПД, advance счета-фактуры and УКД issued in a month (by their date) as one ZIP:
    each document's ФНС XML file (format 5.03, the recipient the account's `edo_id`) with
    its PDF beside it under the same name, and `manifest.csv` (number; kind; account_id;
    issued_on; total; xml; pdf; note). A buyer without an EDO participant id: its PDF
    only, the manifest says why. A bad month: 422 `invalid_field`."""
    try:
        chunks, name = spooled_edo_export(ctx, db, month=month, account_id=account_id)
    except RendererMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
