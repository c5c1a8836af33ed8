"""The FastAPI application: `/api/v1`, OpenAPI and its docs served offline at `/docs`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from podpiska import __version__
from podpiska.accounts.apikeys import PrincipalCache, UseMarks
from podpiska.entitlements.cache import EntitlementSnapshots
from podpiska.entitlements.refusals import RefusalLog
from podpiska.entrypoints.api.deps import plain_url
from podpiska.entrypoints.api.errors import install_error_handlers
from podpiska.entrypoints.api.fresh import RefreshRounds
from podpiska.entrypoints.api.middleware import (
    BodyLimitMiddleware,
    IdempotencyMiddleware,
    RequestContextMiddleware,
)
from podpiska.entrypoints.api.openapi import install_openapi
from podpiska.entrypoints.api.routers import (
    accounting,
    accounts,
    api_keys,
    apps,
    billing,
    catalog,
    changes,
    documents,
    extensions,
    invoice_actions,
    licenses,
    lists,
    migrations,
    money_lists,
    ops,
    payments,
    people,
    quotes,
    test_clocks,
    webhook_endpoints,
)
from podpiska.entrypoints.context import Context

# Asked thousands of times a second by products and probes: logged when they fail or are
# slow (PODPISKA_ACCESS_LOG=all logs them too).
QUIET_ROUTES = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/accounts/{account_id}/entitlements",
        "/api/v1/accounts/{account_id}/entitlements/{action}",
    }
)


# Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes; Swagger UI 4 cannot): the npm
# package swagger-ui-dist, pinned with the web's assets and copied here by `make install`.
SWAGGER_DIR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "swagger-ui"


def _swagger_dir() -> Path | None:
    return SWAGGER_DIR if (SWAGGER_DIR / "swagger-ui-bundle.js").is_file() else None


def create_api(context: Context) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if context.run_worker:
            from podpiska.entrypoints.worker import InProcessWorker

            worker = InProcessWorker(context)
            worker.start()
        if _app.state.refusals is not None:
            _app.state.refusals.start()
        try:
            yield
        finally:
            _app.state.refreshes.stop()
            if _app.state.refusals is not None:
                _app.state.refusals.stop()  # the refusals still counted are written
            if worker is not None:
                worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Podpiska",
        version=__version__,
        description="Subscription licensing and billing. Every amount explains itself.",
        docs_url=None,  # served below from local files: no CDN at run time
        redoc_url=None,
    )
    app.state.context = context
    # One snapshot of entitlements per process, refreshed by every entitlement request.
    app.state.entitlements = EntitlementSnapshots(
        context.session, context.clock, max_accounts=context.settings.entitlement_cache_accounts
    )
    app.state.refreshes = RefreshRounds(app.state.entitlements)  # shared by those requests
    app.state.principals = PrincipalCache()  # the keys of those requests, while not revoked
    app.state.key_uses = UseMarks()  # each key's last_used_at, to the minute
    # The refusals those requests answer, counted in memory and written after the answers.
    app.state.refusals = (
        RefusalLog(
            context.session,
            context.clock,
            flush_seconds=context.settings.entitlement_refusal_flush_seconds,
        )
        if context.settings.entitlement_refusals
        else None
    )
    install_error_handlers(app)
    install_openapi(app)
    for router in (
        quotes.router,
        accounting.router,
        accounts.router,
        apps.router,
        billing.router,
        changes.router,
        documents.router,
        extensions.router,
        licenses.router,
        lists.router,
        migrations.router,
        money_lists.router,
        payments.router,
        test_clocks.router,
        webhook_endpoints.router,
        api_keys.router,
        people.router,
        catalog.router,
        invoice_actions.router,
    ):
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(plain_url)])
    app.include_router(ops.router)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware)  # outside idempotency, which reads the body
    app.add_middleware(  # outermost: every response has an id
        RequestContextMiddleware,
        quiet=QUIET_ROUTES,
        log_all=context.settings.access_log == "all",
    )

    swagger = _swagger_dir()
    if swagger is not None:
        app.mount("/static/swagger", StaticFiles(directory=swagger), name="swagger")

        @app.get("/docs", include_in_schema=False)
        def docs() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title="Podpiska API",
                swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                swagger_css_url="/static/swagger/swagger-ui.css",
                swagger_favicon_url="/static/swagger/favicon-32x32.png",
            )

    return app
