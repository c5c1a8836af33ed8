"""Bodies of test clocks."""

from __future__ import annotations

from pydantic import Field, StrictInt

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
