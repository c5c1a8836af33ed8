"""Ports: the outside world as Protocols. Concrete adapters are wired in `podpiska.app`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    """Where time comes from. Domain and services never read the wall clock themselves."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def today(self, timezone: str) -> date:
        """Today's date in the given IANA timezone (Europe/Moscow by default in catalogs)."""
        ...
