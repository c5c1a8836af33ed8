"""Clocks: the system's, and a fixed one for tests and for quotes "as of" a date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, timezone: str) -> date:
        return self.now().astimezone(ZoneInfo(timezone)).date()


class FixedClock:
    """A clock that stands still at `instant` until moved."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def today(self, timezone: str) -> date:
        return self.instant.astimezone(ZoneInfo(timezone)).date()
