"""The declarative base every area's tables stand on: the naming convention of constraints,
the column types (money in `Kopecks`, exact on both databases; datetimes `UTCDateTime`) and
the id column. Each area keeps its tables in its own `models.py`; `podpiska.tables` imports
them all, so `Base.metadata` is whole once it is imported (Alembic, backups, tests).

ORM classes singular, tables plural.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from podpiska.core.db.types import BigId, Kopecks, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        datetime: UTCDateTime,
        Decimal: Kopecks,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


# A row's key is a positive 64-bit integer: a larger id cannot exist, and would overflow the
# driver (OverflowError on SQLite, "bigint out of range" on PostgreSQL) if it were asked for.
MAX_ID = 2**63 - 1


def id_column() -> Mapped[int]:
    """The primary key of a table: a big integer the database assigns."""
    return mapped_column(BigId, primary_key=True, autoincrement=True)
