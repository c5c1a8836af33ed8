"""Column types that behave the same on SQLite and PostgreSQL.

- `Kopecks`: money as an integer number of kopecks, read back as a `Decimal` in roubles.
  Exact on both databases (SQLite has no decimal type and would store a float).
- `UTCDateTime`: timezone-aware datetimes stored in UTC (SQLite forgets the zone).
- `JSONDict` / `JSONList`: JSON on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from podpiska.core.domain.money import CENT, is_money

# Autoincrementing 64-bit keys on PostgreSQL; SQLite autoincrements INTEGER only.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Kopecks(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not is_money(value):
            raise ValueError(f"money must be a Decimal rounded to the kopeck, got {value!r}")
        return int(value / CENT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)) * CENT


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDict = JSON().with_variant(JSON(none_as_null=True), "postgresql")
