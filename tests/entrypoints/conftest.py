"""Shared set-up of the entry-point tests: a context with a fixed clock and explicit settings.

The clock stands at noon in Moscow on 2026-11-22 and the settings name the shipped
catalog and a temporary cache folder, so nothing depends on the day, the environment or
the current directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document

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


@pytest.fixture
def db_contexts(db_url: str, tmp_path: Path) -> Iterator[Callable[..., Context]]:
    """Build contexts on the test's database (SQLite and PostgreSQL) with the shipped
    catalog, a mailbox under tmp_path and the fixed clock; `load_catalog` loads the catalog
    into the database, other keywords override settings. Their engines are disposed after
    the test (PostgreSQL drops the database only when no connection is left)."""
    made: list[Context] = []

    def build(*, load_catalog: bool = False, **overrides: Any) -> Context:
        settings = Settings(
            **{
                "env": "test",
                "database_url": db_url,
                "catalog": CRM_SHOP,
                "cache_dir": tmp_path / "cache",
                "mailbox_dir": tmp_path / "mail",
                "log_format": "text",
                **overrides,
            }
        )
        context = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
        made.append(context)
        if load_catalog:
            with context.session() as db:
                load_catalog_document(db, path=CRM_SHOP, actor="test", clock=context.clock)
        return context

    yield build
    for context in made:
        if "sessions" in context.__dict__:
            context.sessions.kw["bind"].dispose()
