"""Catalog migrations: the plans of the catalog in force and their impact report (vendor
keys only): the summary as JSON, the per-account rows as a streamed CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from podpiska.entrypoints.api.deps import ContextDep, SessionDep, VendorDep
from podpiska.entrypoints.api.docs import errors
from podpiska.entrypoints.api.schemas.answers import (
    ImpactOut,
)
from podpiska.subscriptions import moves as migrations
from podpiska.subscriptions import moves_impact

router = APIRouter(tags=["migrations"])


class CohortOut(BaseModel):
    code: str
    cut_over: date


class MigrationOut(BaseModel):
    code: str
    name: str
    kind: str
    transition_days: int
    notify_days: list[int]
    to_version: str | None
    mode: str | None
    cohorts: list[CohortOut]


@router.get(
    "/migrations",
    response_model=list[MigrationOut],
    responses=errors("no_catalog_loaded", vendor=True, found=False),
)
def list_migrations(who: VendorDep, db: SessionDep) -> Any:
    """The migration plans of the catalog in force (catalog `migrations:`)."""
    return [
        MigrationOut(
            code=m.code,
            name=m.name.ru,
            kind=m.kind.value,
            transition_days=m.transition_days,
            notify_days=list(m.notify_days),
            to_version=m.to_version,
            mode=m.mode.value if m.mode else None,
            cohorts=[CohortOut(code=c.code, cut_over=c.cut_over) for c in m.cohorts],
        )
        for m in migrations.list_migrations(db)
    ]


@router.get(
    "/migrations/{code}/impact",
    response_model=ImpactOut,
    responses=errors("no_catalog_loaded", vendor=True),
)
def impact(code: str, who: VendorDep, db: SessionDep) -> Any:
    """What the plan would do before anything is switched on: accounts affected, those
    paying more, revenue per month today and after (list prices), the first-time discount,
    the distribution of increases in percent, per cohort."""
    return moves_impact.impact_summary(db, code=code).as_json()


@router.get(
    "/migrations/{code}/impact.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One line per affected account."},
        **errors("no_catalog_loaded", vendor=True),
    },
)
def impact_csv(code: str, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """One line per affected account, streamed as it is read (a million lines included)."""
    migrations.migration_of(db, code=code)  # an unknown plan is a 404 before the stream

    def lines() -> Iterator[str]:
        with ctx.session() as stream:
            yield from moves_impact.impact_csv(stream, code=code)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="impact-{code}.csv"'},
    )
