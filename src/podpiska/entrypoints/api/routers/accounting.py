"""The accountant's books: the книга продаж of a period (a vendor_admin key only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.api.deps import SessionDep, VendorAdminDep
from podpiska.entrypoints.api.schemas.accounting import SalesLedgerOut
from podpiska.invoicing.accounting import sales_ledger

router = APIRouter(tags=["accounting"])


@router.get("/accounting/sales-ledger", response_model=SalesLedgerOut)
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
