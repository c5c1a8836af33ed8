"""Kopecks, UTCDateTime and JSON columns behave the same on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from podpiska.core.db.types import Kopecks, UTCDateTime
from podpiska.core.models import AuditEntry

probe_metadata = MetaData()
probe = Table(
    "type_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Kopecks),
    Column("at", UTCDateTime),
    Column("doc", JSON),
)


@pytest.fixture
def probe_engine(engine: Engine) -> Iterator[Engine]:
    probe_metadata.create_all(engine)
    yield engine


def _store(engine: Engine, **values: Any) -> int:
    with engine.begin() as connection:
        key = connection.execute(insert(probe).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _load(engine: Engine, column: str, row_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(probe.c[column]).where(probe.c.id == row_id)).scalar_one()


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM type_probe")).scalar_one())


@pytest.mark.parametrize(
    ("amount", "kopecks"),
    [
        (Decimal("123456789012.34"), 12345678901234),
        (Decimal("-0.01"), -1),
        (Decimal("0.00"), 0),
        (Decimal("3990"), 399000),
    ],
)
def test_kopecks_round_trip_exactly(probe_engine: Engine, amount: Decimal, kopecks: int) -> None:
    row_id = _store(probe_engine, amount=amount)

    loaded = _load(probe_engine, "amount", row_id)
    with probe_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT amount FROM type_probe WHERE id = :id"), {"id": row_id}
        ).scalar_one()

    assert isinstance(loaded, Decimal)
    assert loaded == amount
    assert loaded.as_tuple().exponent == -2  # always two places: 3990 -> 3990.00
    assert stored == kopecks  # an integer in the database, not a float


@pytest.mark.parametrize(
    "amount",
    [Decimal("1.001"), Decimal("NaN"), Decimal("Infinity"), 1.5, 0.1, 100],
    ids=["1.001", "NaN", "Infinity", "float-1.5", "float-0.1", "int"],
)
def test_kopecks_refuse_what_is_not_money(probe_engine: Engine, amount: Any) -> None:
    with pytest.raises(StatementError, match="money must be a Decimal") as raised:
        _store(probe_engine, amount=amount)

    assert isinstance(raised.value.orig, ValueError)
    assert _count(probe_engine) == 0


def test_kopecks_keep_null(probe_engine: Engine) -> None:
    assert _load(probe_engine, "amount", _store(probe_engine, amount=None)) is None


def test_utc_datetime_comes_back_aware_in_utc(probe_engine: Engine) -> None:
    in_moscow = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Moscow"))

    loaded = _load(probe_engine, "at", _store(probe_engine, at=in_moscow))

    assert loaded == in_moscow  # the same instant
    assert loaded.tzinfo is UTC
    assert loaded.utcoffset() == timedelta(0)
    assert (loaded.hour, loaded.microsecond) == (9, 123456)


def test_utc_datetime_refuses_naive_datetimes(probe_engine: Engine) -> None:
    naive = datetime(2026, 11, 22, 12, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(StatementError, match="timezone-aware") as raised:
        _store(probe_engine, at=naive)

    assert isinstance(raised.value.orig, ValueError)
    assert _count(probe_engine) == 0


@pytest.mark.parametrize(
    "doc",
    [
        {"название": "Тариф «Бизнес»", "seats": 12, "nested": {"on": True, "off": None}},
        ["api", "webhooks", "маркетплейс"],
        {"big": 2**53 + 1, "list": [1, "2", 3.5], "empty": {}},
    ],
    ids=["dict", "list", "numbers"],
)
def test_json_columns_round_trip(probe_engine: Engine, doc: Any) -> None:
    assert _load(probe_engine, "doc", _store(probe_engine, doc=doc)) == doc


def test_json_columns_of_the_models_round_trip(session_factory: sessionmaker[Session]) -> None:
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    before = {"status": "active", "seats": 5, "add_ons": ["api"]}
    after = {"status": "grace", "seats": 5, "add_ons": [], "причина": "не оплачен счёт № 42"}
    with session_factory() as session, session.begin():
        entry = AuditEntry(
            at=at,
            actor="system",
            action="subscription.grace_started",
            object_type="subscription",
            object_id="7",
            account_id=3,
            before=before,
            after=after,
        )
        session.add(entry)
    with session_factory() as session, session.begin():
        loaded = session.get(AuditEntry, entry.id)

    assert loaded is not None
    assert (loaded.before, loaded.after, loaded.at) == (before, after, at)
