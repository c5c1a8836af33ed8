"""Test clocks: create one, list them, open accounts on it, move it forward by days or to
a date."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter

from podpiska.core import clocks
from podpiska.core.models import TestClock
from podpiska.entrypoints.api.deps import After, ContextDep, Id, Limit, SessionDep, VendorDep
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.test_clocks import (
    AdvanceIn,
    AdvanceOut,
    AutopayOut,
    TestClockIn,
    TestClockOut,
)
from podpiska.payments.autopay import AutopayReport, charge_autopay
from podpiska.ports import Clock
from podpiska.subscriptions import lifecycle

router = APIRouter(tags=["test clocks"])


def _out(found: TestClock) -> TestClockOut:
    return TestClockOut(id=found.id, name=found.name, now=found.now.astimezone(UTC))


@router.post(
    "/test-clocks",
    status_code=201,
    response_model=TestClockOut,
    responses=errors(vendor=True, found=False),
)
def create(body: TestClockIn, who: VendorDep, db: SessionDep, ctx: ContextDep) -> TestClockOut:
    made = clocks.create_test_clock(
        db, name=body.name, now=body.now, actor=who.actor, clock=ctx.clock
    )
    return _out(made)


@router.get(
    "/test-clocks",
    response_model=PageOut[TestClockOut],
    responses=errors(vendor=True, found=False),
)
def list_all(
    who: VendorDep, db: SessionDep, limit: Limit = 100, after: After = 0
) -> PageOut[TestClockOut]:
    """The test clocks by id, a page at a time."""
    found = clocks.page_test_clocks(db, after=after, limit=limit)
    return PageOut[TestClockOut](
        data=[_out(c) for c in found.rows], has_more=found.has_more, next_after=found.next_after
    )


@router.get("/test-clocks/{clock_id}", response_model=TestClockOut, responses=errors(vendor=True))
def get(clock_id: Id, who: VendorDep, db: SessionDep) -> TestClockOut:
    return _out(clocks.get_test_clock(db, clock_id))


@router.post(
    "/test-clocks/{clock_id}/advance",
    response_model=AdvanceOut,
    responses=errors("test_clock_advance_too_far", "test_clock_backwards", vendor=True),
)
def advance(
    clock_id: Id, body: AdvanceIn, who: VendorDep, db: SessionDep, ctx: ContextDep
) -> AdvanceOut:
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
    return AdvanceOut(
        id=clock_id,
        was=result.was,
        now=result.now,
        days_run=list(result.report.days),
        counts=result.report.totals.as_dict(),
        autopay=AutopayOut(**charged.as_dict()),
    )
