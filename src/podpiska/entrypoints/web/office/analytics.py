"""The back office's figures (vendors): the dashboard (`/office`), the catalog in force and
the scheduled versions (`/office/catalog`, read-only), and the impact report of a catalog
migration plan (`/office/migrations/{code}`, with the API's CSV).

Charts are Chart.js (served from /static/vendor) driven by our `static/charts.js`, which
reads each chart's data from a JSON script block next to its canvas (amounts as strings of
Decimals, never floats); every chart has its numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from podpiska.backoffice import reporting
from podpiska.catalog import views as catalog_views
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep
from podpiska.entrypoints.web.i18n import _, current_language
from podpiska.entrypoints.web.labels import PAYMENT_METHODS, label
from podpiska.entrypoints.web.rendering import render
from podpiska.subscriptions import moves as migrations
from podpiska.subscriptions import moves_impact

router = APIRouter(prefix="/office")

IMPACT_ROWS_SHOWN = 200  # the page's table; the CSV has every account


def month_label(first: date) -> str:
    """`нояб. 2026` (ru), `Nov 2026` (en)."""
    return format_date(first, "LLL yyyy", locale=current_language())


def _dashboard_charts(board: reporting.Dashboard) -> dict[str, Any]:
    months = [month_label(m.month) for m in board.mrr]
    mrr = {
        "type": "bar",
        "labels": months,
        "datasets": [
            {"label": _("New"), "data": [str(m.new) for m in board.mrr], "stack": "move"},
            {"label": _("Expansion"), "data": [str(m.expansion) for m in board.mrr],
             "stack": "move"},
            {"label": _("Contraction"), "data": [str(-m.contraction) for m in board.mrr],
             "stack": "move"},
            {"label": _("Churn"), "data": [str(-m.churn) for m in board.mrr], "stack": "move"},
            {"label": _("MRR"), "data": [str(m.mrr) for m in board.mrr], "type": "line"},
        ],
        "stacked": True,
    }  # fmt: skip
    plans = {
        "type": "doughnut",
        "labels": [p.name.get(current_language()) if p.name else p.plan for p in board.by_plan],
        "datasets": [
            {"label": _("Subscriptions"), "data": [str(p.subscriptions) for p in board.by_plan]}
        ],
    }
    cash = {
        "type": "bar",
        "labels": [month_label(c.month) for c in board.cash],
        "datasets": [
            {
                "label": label(PAYMENT_METHODS, method),
                "data": [str(c.by_method.get(method, 0)) for c in board.cash],
                "stack": "cash",
            }
            for method in board.methods
        ],
        "stacked": True,
    }
    return {"mrr": mrr, "plans": plans, "cash": cash}


@router.get("", include_in_schema=False)
def dashboard(request: Request, who: VendorDep, db: DbDep, ctx: ContextDep) -> HTMLResponse:
    """MRR and its movement, subscriptions by tariff, renewals due, grace and suspended,
    cash by method."""
    board = reporting.dashboard(db, clock=ctx.clock)
    return render(
        request,
        "office/dashboard.html",
        {"board": board, "charts": _dashboard_charts(board), "month_label": month_label},
    )


@router.get("/catalog", include_in_schema=False)
def catalog(request: Request, who: VendorDep, db: DbDep, ctx: ContextDep) -> HTMLResponse:
    """The catalog file in force (readable and raw) and its scheduled versions."""
    view = catalog_views.catalog_view(db, clock=ctx.clock)
    return render(request, "office/catalog.html", {"view": view})


@router.get("/migrations", include_in_schema=False)
def migration_plans(request: Request, who: VendorDep, db: DbDep) -> HTMLResponse:
    plans = migrations.list_migrations(db)
    return render(request, "office/impact_list.html", {"plans": plans})


@router.get("/migrations/{code}", include_in_schema=False)
def migration_impact(request: Request, code: str, who: VendorDep, db: DbDep) -> HTMLResponse:
    """The plan's impact report: totals, the histogram of increases, the accounts."""
    plan = migrations.migration_of(db, code=code)  # unknown: 404
    summary = moves_impact.impact_summary(db, code=code)
    rows: list[moves_impact.ImpactRow] = []
    batches = moves_impact.impact_rows(db, code=code, batch=IMPACT_ROWS_SHOWN)
    try:
        for batch in batches:
            rows.extend(batch)
            if len(rows) >= IMPACT_ROWS_SHOWN:
                break
    finally:
        batches.close()  # type: ignore[attr-defined]  # ends its transaction
    histogram = {
        "type": "bar",
        "labels": [f"{bucket} %" if bucket[0].isdigit() or bucket[0] in "<>" else bucket
                   for bucket in summary.buckets],
        "datasets": [
            {"label": _("Accounts"), "data": [str(n) for n in summary.buckets.values()]}
        ],
    }  # fmt: skip
    return render(
        request,
        "office/impact.html",
        {
            "plan": plan,
            "summary": summary,
            "rows": rows[:IMPACT_ROWS_SHOWN],
            "more": summary.accounts > IMPACT_ROWS_SHOWN,
            "shown": IMPACT_ROWS_SHOWN,
            "histogram": histogram,
        },
    )


@router.get("/migrations/{code}/impact.csv", include_in_schema=False)
def migration_impact_csv(code: str, who: VendorDep, db: DbDep, ctx: ContextDep) -> Any:
    """The same CSV as `GET /api/v1/migrations/{code}/impact.csv`, streamed."""
    migrations.migration_of(db, code=code)  # an unknown plan is a 404 before the stream

    def lines() -> Iterator[str]:
        with ctx.session() as stream:
            yield from moves_impact.impact_csv(stream, code=code)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="impact-{code}.csv"'},
    )
