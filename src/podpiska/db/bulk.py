"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite.

The daily lifecycle run writes tens of thousands of rows at once (events, ledger and audit
rows, invoices). On PostgreSQL they go through COPY, with each column's own type processing
applied first (kopecks, UTC datetimes, JSON), so what lands is exactly what the ORM would
have written. Row ids can be reserved ahead (`reserve_ids`) so that related rows refer to
each other without a RETURNING round trip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from podpiska.db.models import Base


def reserve_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """`count` new primary keys for `model`'s table. Inside the caller's transaction; on
    SQLite the transaction holds the write lock, so max(id) + n is safe."""
    if count <= 0:
        return []
    table: Any = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.scalar(select(func.pg_get_serial_sequence(table.name, "id")))
        rows = session.execute(
            text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": count}
        ).scalars()
        return list(rows)
    last = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _processor(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """What a value of this column must go through before COPY (None: nothing)."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        decorator = column_type

        def convert(value: Any) -> Any:
            return decorator.process_bind_param(value, dialect)

        return convert
    if isinstance(column_type, JSON):
        return lambda value: None if value is None else json.dumps(value, ensure_ascii=False)
    return None


def bulk_insert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts of column values, all with the same keys) into `model`'s table."""
    if not rows:
        return
    table: Any = model.__table__
    bind = session.connection()
    if bind.dialect.name != "postgresql":
        session.execute(table.insert(), list(rows))
        return
    names = list(rows[0].keys())
    columns = [table.c[name] for name in names]
    converters = [
        (index, convert)
        for index, column in enumerate(columns)
        if (convert := _processor(column, bind.dialect)) is not None
    ]
    raw: Any = bind.connection.driver_connection
    column_list = ", ".join(f'"{name}"' for name in names)
    statement = f'COPY "{table.name}" ({column_list}) FROM STDIN'
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names]
            for index, convert in converters:
                values[index] = convert(values[index])
            copy.write_row(values)
