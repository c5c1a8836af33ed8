"""The payments' lists of the API (issue 17): every payment recorded on an invoice and the
imported bank payments, cursor-paged by id (`core.db.paging`), filtered by what people
search by and scoped by the caller (an account's key sees its own account's rows only).

Each filter is served by an index of (filter, id) (migration 0021): a page reads its
`limit + 1` rows in id order whatever the table's size (bench/lists_money.py). `sort` pages
by a column instead (`SORTS`, each with an index of (column, id): 0021, 0024): a range of
days sorted by the day is read straight from its index, however wide; in id order, a wide
range of days starts its walk at the range's smallest id (`core.db.range_paging`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from podpiska.core.db.paging import Page, page, scoped, sort_of
from podpiska.core.db.range_paging import page_of_range
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.invoicing.models import Payment
from podpiska.payments.bank.models import BankPayment
from podpiska.payments.bank.review import BANK_PAYMENT_STATUSES

# What `list_payments` sorts by besides `id`: columns that never change once recorded.
SORTS: dict[str, Any] = {"received_on": Payment.received_on, "amount": Payment.amount}


def list_payments(
    session: Session,
    *,
    scope: Scope,
    account_id: int | None = None,
    invoice_id: int | None = None,
    method: str | None = None,
    status: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    after: int = 0,
    limit: int = 100,
    sort: str = "id",
) -> Page[Payment]:
    """Payments oldest first (by id) after `after`, or in the order of `sort` (`id`, a key
    of `SORTS`, `-` before it: descending; else `invalid_field`); `received_from`/
    `received_to` bound the day the money arrived, both inclusive."""
    by, descending = sort_of(sort, SORTS)
    query = scoped(select(Payment), Payment.account_id, scope)
    if account_id is not None:
        query = query.where(Payment.account_id == account_id)
    if invoice_id is not None:
        query = query.where(Payment.invoice_id == invoice_id)
    if method is not None:
        query = query.where(Payment.method == method)
    if status is not None:
        query = query.where(Payment.status == status)
    days: list[ColumnElement[bool]] = []
    if received_from is not None:
        days.append(Payment.received_on >= received_from)
    if received_to is not None:
        days.append(Payment.received_on <= received_to)
    query = query.where(*days)
    with session.begin():
        return page_of_range(
            session,
            query,
            key=Payment.id,
            where=days,
            day=Payment.received_on,
            by=by,  # the (column, id) index: a range of its column is read from it
            after=after,
            limit=limit,
            descending=descending,
        )


def list_bank_payments(
    session: Session,
    *,
    status: str | None = "unmatched",
    account_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    after: int = 0,
    limit: int = 100,
) -> Page[BankPayment]:
    """Imported bank payments (a vendor's list): the review queue (`unmatched`) oldest
    first, any other status (None: all) newest first, what was done last on top."""
    if status is not None and status not in BANK_PAYMENT_STATUSES:
        raise DomainError(
            "invalid_field",
            field="status",
            problem_ru="одно из " + ", ".join(BANK_PAYMENT_STATUSES),
            problem_en="one of " + ", ".join(BANK_PAYMENT_STATUSES),
        )
    query = select(BankPayment)
    if status is not None:
        query = query.where(BankPayment.status == status)
    if account_id is not None:
        query = query.where(BankPayment.account_id == account_id)
    if day_from is not None:
        query = query.where(BankPayment.day >= day_from)
    if day_to is not None:
        query = query.where(BankPayment.day <= day_to)
    with session.begin():
        return page(
            session,
            query,
            key=BankPayment.id,
            after=after,
            limit=limit,
            descending=status != "unmatched",
        )
