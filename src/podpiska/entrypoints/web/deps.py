"""What every web route may depend on: the database session, who is logged in, the role
guards and the CSRF check.

The pattern for a new page:

    @router.get("/office/catalog")
    def catalog(request: Request, who: VendorAdminDep, db: DbDep) -> HTMLResponse: ...

    @router.get("/portal/{account_id}/documents")
    def documents(request: Request, account_id: int, who: PersonDep, db: DbDep) -> ...:
        guard_account(who, account_id)   # another account's page answers 404

`PersonDep` redirects to the login page when nobody is logged in; `VendorDep` answers 404
to an account's administrator (the back office does not exist for them) and
`VendorAdminDep` answers 403 to an operator. The CSRF check is not a dependency to add:
the web application runs it on every POST, PUT, PATCH and DELETE (`csrf_protect`). A page
that shows a domain error answers `http_status(error)`, decided by the error's kind.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from podpiska.accounts.people import Person, get_person
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.records import MAX_ID, not_found
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web.i18n import choose_language, use_language

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Nobody is logged in: the handler redirects to the login page (and back after)."""


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def database(request: Request) -> Iterator[Session]:
    db = context(request).session()
    try:
        yield db
    finally:
        db.close()


DbDep = Annotated[Session, Depends(database)]
ContextDep = Annotated[Context, Depends(context)]


# --- sessions and CSRF ----------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the login form has one too)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def speak_request_language(request: Request) -> None:
    """The request's language for the route itself (its flash and error messages), not
    only for the page `render` makes: set here, in the request's task, before the route
    (the application runs it on every request)."""
    use_language(choose_language(request))


async def ids_in_range(request: Request) -> None:
    """A number in the path larger than any row's id (`MAX_ID`, a BIGINT's largest) names no
    row: 404 before the route runs, as an unknown id (the driver would overflow on it:
    OverflowError on SQLite, "bigint out of range" on PostgreSQL)."""
    for value in request.path_params.values():
        if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > MAX_ID:
            raise HTTPException(404)


async def csrf_protect(request: Request) -> None:
    """Every unsafe request carries the session's token: the hidden `csrf_token` field of
    a form, or the `X-CSRF-Token` header (htmx, set by `hx-headers` on <body>). Missing or
    wrong: 403 before the route runs, so nothing changes."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not (
        isinstance(expected, str)
        and expected
        and given
        and hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise HTTPException(403, "csrf")


def log_in_session(request: Request, person: Person) -> None:
    """A new session for the person: nothing of the anonymous one is kept (no fixation),
    a new CSRF token. The language is a cookie of its own and stays."""
    request.session.clear()
    request.session["person"] = person.id
    request.session["key"] = person.session_key
    request.session["csrf"] = secrets.token_urlsafe(32)


def log_out_session(request: Request) -> None:
    request.session.clear()


# --- who is logged in -------------------------------------------------------------------


def current_person(request: Request) -> Person | None:
    """The logged-in person, or None. A session whose person is gone, disabled, or changed
    the password since, is dropped."""
    if hasattr(request.state, "person"):  # asked before in this request
        cached: Person | None = request.state.person
        return cached
    person_id = request.session.get("person")
    person = None
    if isinstance(person_id, int):
        db = context(request).session()
        try:
            person = get_person(db, person_id)
        finally:
            db.close()
        if person is None or person.session_key != request.session.get("key"):
            person = None
            request.session.clear()
    request.state.person = person
    return person


def person(request: Request) -> Person:
    found = current_person(request)
    if found is None:
        raise LoginRequired
    return found


PersonDep = Annotated[Person, Depends(person)]


def vendor(who: PersonDep) -> Person:
    """The back office: the vendor's people only. For an account's administrator it does
    not exist (404)."""
    if not who.is_vendor:
        raise HTTPException(404)
    return who


def vendor_admin(who: PersonDep) -> Person:
    """Catalog, keys, people: vendor_admin only (403 to an operator, 404 to a customer)."""
    if not who.is_vendor:
        raise HTTPException(404)
    if not who.is_vendor_admin:
        raise HTTPException(403)
    return who


VendorDep = Annotated[Person, Depends(vendor)]
VendorAdminDep = Annotated[Person, Depends(vendor_admin)]


def guard_account(who: Person, account_id: int) -> None:
    """An account's administrator never sees another account: it does not exist (404)."""
    if not who.may_see(account_id):
        raise not_found("account", account_id)


# A page refusing a domain error answers as the API does (the two may not share a module).
STATUS_BY_KIND: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.CONFLICT: 409,
    Kind.NOT_FOUND: 404,
    Kind.FORBIDDEN: 403,
    Kind.UNAVAILABLE: 503,
    Kind.TOO_LARGE: 413,
}


def http_status(error: DomainError) -> int:
    """The HTTP status of a page that shows `error`."""
    return STATUS_BY_KIND[error.kind]
