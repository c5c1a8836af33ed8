"""The back office's invoices (`/office/invoices`): every account's invoices filtered by
account, kind, status, issued range and number, newest first or sorted by a column's header
(`?sort=total`, `-total` descending: the day issued, the number, the total, the due day),
paged (`?after=`), and the filtered rows in the same order as CSV (`/office/invoices.csv`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from podpiska.backoffice import invoice_list
from podpiska.backoffice.invoice_list import InvoiceFilter
from podpiska.entrypoints.web.deps import DbDep, VendorDep
from podpiska.entrypoints.web.i18n import _
from podpiska.entrypoints.web.office import sorting
from podpiska.entrypoints.web.rendering import render

router = APIRouter(prefix="/office")


def _day(text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_("The dates must be dates (YYYY-MM-DD)."))
        return None


def _wanted(
    account: str,
    kind: str,
    status: str,
    issued_from: str,
    issued_to: str,
    number: str,
    sort: str,
) -> tuple[InvoiceFilter, list[str], dict[str, str]]:
    problems: list[str] = []
    wanted = InvoiceFilter(
        account_id=int(account) if account.isdigit() and len(account) < 19 else None,
        kind=kind if kind in invoice_list.KINDS else None,
        status=status if status in invoice_list.STATUSES else None,
        issued_from=_day(issued_from, problems),
        issued_to=_day(issued_to, problems),
        number=number.strip()[:50],
        sort=sorting.chosen(sort, invoice_list.SORTS),
    )
    kept = {
        "account": str(wanted.account_id or ""),
        "kind": wanted.kind or "",
        "status": wanted.status or "",
        "issued_from": wanted.issued_from.isoformat() if wanted.issued_from else "",
        "issued_to": wanted.issued_to.isoformat() if wanted.issued_to else "",
        "number": wanted.number,
        "sort": wanted.sort,
    }
    return wanted, problems, {k: v for k, v in kept.items() if v}


Text = Annotated[str, Query(max_length=50)]


@router.get("/invoices", include_in_schema=False)
def invoices(
    request: Request,
    who: VendorDep,
    db: DbDep,
    account: Text = "",
    kind: Text = "",
    status: Text = "",
    issued_from: Text = "",
    issued_to: Text = "",
    number: Text = "",
    sort: Text = "",
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The filtered invoices, newest first or in the chosen sort (an unknown one: newest
    first), 50 a page; a bad date: 422 with the form."""
    wanted, problems, kept = _wanted(account, kind, status, issued_from, issued_to, number, sort)
    found = invoice_list.list_invoices(db, wanted=wanted, after=after, limit=invoice_list.PER_PAGE)
    return render(
        request,
        "office/invoices.html",
        {
            "found": found,
            "form": kept,
            "kinds": invoice_list.KINDS,
            "statuses": invoice_list.STATUSES,
            "problems": problems,
            "older_url": "/office/invoices?" + urlencode({**kept, "after": found.next_after})
            if found.has_more
            else None,
            "csv_url": "/office/invoices.csv?" + urlencode(kept),
            "sorted": sorting.headers("/office/invoices", kept, invoice_list.SORTS, wanted.sort),
        },
        status_code=422 if problems else 200,
    )


@router.get("/invoices.csv", include_in_schema=False)
def invoices_csv(
    who: VendorDep,
    db: DbDep,
    account: Text = "",
    kind: Text = "",
    status: Text = "",
    issued_from: Text = "",
    issued_to: Text = "",
    number: Text = "",
    sort: Text = "",
) -> Response:
    """Every invoice of the filtered list (no paging) in the list's order as CSV."""
    wanted, _problems, _kept = _wanted(account, kind, status, issued_from, issued_to, number, sort)
    body = "".join(invoice_list.invoices_csv(db, wanted=wanted))
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invoices.csv"'},
    )
