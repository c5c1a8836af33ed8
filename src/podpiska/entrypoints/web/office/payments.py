"""The back office's payments (`/office/payments`): every account's payments filtered by
account, method, status and the day received, newest first or sorted by a column's header
(`?sort=amount`, `-amount` descending: the day received, the amount), paged (`?after=`), the
filtered rows in the same order as CSV (`/office/payments.csv`), and a month's revenue
(`?month=YYYY-MM`) by tariff, payment method and channel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from podpiska.backoffice import payment_list
from podpiska.backoffice.payment_list import PaymentFilter
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep
from podpiska.entrypoints.web.i18n import N_, _
from podpiska.entrypoints.web.office import sorting
from podpiska.entrypoints.web.office.timeline import card_mask
from podpiska.entrypoints.web.rendering import render

router = APIRouter(prefix="/office")

CHANNELS = {
    "checkout": N_("Card checkout in the portal"),
    "autopay": N_("Autopay charge"),
    "bank_transfer": N_("Bank transfer"),
    "manual": N_("Registered by hand"),
}


def _day(text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(_("The dates must be dates (YYYY-MM-DD)."))
        return None


def _month(text: str, today: date, problems: list[str]) -> date:
    if text:
        try:
            return date.fromisoformat(text + "-01")
        except ValueError:
            problems.append(_("The month must be a month (YYYY-MM)."))
    return today.replace(day=1)


def _wanted(
    account: str, method: str, status: str, received_from: str, received_to: str, sort: str
) -> tuple[PaymentFilter, list[str], dict[str, str]]:
    problems: list[str] = []
    wanted = PaymentFilter(
        account_id=int(account) if account.isdigit() and len(account) < 19 else None,
        method=method if method in payment_list.METHODS else None,
        status=status if status in payment_list.STATUSES else None,
        received_from=_day(received_from, problems),
        received_to=_day(received_to, problems),
        sort=sorting.chosen(sort, payment_list.SORTS),
    )
    kept = {
        "account": str(wanted.account_id or ""),
        "method": wanted.method or "",
        "status": wanted.status or "",
        "received_from": wanted.received_from.isoformat() if wanted.received_from else "",
        "received_to": wanted.received_to.isoformat() if wanted.received_to else "",
        "sort": wanted.sort,
    }
    return wanted, problems, {k: v for k, v in kept.items() if v}


Text = Annotated[str, Query(max_length=50)]


@router.get("/payments", include_in_schema=False)
def payments(
    request: Request,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    account: Text = "",
    method: Text = "",
    status: Text = "",
    received_from: Text = "",
    received_to: Text = "",
    month: Text = "",
    sort: Text = "",
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The filtered payments, newest first or in the chosen sort (an unknown one: newest
    first), 50 a page, and the month's revenue; a bad date or month: 422 with the form."""
    wanted, problems, kept = _wanted(account, method, status, received_from, received_to, sort)
    shown_month = _month(month, ctx.clock.today("Europe/Moscow"), problems)
    found = payment_list.list_payments(db, wanted=wanted, after=after, limit=payment_list.PER_PAGE)
    revenue = payment_list.month_revenue(db, month=shown_month)
    page_total = sum((row.amount for row in found.rows), Decimal("0.00"))
    return render(
        request,
        "office/payments.html",
        {
            "found": found,
            "page_total": page_total,
            "form": kept,
            "methods": payment_list.METHODS,
            "statuses": payment_list.STATUSES,
            "problems": problems,
            "revenue": revenue,
            "month": shown_month.strftime("%Y-%m"),
            "card_mask": card_mask,
            "channel_label": lambda code: _(CHANNELS[code]) if code in CHANNELS else code,
            "older_url": "/office/payments?" + urlencode({**kept, "after": found.next_after})
            if found.has_more
            else None,
            "csv_url": "/office/payments.csv?" + urlencode(kept),
            "sorted": sorting.headers("/office/payments", kept, payment_list.SORTS, wanted.sort),
        },
        status_code=422 if problems else 200,
    )


@router.get("/payments.csv", include_in_schema=False)
def payments_csv(
    who: VendorDep,
    db: DbDep,
    account: Text = "",
    method: Text = "",
    status: Text = "",
    received_from: Text = "",
    received_to: Text = "",
    sort: Text = "",
) -> Response:
    """Every payment of the filtered list (no paging) in the list's order as CSV."""
    wanted, _problems, _kept = _wanted(account, method, status, received_from, received_to, sort)
    body = "".join(payment_list.payments_csv(db, wanted=wanted))
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="payments.csv"'},
    )
