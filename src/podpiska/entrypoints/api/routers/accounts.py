"""Accounts, their users, entitlements and events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from podpiska.accounts import accounts
from podpiska.core.domain.metadata import merged
from podpiska.entrypoints.api.deps import (
    After,
    ContextDep,
    Id,
    Limit,
    PrincipalDep,
    SessionDep,
    VendorDep,
    checking,
    fresh_caller,
    guard_account,
    with_refusals,
)
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.accounts import (
    AccountIn,
    AccountOut,
    AccountPatch,
    UserIn,
    UserOut,
)
from podpiska.entrypoints.api.schemas.entitlements import DecisionOut, json_response
from podpiska.entrypoints.api.schemas.money_lists import EventOut, event_page
from podpiska.notifications import event_feed
from podpiska.subscriptions import users
from podpiska.subscriptions.metadata import get_metadata, set_metadata

router = APIRouter(tags=["accounts"])


@router.post("/accounts", status_code=201, response_model=AccountOut, responses=errors(vendor=True))
def open_account(body: AccountIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    if body.metadata:
        merged({}, body.metadata)  # refused before the account is opened
    account = accounts.open_account(
        db,
        name=body.name,
        admin_email=body.admin_email,
        edition=body.edition,
        admin_phone=body.admin_phone,
        inn=body.inn,
        kpp=body.kpp,
        legal_address=body.legal_address,
        ogrn=body.ogrn,
        state_contract_id=body.state_contract_id,
        edo_id=body.edo_id,
        closing_form=body.closing_form,
        timezone=body.timezone,
        language=body.language,
        test_clock_id=body.test_clock_id,
        actor=who.actor,
        clock=ctx.clock,
    )
    if body.metadata:
        _set_metadata(db, who, ctx, account.id, body.metadata)
    return _account_out(db, account.id)


@router.get("/accounts/{account_id}", response_model=AccountOut, responses=errors())
def get_account(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    return _account_out(db, account_id)


@router.patch("/accounts/{account_id}", response_model=AccountOut, responses=errors())
def change_account(
    account_id: Id, body: AccountPatch, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    """Change what is given: `language` (ru, en) of the e-mails to the account; the buyer's
    requisites `kpp`, `legal_address`, `ogrn`, `state_contract_id` and the EDO participant
    id `edo_id` (`null` clears one; the ИНН does not change); `closing_form` (upd, act) of
    the month's closing documents issued from now on. Vendor keys and the account's own
    key."""
    guard_account(who, account_id)
    requisites = {
        name: getattr(body, name) for name in accounts.REQUISITES if name in body.model_fields_set
    }
    if requisites or body.language is not None:
        accounts.change_account(
            db,
            account_id=account_id,
            language=body.language,
            requisites=requisites,
            actor=who.actor,
            clock=ctx.clock,
        )
    if body.metadata is not None:
        _set_metadata(db, who, ctx, account_id, body.metadata)
    return _account_out(db, account_id)


def _account_out(db: SessionDep, account_id: int) -> AccountOut:
    view = accounts.get_account(db, account_id)
    out = AccountOut.of(view.account, view.active_users, view.blocked_users)
    out.metadata = get_metadata(db, object_type="account", object_id=account_id)
    return out


def _set_metadata(
    db: SessionDep, who: PrincipalDep, ctx: ContextDep, account_id: int, changes: dict[str, Any]
) -> None:
    set_metadata(
        db,
        object_type="account",
        object_id=account_id,
        changes=changes,
        scope=who.scope,
        actor=who.actor,
        clock=ctx.clock,
    )


@router.get("/accounts/{account_id}/users", response_model=list[UserOut], responses=errors())
def list_users(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    return [UserOut.of(u) for u in accounts.list_users(db, account_id)]


@router.post(
    "/accounts/{account_id}/users",
    status_code=201,
    response_model=UserOut,
    responses=errors("no_catalog_loaded", "user_exists", "user_limit_reached"),
)
def add_user(
    account_id: Id, body: UserIn, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    guard_account(who, account_id)
    user = users.add_user(
        db,
        account_id=account_id,
        email=body.email,
        role=body.role,
        actor=who.actor,
        clock=ctx.clock,
    )
    return UserOut.of(user)


@router.post(
    "/accounts/{account_id}/users/{user_id}/block",
    response_model=UserOut,
    responses=errors("last_admin", "no_catalog_loaded", "user_limit_reached"),
)
def block_user(
    account_id: Id, user_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    guard_account(who, account_id)
    return UserOut.of(
        users.set_user_blocked(
            db,
            account_id=account_id,
            user_id=user_id,
            blocked=True,
            actor=who.actor,
            clock=ctx.clock,
        )
    )


@router.post(
    "/accounts/{account_id}/users/{user_id}/unblock",
    response_model=UserOut,
    responses=errors("last_admin", "no_catalog_loaded", "user_limit_reached"),
)
def unblock_user(
    account_id: Id, user_id: Id, who: PrincipalDep, db: SessionDep, ctx: ContextDep
) -> Any:
    guard_account(who, account_id)
    return UserOut.of(
        users.set_user_blocked(
            db,
            account_id=account_id,
            user_id=user_id,
            blocked=False,
            actor=who.actor,
            clock=ctx.clock,
        )
    )


@router.get(
    "/accounts/{account_id}/entitlements/{action}",
    response_model=DecisionOut,
    summary="May the account do this now, and if not, why?",
    responses=errors(),
)
async def entitlement(account_id: Id, action: str, request: Request, app: str | None = None) -> Any:
    """`?app=CODE` for `apps.use` and `apps.install`: the marketplace rule for that app.
    Answered from the process's snapshot, refreshed from the outbox first: every change
    committed before the request is seen (docs/entitlements.md)."""
    token, who, snapshots = await fresh_caller(request)
    if who is not None:  # the hot path: all from memory, on the event loop
        guard_account(who, account_id)
        decision = snapshots.kept(account_id, action, app)
        if decision is not None:
            answer = json_response(DecisionOut.of(decision, request_lang(request)))
            if decision.allowed:
                return answer
            at = snapshots.kept_moment()  # a kept account is on the server's clock
            return with_refusals(request, account_id, [decision], answer, at=at)
    return await run_in_threadpool(_entitlement, request, token, account_id, action, app)


def _entitlement(request: Request, token: str, account_id: Id, action: str, app: str | None) -> Any:
    """A key or an answer not kept: read from the database, in one hop to the thread pool
    (a Response: FastAPI would validate the model a second time)."""
    with checking(request, token) as (db, who, snapshots):
        guard_account(who, account_id)
        decision, at = snapshots.decided(account_id, action, app, session=db)
    answer = json_response(DecisionOut.of(decision, request_lang(request)))
    if decision.allowed:
        return answer
    return with_refusals(request, account_id, [decision], answer, at=at)


@router.get("/accounts/{account_id}/events", response_model=PageOut[EventOut], responses=errors())
def events(
    account_id: Id, who: PrincipalDep, db: SessionDep, after: After = 0, limit: Limit = 100
) -> Any:
    """The account's events, oldest first: `GET /events?account_id=` for an account that
    must exist (404 otherwise)."""
    guard_account(who, account_id)
    found = event_feed.list_events(
        db,
        scope=who.scope,
        account_id=account_id,
        after=after,
        limit=limit,
        account_must_exist=True,
    )
    return event_page(found)
