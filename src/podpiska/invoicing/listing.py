"""The API's list of invoices: a page at a time by id (`core.db.paging`) or by a column
(`SORTS`, each with an index of (column, id): migration 0024), filtered by what integrators
search by, scoped by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import Page, page, scoped, sort_of
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.metadata import Metadata
from podpiska.core.domain.scope import Scope
from podpiska.core.metadata import metadata_filter, metadata_of
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import Invoice

INVOICE_KINDS = ("order", "renewal", "change")
INVOICE_STATUSES = ("draft", "issued", "paid", "void")

# What `list_invoices` sorts by besides `id` (the back office's columns): set when an invoice
# is issued and never changed after (a draft has none yet: NULLs sort after every value).
SORTS: dict[str, Any] = {
    "issued_on": Invoice.issued_on,
    "due_on": Invoice.due_on,
    "total": Invoice.total,
    "number": Invoice.number,
}

__all__ = ["INVOICE_KINDS", "INVOICE_STATUSES", "SORTS", "InvoiceFilter", "list_invoices"]


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    account_id: int | None = None
    subscription_id: int | None = None
    kind: str | None = None  # one of INVOICE_KINDS
    status: str | None = None  # one of INVOICE_STATUSES
    issued_from: date | None = None  # inclusive
    issued_to: date | None = None  # inclusive
    number: str | None = None  # exact
    metadata: Mapping[str, str] = field(default_factory=dict)  # every key with its value


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        listed = ", ".join(allowed)
        raise DomainError(
            "invalid_field",
            field=field,
            problem_ru=f"одно из: {listed}",
            problem_en=f"one of: {listed}",
        )


def _query(wanted: InvoiceFilter, scope: Scope) -> Select[Any]:
    query = select(Invoice)
    if wanted.account_id is not None:
        query = query.where(Invoice.account_id == wanted.account_id)
    if wanted.subscription_id is not None:
        query = query.where(Invoice.subscription_id == wanted.subscription_id)
    if wanted.kind is not None:
        query = query.where(Invoice.kind == wanted.kind)
    if wanted.status is not None:
        query = query.where(Invoice.status == wanted.status)
    if wanted.issued_from is not None:
        query = query.where(Invoice.issued_on >= wanted.issued_from)
    if wanted.issued_to is not None:
        query = query.where(Invoice.issued_on <= wanted.issued_to)
    if wanted.number is not None:
        query = query.where(Invoice.number == wanted.number)
    query = query.where(*metadata_filter(Invoice.id, "invoice", wanted.metadata))
    return scoped(query, Invoice.account_id, scope)


def list_invoices(
    session: Session,
    *,
    scope: Scope,
    wanted: InvoiceFilter,
    after: int = 0,
    limit: int = 100,
    descending: bool = False,
    of_account: bool = False,
    sort: str = "id",
) -> tuple[Page[Invoice], dict[int, Metadata]]:
    """A page of the invoices the caller may see that match `wanted`, by id (`descending`:
    newest first) or in the order of `sort` (`id`, a key of `SORTS`, `-` before it:
    descending; else `invalid_field`); `of_account`: the list of one account's
    (`wanted.account_id`), 404 when there is no such account."""
    by, backwards = sort_of(sort, SORTS)
    if descending and by is not None:  # `order=desc` is `sort=-id`: one order at a time
        raise DomainError(
            "invalid_field",
            field="order",
            problem_ru="desc только без sort (по убыванию: «-» перед полем sort)",
            problem_en="desc only without sort (descending: '-' before the sort field)",
        )
    _one_of("kind", wanted.kind, INVOICE_KINDS)
    _one_of("status", wanted.status, INVOICE_STATUSES)
    with session.begin():
        read_only(session)
        if of_account and wanted.account_id is not None:
            get_or_404(session, Account, wanted.account_id, "account")
        found = page(
            session,
            _query(wanted, scope),
            key=Invoice.id,
            after=after,
            limit=limit,
            descending=descending or backwards,
            by=by,
        )
        return found, metadata_of(session, "invoice", [i.id for i in found.rows])
