"""Operations: liveness, readiness (database reachable, migrations current), metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from podpiska.entrypoints.api.deps import context
from podpiska.entrypoints.observability import ENTITLEMENT_SNAPSHOT, OUTBOX_BACKLOG

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process answers (async: no thread of the pool needed)."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the latest migration."""
    from sqlalchemy import text

    from podpiska.migrate import is_current

    ctx = context(request)
    checks: dict[str, str] = {}
    try:
        with ctx.session() as db, db.begin():
            db.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach it means "not ready"
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            current = is_current(ctx.settings.database_url)
        except Exception as exc:  # an unreadable schema is not ready either
            checks["migrations"] = f"unknown: {type(exc).__name__}"
        else:
            checks["migrations"] = "ok" if current else "pending: run `podpiska init`"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics; the outbox backlog is counted at scrape time."""
    from podpiska.notifications.backlog import backlog

    try:
        with context(request).session() as db:
            for stage, count in backlog(db).items():
                OUTBOX_BACKLOG.labels(stage).set(count)
    except Exception:  # metrics never fail because the database is away
        OUTBOX_BACKLOG.labels("unknown").set(-1)
    snapshots = getattr(request.app.state, "entitlements", None)
    if snapshots is not None:  # this process's (each API worker has its own)
        for stat, value in snapshots.stats().items():
            ENTITLEMENT_SNAPSHOT.labels(stat).set(value)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
