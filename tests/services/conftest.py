"""Shared set-up of the use-case tests: a clock moved by hand (the one fake: the Clock port)
and a session on a fresh database (SQLite and PostgreSQL, from tests/conftest.py) with the
shipped crm-shop catalog loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.catalog.store import load_catalog_document
from tests.services.helpers import CRM_SHOP, START


@pytest.fixture
def clock() -> FixedClock:
    """Noon in Moscow on 2026-11-22; tests move it with `helpers.move_to`."""
    return FixedClock(START)


@pytest.fixture
def db(session_factory: sessionmaker[Session], clock: FixedClock) -> Iterator[Session]:
    """A session on a fresh database with the crm-shop catalog loaded."""
    with session_factory() as session:
        load_catalog_document(session, path=CRM_SHOP, actor="test:setup", clock=clock)
        yield session
