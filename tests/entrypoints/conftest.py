"""Shared set-up of the entry-point tests: a context with a fixed clock and explicit settings.

The clock stands at noon in Moscow on 2026-11-22 and the settings name the shipped
catalog and a temporary cache folder, so nothing depends on the day, the environment or
the current directory.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entrypoints.context import Context

PROJECT = Path(__file__).resolve().parents[2]
CRM_SHOP = PROJECT / "catalogs" / "crm-shop.yaml"
SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"
NOON_IN_MOSCOW = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def make_context(
    cache_dir: Path, *, catalog: Path = CRM_SHOP, language: Literal["ru", "en"] = "ru"
) -> Context:
    settings = Settings(
        env="test",
        catalog=catalog,
        cache_dir=cache_dir,
        language=language,
        database_url=f"sqlite:///{cache_dir.parent / 'podpiska.db'}",
    )
    return build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))


@pytest.fixture
def context(tmp_path: Path) -> Context:
    return make_context(tmp_path / "cache")
