"""Accounts, their users, entitlements and events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from podpiska.accounts import accounts
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
)
from podpiska.entrypoints.api.errors import request_lang
from podpiska.entrypoints.api.schemas.accounts import (
    AccountIn,
    AccountOut,
    AccountPatch,
    UserIn,
    UserOut,
)
from podpiska.entrypoints.api.schemas.entitlements import DecisionOut, json_response
from podpiska.subscriptions import billing, users

router = APIRouter(tags=["accounts"])


@router.post("/accounts", status_code=201, response_model=AccountOut)
def open_account(body: AccountIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
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
    view = accounts.get_account(db, account.id)
    return AccountOut.of(view.account, view.active_users, view.blocked_users)


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    view = accounts.get_account(db, account_id)
    return AccountOut.of(view.account, view.active_users, view.blocked_users)


@router.patch("/accounts/{account_id}", response_model=AccountOut)
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
    view = accounts.get_account(db, account_id)
    return AccountOut.of(view.account, view.active_users, view.blocked_users)


@router.get("/accounts/{account_id}/users", response_model=list[UserOut])
def list_users(account_id: Id, who: PrincipalDep, db: SessionDep) -> Any:
    guard_account(who, account_id)
    return [UserOut.of(u) for u in accounts.list_users(db, account_id)]


@router.post("/accounts/{account_id}/users", status_code=201, response_model=UserOut)
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


@router.post("/accounts/{account_id}/users/{user_id}/block", response_model=UserOut)
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


@router.post("/accounts/{account_id}/users/{user_id}/unblock", response_model=UserOut)
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
            return json_response(DecisionOut.of(decision, request_lang(request)))
    return await run_in_threadpool(_entitlement, request, token, account_id, action, app)


def _entitlement(request: Request, token: str, account_id: Id, action: str, app: str | None) -> Any:
    """A key or an answer not kept: read from the database, in one hop to the thread pool
    (a Response: FastAPI would validate the model a second time)."""
    with checking(request, token) as (db, who, snapshots):
        guard_account(who, account_id)
        decision = snapshots.check(account_id, action, app, session=db)
    return json_response(DecisionOut.of(decision, request_lang(request)))


@router.get("/accounts/{account_id}/events")
def events(
    account_id: Id, who: PrincipalDep, db: SessionDep, after: After = 0, limit: Limit = 100
) -> Any:
    guard_account(who, account_id)
    rows = billing.list_events(db, account_id=account_id, after=after, limit=limit)
    return {
        "events": [
            {
                "id": e.id,
                "type": e.type,
                "occurred_on": e.occurred_on.isoformat(),
                "subscription_id": e.subscription_id,
                "data": e.payload,
                "created_at": e.created_at.isoformat(),
            }
            for e in rows
        ],
        "next_after": rows[-1].id if rows else after,
    }
