"""The back office's invoices list (`/office/invoices`): every account's invoices filtered
by account, kind, status, issued range and number, newest first or sorted by the day issued,
the number, the total or the due day (`sort`: the key, `-key` descending), paged by id
(`?after=`: keyset paging on (the sorted column, id)), and the same filtered rows in the same
order as CSV (the convention of the documents' CSV: comma-separated, ISO dates, amounts with
a dot and two decimals, a header first)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import Page, ordered, page
from podpiska.core.db.session import read_only
from podpiska.invoicing.models import Invoice

KINDS = ("order", "renewal", "change")
STATUSES = ("draft", "issued", "paid", "void")
# The columns the list sorts by (each with an index of (column, id) on PostgreSQL).
SORTS: dict[str, Any] = {
    "issued": Invoice.issued_on,
    "number": Invoice.number,
    "total": Invoice.total,
    "due": Invoice.due_on,
}
PER_PAGE = 50
CSV_COLUMNS = (
    "number",
    "kind",
    "status",
    "issued_on",
    "account_id",
    "account_name",
    "total",
    "amount_paid",
    "currency",
    "due_on",
)


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    account_id: int | None = None
    kind: str | None = None
    status: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None  # inclusive
    number: str = ""
    sort: str = ""  # one of SORTS, `-` before it: descending; anything else: newest first


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    number: str | None
    kind: str
    status: str
    issued_on: date | None
    account_id: int
    account_name: str
    total: Decimal
    amount_paid: Decimal
    currency: str
    due_on: date | None


def _sorting(sort: str) -> tuple[Any, bool]:
    """The column of `sort` (None: by id) and whether descending; unknown: newest first."""
    column = SORTS.get(sort.removeprefix("-"))
    if column is None:
        return None, True
    return column, sort.startswith("-")


def _query(wanted: InvoiceFilter) -> Select[Any]:
    columns: tuple[Any, ...] = (
        Invoice.id,
        Invoice.number,
        Invoice.kind,
        Invoice.status,
        Invoice.issued_on,
        Invoice.account_id,
        Account.name,
        Invoice.total,
        Invoice.amount_paid,
        Invoice.currency,
        Invoice.due_on,
    )
    query: Select[Any] = select(*columns).join(Account, Account.id == Invoice.account_id)
    if wanted.account_id is not None:
        query = query.where(Invoice.account_id == wanted.account_id)
    if wanted.kind:
        query = query.where(Invoice.kind == wanted.kind)
    if wanted.status:
        query = query.where(Invoice.status == wanted.status)
    if wanted.issued_from:
        query = query.where(Invoice.issued_on >= wanted.issued_from)
    if wanted.issued_to:
        query = query.where(Invoice.issued_on <= wanted.issued_to)
    if wanted.number:
        query = query.where(Invoice.number.contains(wanted.number, autoescape=True))
    return query


def _row(r: Any) -> InvoiceRow:
    return InvoiceRow(*r)


def list_invoices(
    session: Session, *, wanted: InvoiceFilter, after: int = 0, limit: int = PER_PAGE
) -> Page[InvoiceRow]:
    """A page of the matching invoices in the filter's order (newest first by default)."""
    by, descending = _sorting(wanted.sort)
    with session.begin():
        read_only(session)
        found = page(
            session,
            _query(wanted),
            key=Invoice.id,
            after=after,
            limit=max(1, min(limit, 500)),
            descending=descending,
            by=by,
        )
    return found.map(_row)


def invoices_csv(session: Session, *, wanted: InvoiceFilter) -> Iterator[str]:
    """Every matching invoice (no paging) in the list's order, as CSV text."""
    by, descending = _sorting(wanted.sort)
    with session.begin():
        read_only(session)
        query = ordered(_query(wanted), key=Invoice.id, by=by, descending=descending)
        rows = [_row(r) for r in session.execute(query)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.number or "",
                row.kind,
                row.status,
                row.issued_on.isoformat() if row.issued_on else "",
                row.account_id,
                row.account_name,
                row.total,
                row.amount_paid,
                row.currency,
                row.due_on.isoformat() if row.due_on else "",
            )
        )
    yield buffer.getvalue()
