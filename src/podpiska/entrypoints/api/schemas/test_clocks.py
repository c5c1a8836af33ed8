"""Bodies of test clocks."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, StrictInt

from podpiska.entrypoints.api.schemas.common import AwareMoment, In, Moment, Name


class TestClockIn(In):
    name: Name = "test clock"
    now: Moment | None = Field(
        None, description="Start time (with its offset, 2000 to 2099); default: now"
    )


class AdvanceIn(In):
    # Any integer: the service refuses more than its maximum with the maximum in the message.
    days: StrictInt | None = None
    to: AwareMoment | None = None


class TestClockOut(BaseModel):
    __test__ = False  # not a pytest class

    id: int
    name: str
    now: datetime = Field(description="The clock's time")


class AutopayOut(BaseModel):
    charged: int
    succeeded: int
    failed: int
    pending: int
    skipped: int


class AdvanceOut(BaseModel):
    id: int
    was: datetime
    now: datetime
    days_run: list[date] = Field(description="The days whose daily lifecycle run happened")
    counts: dict[str, int] = Field(description="What the daily runs did, summed")
    autopay: AutopayOut
