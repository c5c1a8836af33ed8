"""The money and events lists (issue 17): payments, credit notes, closing documents and the
outbox events as one feed, cursor-paged (`PageOut`: `?after=` the last id seen, `?limit=`
1..1000), oldest first by id; payments and events also by a column (`?sort=`, an enum in the
OpenAPI; `next_after` is still the last row's id). An account's key lists its own account's
rows only; naming another account in `account_id` answers 404, as reading that account
would (docs/api.md, "Lists")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from podpiska.core.records import MAX_ID
from podpiska.entrypoints.api.deps import After, Limit, PrincipalDep, SessionDep, guard_account
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.common import Code, Moment
from podpiska.entrypoints.api.schemas.money_lists import (
    ClosingDocumentOut,
    CreditNoteItemOut,
    EventOut,
    PaymentItemOut,
    event_page,
)
from podpiska.invoicing.document_listing import list_closing_documents, list_credit_notes
from podpiska.notifications.event_feed import list_events
from podpiska.payments.listing import list_payments

router = APIRouter(tags=["lists"])

QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Day = Annotated[date | None, Query(description="A day, YYYY-MM-DD, inclusive")]
PaymentSort = Annotated[
    Literal["id", "-id", "received_on", "-received_on", "amount", "-amount"],
    Query(
        description="The order: by id (the default), the day the money arrived or the amount, "
        "`-` before it: descending; ties by id. A range of days is read fastest sorted by the "
        "day (`received_on`)"
    ),
]
EventSort = Annotated[
    Literal["id", "-id", "created_at", "-created_at"],
    Query(
        description="The order: by id (the default) or by the time written, `-` before it: "
        "descending; ties by id. A `since`/`until` range is read fastest by `created_at`"
    ),
]


@router.get("/payments", response_model=PageOut[PaymentItemOut], responses=errors())
def payments(
    who: PrincipalDep,
    db: SessionDep,
    account_id: QueryId = None,
    invoice_id: QueryId = None,
    method: Code | None = None,
    status: Code | None = None,
    received_from: Day = None,
    received_to: Day = None,
    after: After = 0,
    limit: Limit = 100,
    sort: PaymentSort = "id",
) -> Any:
    """Payments recorded on invoices, oldest first or in the order of `sort`: by account,
    invoice, method (`card`, `bank_transfer`, `e_wallet`, `sbp`, `manual`, `credit`), status
    and the day the money arrived (`received_from`..`received_to`, both inclusive)."""
    if account_id is not None:
        guard_account(who, account_id)
    found = list_payments(
        db,
        scope=who.scope,
        account_id=account_id,
        invoice_id=invoice_id,
        method=method,
        status=status,
        received_from=received_from,
        received_to=received_to,
        after=after,
        limit=limit,
        sort=sort,
    )
    return PageOut[PaymentItemOut](
        data=[PaymentItemOut.of(p) for p in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


@router.get("/credit-notes", response_model=PageOut[CreditNoteItemOut], responses=errors())
def credit_notes(
    who: PrincipalDep,
    db: SessionDep,
    account_id: QueryId = None,
    invoice_id: QueryId = None,
    issued_from: Day = None,
    issued_to: Day = None,
    after: After = 0,
    limit: Limit = 100,
) -> Any:
    """Credit notes, oldest first: by account, invoice and the day each was issued (UTC,
    `issued_from`..`issued_to`, both inclusive), each with the link to its PDF."""
    if account_id is not None:
        guard_account(who, account_id)
    found = list_credit_notes(
        db,
        scope=who.scope,
        account_id=account_id,
        invoice_id=invoice_id,
        issued_from=issued_from,
        issued_to=issued_to,
        after=after,
        limit=limit,
    )
    return PageOut[CreditNoteItemOut](
        data=[CreditNoteItemOut.of(c) for c in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


EventType = Annotated[
    str | None,
    Query(
        max_length=100,
        description="An event type (`invoice.issued`) or every type of an area (`invoice.*`)",
    ),
]


@router.get("/events", response_model=PageOut[EventOut], responses=errors())
def events(
    who: PrincipalDep,
    db: SessionDep,
    type: EventType = None,
    account_id: QueryId = None,
    since: Annotated[Moment | None, Query(description="Written at or after, with offset")] = None,
    until: Annotated[Moment | None, Query(description="Written before, with offset")] = None,
    after: After = 0,
    limit: Limit = 100,
    sort: EventSort = "id",
) -> Any:
    """Every event, oldest first (or in the order of `sort`): how a webhook consumer catches
    up after its downtime (`?after=` the last event id it handled). An account's key reads
    its own account's events only."""
    if account_id is not None:
        guard_account(who, account_id)
    found = list_events(
        db,
        scope=who.scope,
        account_id=account_id,
        type=type,
        since=since,
        until=until,
        after=after,
        limit=limit,
        sort=sort,
    )
    return event_page(found)


@router.get("/closing-documents", response_model=PageOut[ClosingDocumentOut], responses=errors())
def closing_documents(
    who: PrincipalDep,
    db: SessionDep,
    kind: Annotated[
        str, Query(description="upd (УПД or act), advance (счёт-фактура) or correction (УКД)")
    ] = "upd",
    account_id: QueryId = None,
    date_from: Day = None,
    date_to: Day = None,
    number: Code | None = None,
    after: After = 0,
    limit: Limit = 100,
) -> Any:
    """One kind of closing documents, oldest first: each kind is its own id series, so
    `?after=` is an id of that kind. By account, the day issued and the exact number; each
    with where its PDF and its ФНС XML are."""
    if account_id is not None:
        guard_account(who, account_id)
    found = list_closing_documents(
        db,
        scope=who.scope,
        kind=kind,
        account_id=account_id,
        date_from=date_from,
        date_to=date_to,
        number=number,
        after=after,
        limit=limit,
    )
    return PageOut[ClosingDocumentOut](
        data=[ClosingDocumentOut.of(r) for r in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )
