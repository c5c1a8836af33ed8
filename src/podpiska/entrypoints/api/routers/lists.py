"""The collections: accounts, subscriptions and invoices, a page at a time by id (invoices
also by a column, `?sort=`) (docs/api.md, "Lists"), scoped by the caller: an account's key
lists only its own rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from podpiska.core.domain.metadata import check_key
from podpiska.entrypoints.api.deps import (
    After,
    ContextDep,
    Id,
    Limit,
    PrincipalDep,
    SessionDep,
    guard_account,
)
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.lists import AccountItemOut, InvoiceItemOut, MetadataIn
from podpiska.entrypoints.api.schemas.subscriptions import SubscriptionOut
from podpiska.invoicing.listing import InvoiceFilter, list_invoices
from podpiska.subscriptions.listing import (
    AccountFilter,
    SubscriptionFilter,
    list_accounts,
    list_subscriptions,
)
from podpiska.subscriptions.metadata import set_metadata

router = APIRouter(tags=["lists"])

Order = Annotated[Literal["asc", "desc"], Query(description="By id: asc (default) or desc")]
IdFilter = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Text = Annotated[str | None, Query(min_length=1, max_length=320)]
InvoiceSort = Annotated[
    Literal[
        "id",
        "-id",
        "issued_on",
        "-issued_on",
        "due_on",
        "-due_on",
        "total",
        "-total",
        "number",
        "-number",
    ],
    Query(
        description="The order: by id (the default), the day issued, the due day, the total "
        "or the number, `-` before it: descending; ties by id, a draft's empty day or number "
        "after every value. Not with `order=desc` (that is `sort=-id`)"
    ),
]


def _metadata(request: Request) -> dict[str, str]:
    """`?metadata[key]=value`, each given key AND-ed (a key given twice: its last value)."""
    wanted: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("metadata[") and name.endswith("]"):
            wanted[check_key(name[len("metadata[") : -1])] = value
    return wanted


@router.get(
    "/accounts",
    response_model=PageOut[AccountItemOut],
    responses=errors(found=False),
    summary="The accounts, by id",
)
def accounts(
    request: Request,
    who: PrincipalDep,
    db: SessionDep,
    after: After = 0,
    limit: Limit = 100,
    order: Order = "asc",
    name: Text = None,
    inn: Text = None,
    email: Text = None,
    state: Text = None,
    plan: Text = None,
    edition: Text = None,
    test_clock: IdFilter = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> Any:
    """`name`: a case-insensitive prefix of the name; `inn`: exact; `email`: the
    administrator's, exact and case-insensitive; `state` (none, pending, active, grace,
    suspended, cancelled) and `plan`: the latest subscription's; `edition` (cloud,
    on_premise); `test_clock`: its id; `created_from` (inclusive), `created_to`
    (exclusive); `metadata[key]=value` (several: all of them). An account's key sees
    only its own account."""
    found = list_accounts(
        db,
        scope=who.scope,
        wanted=AccountFilter(
            name=name,
            inn=inn,
            email=email,
            state=state,
            plan=plan,
            edition=edition,
            test_clock=test_clock,
            created_from=created_from,
            created_to=created_to,
            metadata=_metadata(request),
        ),
        after=after,
        limit=limit,
        descending=order == "desc",
    )
    return PageOut[AccountItemOut](
        data=[AccountItemOut.of(a) for a in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


@router.get(
    "/subscriptions",
    response_model=PageOut[SubscriptionOut],
    responses=errors(),
    summary="The subscriptions, by id",
)
def subscriptions(
    request: Request,
    who: PrincipalDep,
    db: SessionDep,
    after: After = 0,
    limit: Limit = 100,
    order: Order = "asc",
    account_id: IdFilter = None,
    state: Text = None,
    plan: Text = None,
) -> Any:
    """`account_id`, `state` (pending, active, grace, suspended, cancelled), `plan`,
    `metadata[key]=value`."""
    if account_id is not None:
        guard_account(who, account_id)
    found, metadata = list_subscriptions(
        db,
        scope=who.scope,
        wanted=SubscriptionFilter(
            account_id=account_id, state=state, plan=plan, metadata=_metadata(request)
        ),
        after=after,
        limit=limit,
        descending=order == "desc",
    )
    return PageOut[SubscriptionOut](
        data=[
            SubscriptionOut.of(s).model_copy(update={"metadata": metadata.get(s.id, {})})
            for s in found.rows
        ],
        has_more=found.has_more,
        next_after=found.next_after,
    )


def _invoices(
    who: PrincipalDep,
    db: SessionDep,
    wanted: InvoiceFilter,
    after: int,
    limit: int,
    order: str,
    sort: str,
    of_account: bool = False,
) -> Any:
    found, metadata = list_invoices(
        db,
        scope=who.scope,
        wanted=wanted,
        after=after,
        limit=limit,
        descending=order == "desc",
        of_account=of_account,
        sort=sort,
    )
    return PageOut[InvoiceItemOut](
        data=[InvoiceItemOut.of(i, metadata.get(i.id, {})) for i in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


@router.get(
    "/invoices",
    response_model=PageOut[InvoiceItemOut],
    responses=errors(),
    summary="The invoices, by id or a column",
)
def invoices(
    request: Request,
    who: PrincipalDep,
    db: SessionDep,
    after: After = 0,
    limit: Limit = 100,
    order: Order = "asc",
    sort: InvoiceSort = "id",
    account_id: IdFilter = None,
    subscription_id: IdFilter = None,
    kind: Text = None,
    status: Text = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    number: Text = None,
) -> Any:
    """`account_id`, `subscription_id`, `kind` (order, renewal, change), `status` (draft,
    issued, paid, void), `issued_from`/`issued_to` (inclusive days), `number` (exact),
    `metadata[key]=value`."""
    if account_id is not None:
        guard_account(who, account_id)
    wanted = InvoiceFilter(
        account_id=account_id,
        subscription_id=subscription_id,
        kind=kind,
        status=status,
        issued_from=issued_from,
        issued_to=issued_to,
        number=number,
        metadata=_metadata(request),
    )
    return _invoices(who, db, wanted, after, limit, order, sort)


@router.get(
    "/accounts/{account_id}/invoices",
    response_model=PageOut[InvoiceItemOut],
    responses=errors(),
    summary="An account's invoices, by id or a column",
)
def account_invoices(
    request: Request,
    account_id: Id,
    who: PrincipalDep,
    db: SessionDep,
    after: After = 0,
    limit: Limit = 100,
    order: Order = "asc",
    sort: InvoiceSort = "id",
    subscription_id: IdFilter = None,
    kind: Text = None,
    status: Text = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    number: Text = None,
) -> Any:
    """The filters of `GET /invoices`. Another account's id answers 404 to an account's
    key."""
    guard_account(who, account_id)
    wanted = InvoiceFilter(
        account_id=account_id,
        subscription_id=subscription_id,
        kind=kind,
        status=status,
        issued_from=issued_from,
        issued_to=issued_to,
        number=number,
        metadata=_metadata(request),
    )
    return _invoices(who, db, wanted, after, limit, order, sort, of_account=True)


class MetadataOut(MetadataIn):
    """The object's metadata after the change."""

    metadata: dict[str, str]


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=MetadataOut,
    responses=errors(),
    summary="Change a subscription's metadata",
)
def change_subscription(
    subscription_id: Id, body: MetadataIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Only `metadata`: a string sets a key, null removes it; audited with the actor."""
    return MetadataOut(metadata=_set(db, who, ctx, "subscription", subscription_id, body))


@router.patch(
    "/invoices/{invoice_id}",
    response_model=MetadataOut,
    responses=errors(),
    summary="Change an invoice's metadata",
)
def change_invoice(
    invoice_id: Id, body: MetadataIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Only `metadata` (an issued invoice's document never changes; its metadata is not
    part of it): a string sets a key, null removes it; audited with the actor."""
    return MetadataOut(metadata=_set(db, who, ctx, "invoice", invoice_id, body))


def _set(
    db: SessionDep, who: PrincipalDep, ctx: ContextDep, what: str, object_id: int, body: MetadataIn
) -> dict[str, str]:
    return set_metadata(
        db,
        object_type=what,
        object_id=object_id,
        changes=body.metadata,
        scope=who.scope,
        actor=who.actor,
        clock=ctx.clock,
    )
