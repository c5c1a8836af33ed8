"""Dependencies of the API routes: a database session per request, and the caller."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session
from starlette.responses import Response

from podpiska.accounts.apikeys import Principal, PrincipalCache, UseMarks, authenticate
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import MAX_ID, not_found
from podpiska.entitlements.cache import EntitlementSnapshots
from podpiska.entitlements.domain import Decision
from podpiska.entitlements.refusals import RefusalLog
from podpiska.entrypoints.context import Context


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


# An id in a path: a row's key is a positive 64-bit integer. Anything past 2^63 - 1 would
# overflow the database driver (OverflowError on SQLite, "bigint out of range" on
# PostgreSQL): it answers 422 here, before any query.
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive id (at most 2^63 - 1)")]
# How many rows a list answers: 1 to 1000.
MAX_LIMIT = 1000


def _limit(value: int) -> int:
    if not 1 <= value <= MAX_LIMIT:  # answered as the use-cases do: 422 invalid_field
        raise PydanticCustomError(
            "invalid_field",
            "must be from 1 to {most}",
            {
                "most": MAX_LIMIT,
                "field": "limit",
                "problem_ru": f"от 1 до {MAX_LIMIT}",
                "problem_en": f"1 to {MAX_LIMIT}",
            },
        )
    return value


Limit = Annotated[
    int,
    AfterValidator(_limit),
    Query(
        description=f"How many, 1 to {MAX_LIMIT}",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
]

# A cursor that is an id: 0 (from the start) to MAX_ID.
After = Annotated[int, Query(ge=0, le=MAX_ID, description="The last id seen; 0: from the start")]

# Path and query strings: no NUL, control character or lone surrogate, at most 500 characters.
_UNSAFE_URL_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
MAX_URL_TEXT = 500


def plain_url(request: Request) -> None:
    """Every route's path and query parameters, before the route: what no database column
    or lookup should ever see answers 422 `invalid_field` (a NUL in `?after=` was a 500 on
    PostgreSQL)."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if not isinstance(value, str):
            continue
        if len(value) > MAX_URL_TEXT or _UNSAFE_URL_TEXT.search(value):
            raise DomainError(
                "invalid_field",
                field=name,
                problem_ru=f"не длиннее {MAX_URL_TEXT} знаков, без управляющих символов",
                problem_en=f"at most {MAX_URL_TEXT} characters, no control characters",
            )


SessionDep = Annotated[Session, Depends(session)]
ContextDep = Annotated[Context, Depends(context)]


def principal(request: Request, db: SessionDep) -> Principal:
    found = authenticate(db, bearer_token(request))
    if found is None:
        raise _unknown_key()
    request.state.principal = found
    _mark_use(request, db, found)
    return found


def _mark_use(request: Request, db: Session, found: Principal) -> None:
    """The key's `last_used_at`, to the minute (`UseMarks`)."""
    marks: UseMarks = request.app.state.key_uses
    marks.mark(db, found.key_id, clock=context(request).clock)


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
        marks: UseMarks = request.app.state.key_uses
        now = context(request).clock.now()
        if marks.due(found.key_id, now):  # once a minute: the key's last_used_at
            await run_in_threadpool(_write_use, request, found.key_id, now)
    return token, found, snapshots


def _write_use(request: Request, key_id: int, now: datetime) -> None:
    with context(request).session() as db:
        UseMarks.write(db, key_id, now)


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
        _mark_use(request, db, found)
        yield db, found, snapshots
    finally:
        db.close()


def with_refusals(
    request: Request,
    account_id: int,
    decisions: Sequence[Decision],
    response: Response,
    *,
    at: datetime,
) -> Response:
    """The answer of an entitlement route, its refusals counted at `at`, the moment the
    decisions were made for (the account's own clock: a test clock's now for an account on
    one) — `entitlements.refusals`: in memory, written by the log's own thread; the answer
    never waits for a write."""
    refusals: RefusalLog | None = request.app.state.refusals
    if refusals is not None:
        refusals.note(account_id, decisions, at=at)
    return response


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
