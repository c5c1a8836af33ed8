"""Dependencies of the API routes: a database session per request, and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from podpiska.entrypoints.context import Context
from podpiska.services.apikeys import Principal, PrincipalCache, authenticate
from podpiska.services.common import not_found
from podpiska.services.entitlement_cache import EntitlementSnapshots


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def session(request: Request) -> Iterator[Session]:
    db = context(request).session()
    try:
        yield db
    finally:
        db.close()


def entitlement_snapshots(request: Request) -> EntitlementSnapshots:
    """The process's snapshot of entitlements (made by `create_api`)."""
    snapshots: EntitlementSnapshots = request.app.state.entitlements
    return snapshots


SessionDep = Annotated[Session, Depends(session)]
ContextDep = Annotated[Context, Depends(context)]


def principal(request: Request, db: SessionDep) -> Principal:
    found = authenticate(db, bearer_token(request))
    if found is None:
        raise _unknown_key()
    request.state.principal = found
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "An API key is required: Authorization: Bearer pk_...",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def _unknown_key() -> HTTPException:
    return HTTPException(
        401,
        "The API key is unknown or revoked.",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def fresh_caller(request: Request) -> tuple[str, Principal | None, EntitlementSnapshots]:
    """For the entitlement routes, on the event loop: the bearer token, then a refresh of the
    process's snapshot that began after the request came (shared with the requests waiting
    with it, `fresh.RefreshRounds`), then the caller if its key is kept in memory (None: ask
    `checking`). Read after the refresh, a kept key was not revoked before the request."""
    token = bearer_token(request)
    await request.app.state.refreshes.wait()
    snapshots = entitlement_snapshots(request)
    keys: PrincipalCache = request.app.state.principals
    found = keys.kept(token, snapshots.credentials_epoch)
    if found is not None:
        request.state.principal = found
    return token, found, snapshots


@contextmanager
def checking(
    request: Request, token: str
) -> Iterator[tuple[Session, Principal, EntitlementSnapshots]]:
    """The rest of an entitlement request after `fresh_caller`, in one hop to the thread
    pool (each sync dependency costs a hop of its own): a session and the caller."""
    snapshots = entitlement_snapshots(request)
    keys: PrincipalCache = request.app.state.principals
    db = context(request).session()
    try:
        found = keys.authenticate(db, token, snapshots.credentials_epoch)
        if found is None:
            raise _unknown_key()
        request.state.principal = found
        yield db, found, snapshots
    finally:
        db.close()


def vendor(who: PrincipalDep) -> Principal:
    if not who.is_vendor:
        raise HTTPException(403, "This needs a vendor's API key.")
    return who


def vendor_admin(who: PrincipalDep) -> Principal:
    if who.role != "vendor_admin":
        raise HTTPException(403, "This needs a vendor_admin API key.")
    return who


VendorDep = Annotated[Principal, Depends(vendor)]
VendorAdminDep = Annotated[Principal, Depends(vendor_admin)]


def guard_account(who: Principal, account_id: int) -> None:
    """An account's key never sees another account: it is told the account does not exist."""
    if not who.may_see(account_id):
        raise not_found("account", account_id)
