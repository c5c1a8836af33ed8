"""What an entry point is given by `podpiska.app`: settings and the concrete ports."""

from __future__ import annotations

from dataclasses import dataclass

from podpiska.config import Settings
from podpiska.ports import Clock


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    clock: Clock
