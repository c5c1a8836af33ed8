"""Logging in and out, the language switch, the profile (password change), and `/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from podpiska.accounts import people
from podpiska.accounts.people import Person
from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.web.deps import (
    ContextDep,
    DbDep,
    PersonDep,
    current_person,
    log_in_session,
    log_out_session,
)
from podpiska.entrypoints.web.i18n import LANG_COOKIE, LANGUAGES, _, choose_language
from podpiska.entrypoints.web.rendering import flash, render

router = APIRouter()


def home_of(person: Person) -> str:
    """Where a person lands: the portal of its account, or the back office's dashboard."""
    if person.role == "account_admin" and person.account_id is not None:
        return f"/portal/{person.account_id}"
    return "/office"


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after logging in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@router.get("/", include_in_schema=False)
def index(request: Request) -> Response:
    who = current_person(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(who), status_code=303)


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    who = current_person(request)
    if who is not None:
        return RedirectResponse(safe_next(next) or home_of(who), status_code=303)
    return render(request, "login.html", {"next": safe_next(next) or "", "email": ""})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        who = people.log_in(db, email=email, password=password, clock=ctx.clock)
    except DomainError as error:
        status = 429 if error.code == "login_locked" else 401
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next) or "",
                "email": email,
                "error": error.message(choose_language(request)),
            },
            status_code=status,
        )
    log_in_session(request, who)
    return RedirectResponse(safe_next(next) or home_of(who), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    log_out_session(request)
    flash(request, _("You have logged out."), "info")
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{code}", include_in_schema=False)
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """The language switch: a cookie for a year, then back to the page."""
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response


@router.get("/profile", include_in_schema=False)
def profile(request: Request, who: PersonDep) -> HTMLResponse:
    return render(request, "profile.html")


@router.post("/profile/password", include_in_schema=False)
def change_password(
    request: Request,
    who: PersonDep,
    db: DbDep,
    ctx: ContextDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        changed = people.change_password(
            db,
            person_id=who.id,
            current_password=current_password,
            new_password=new_password,
            actor=who.actor,
            clock=ctx.clock,
        )
    except DomainError as error:
        return render(
            request,
            "profile.html",
            {"error": error.message(choose_language(request))},
            status_code=422,
        )
    log_in_session(request, changed)  # this session goes on; the others end
    flash(request, _("Your password has been changed."), "success")
    return RedirectResponse("/profile", status_code=303)
