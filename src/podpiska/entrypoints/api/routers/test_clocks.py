"""Test clocks: create one, open accounts on it, move it forward by days or to a date."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from podpiska.core import clocks
from podpiska.entrypoints.api.deps import ContextDep, Id, SessionDep, VendorDep
from podpiska.entrypoints.api.schemas.test_clocks import AdvanceIn, TestClockIn
from podpiska.payments.autopay import AutopayReport, charge_autopay
from podpiska.ports import Clock
from podpiska.subscriptions import lifecycle

router = APIRouter(tags=["test clocks"])


@router.post("/test-clocks", status_code=201)
def create(body: TestClockIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    made = clocks.create_test_clock(
        db, name=body.name, now=body.now, actor=who.actor, clock=ctx.clock
    )
    return {"id": made.id, "name": made.name, "now": made.now.isoformat()}


@router.get("/test-clocks/{clock_id}")
def get(clock_id: Id, who: VendorDep, db: SessionDep) -> Any:
    found = clocks.get_test_clock(db, clock_id)
    return {"id": found.id, "name": found.name, "now": found.now.isoformat()}


@router.post("/test-clocks/{clock_id}/advance")
def advance(clock_id: Id, body: AdvanceIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> Any:
    """Every daily lifecycle run between the old and the new time happens, in order, and
    after each day the autopay charges of that day (with the configured gateway)."""
    gateway = ctx.ports.gateway
    charged = AutopayReport()

    def after_day(test_clock_id: int, day_clock: Clock) -> None:
        assert gateway is not None
        day = charge_autopay(
            db,
            gateway,
            clock=day_clock,
            clock_id=test_clock_id,
            two_stage=ctx.settings.gateway_two_stage,
        )
        charged.add(day)

    result = lifecycle.advance_test_clock(
        db,
        clock_id=clock_id,
        to=body.to,
        days=body.days,
        actor=who.actor,
        clock=ctx.clock,
        after_day=after_day if gateway is not None else None,
    )
    return {
        "id": clock_id,
        "was": result.was.isoformat(),
        "now": result.now.isoformat(),
        "days_run": [d.isoformat() for d in result.report.days],
        "counts": result.report.totals.as_dict(),
        "autopay": charged.as_dict(),
    }
