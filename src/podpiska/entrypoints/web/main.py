"""The web application: the customer's portal and the vendor's back office.

A FastAPI application of its own, mounted by `podpiska.app` at "/" after every route of
the API (`WebMount`): /api/v1, /healthz, /metrics, /docs and /sandbox answer exactly as
before and never pass through the web's middlewares (signed-cookie sessions, security
headers) or its CSRF check. Unknown paths under /api/ stay the API's (its JSON 404/405).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.web import auth
from podpiska.entrypoints.web.deps import (
    LoginRequired,
    csrf_protect,
    http_status,
    ids_in_range,
    speak_request_language,
)
from podpiska.entrypoints.web.i18n import N_, _, choose_language, use_language
from podpiska.entrypoints.web.office import account_actions as office_account_actions
from podpiska.entrypoints.web.office import account_timeline as office_account_timeline
from podpiska.entrypoints.web.office import accounts as office_accounts
from podpiska.entrypoints.web.office import analytics as office_analytics
from podpiska.entrypoints.web.office import bank as office_bank
from podpiska.entrypoints.web.office import deliveries as office_deliveries
from podpiska.entrypoints.web.office import document_actions as office_document_actions
from podpiska.entrypoints.web.office import documents as office_documents
from podpiska.entrypoints.web.office import invoice_actions as office_invoice_actions
from podpiska.entrypoints.web.office import invoices as office_invoices
from podpiska.entrypoints.web.office import money_actions as office_money_actions
from podpiska.entrypoints.web.office import order_actions as office_order_actions
from podpiska.entrypoints.web.office import payments as office_payments
from podpiska.entrypoints.web.office import test_clocks as office_test_clocks
from podpiska.entrypoints.web.portal import changes as portal_changes
from podpiska.entrypoints.web.portal import documents as portal_documents
from podpiska.entrypoints.web.portal import market as portal_market
from podpiska.entrypoints.web.portal import paying as portal_paying
from podpiska.entrypoints.web.portal import renewal as portal_renewal
from podpiska.entrypoints.web.portal import settings as portal_settings
from podpiska.entrypoints.web.portal import subscription as portal_subscription
from podpiska.entrypoints.web.rendering import render

log = logging.getLogger("podpiska.web")

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"  # our own CSS and JS (committed)
VENDOR = STATIC / "vendor"  # htmx, Chart.js, Pico CSS: copied from npm by `make install`
SESSION_COOKIE = "podpiska_session"
SESSION_HOURS = 12
API_PREFIXES = ("/api/",)

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; base-uri 'self'",
    ),
]


class WebMount(Mount):
    """A mount at "/" that leaves the API's paths to the API (its own 404 and 405)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/api" or path.startswith(API_PREFIXES)):
            return Match.NONE, {}
        return super().matches(scope)


class SecurityHeaders:
    """Plain ASGI: the same headers on every page of the web application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


JSON_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_request",
    500: "internal_error",
}


def _wants_html(request: Request) -> bool:
    """A browser (or htmx) gets an error page; any other client the API's JSON error shape
    (`curl /no/such/route` answers as the API always did)."""
    return (
        "text/html" in request.headers.get("accept", "")
        or request.headers.get("hx-request") == "true"
    )


def _error_page(
    request: Request, status: int, message: str | None = None, code: str | None = None
) -> Response:
    use_language(choose_language(request))  # the handlers run before any page is rendered
    titles = {
        403: _("Access denied"),
        404: _("Page not found"),
        405: _("Not allowed"),
        422: _("Check what you entered"),
        500: _("Something went wrong"),
    }
    title = titles.get(status, _("Error"))
    if not _wants_html(request):
        text = message or (_("Not found.") if status == 404 else title)
        return JSONResponse(
            status_code=status,
            content={
                "error": {
                    "code": code or JSON_CODES.get(status, "http_error"),
                    "message": text,
                    "details": {},
                }
            },
        )
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
    )


CSRF_REFUSED = N_(
    "The form has expired or did not come from this site. Reload the page and try again: "
    "nothing was changed."
)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = "/login?" + urlencode({"next": target})
        if request.headers.get("hx-request") == "true":
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 403 and exc.detail == "csrf":
            use_language(choose_language(request))
            return _error_page(request, 403, _(CSRF_REFUSED), "csrf_failed")
        return _error_page(request, exc.status_code)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return _error_page(
            request, http_status(exc), exc.message(choose_language(request)), exc.code
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        in_path = any(error["loc"][:1] == ("path",) for error in exc.errors())
        return _error_page(request, 404 if in_path else 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", incident, request.method, request.url.path)
        use_language(choose_language(request))
        return _error_page(
            request,
            500,
            _("Nothing was changed. Incident {incident}.").format(incident=incident),
        )


def create_web(context: Context) -> FastAPI:
    """The web application for `context` (mounted by `podpiska.app.mount_web`)."""
    settings = context.settings
    web = FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # the request's language for routes' own messages; an id in the path beyond any
        # row's: 404; the CSRF check on every POST/PUT/PATCH/DELETE, no exceptions
        dependencies=[
            Depends(speak_request_language),
            Depends(ids_in_range),
            Depends(csrf_protect),
        ],
    )
    web.state.context = context
    _install_error_pages(web)
    for router in (
        auth.router,
        portal_subscription.router,
        portal_renewal.router,
        portal_paying.router,
        portal_documents.router,
        portal_changes.router,
        portal_settings.router,
        portal_market.router,
        office_analytics.router,  # before the others: GET /office is the dashboard
        office_accounts.router,
        office_invoice_actions.router,
        office_account_actions.router,
        office_money_actions.router,
        office_order_actions.router,
        office_document_actions.router,
        office_account_timeline.router,
        office_bank.router,
        office_deliveries.router,
        office_documents.router,
        office_invoices.router,
        office_payments.router,
        office_test_clocks.router,
    ):
        web.include_router(router)
    web.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    if not VENDOR.is_dir():
        log.warning(
            "%s is missing: pages render without htmx, Chart.js and Pico CSS; run `make "
            "install` (npm ci) to bring them",
            VENDOR,
        )
    web.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )
    web.add_middleware(SecurityHeaders)
    return web


def web_mount(context: Context) -> WebMount:
    return WebMount("/", app=create_web(context), name="web")
