"""Dependencies of the API routes: a database session per request, and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from podpiska.entrypoints.context import Context
from podpiska.services.apikeys import Principal, authenticate
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


async def entitlements(request: Request) -> EntitlementSnapshots:
    """The process's snapshot of entitlements (made by `create_api`; async: no thread hop)."""
    snapshots: EntitlementSnapshots = request.app.state.entitlements
    return snapshots


SessionDep = Annotated[Session, Depends(session)]
ContextDep = Annotated[Context, Depends(context)]
EntitlementsDep = Annotated[EntitlementSnapshots, Depends(entitlements)]


def principal(request: Request, db: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "An API key is required: Authorization: Bearer pk_...",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = authenticate(db, token.strip())
    if found is None:
        raise HTTPException(
            401,
            "The API key is unknown or revoked.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.principal = found
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


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
