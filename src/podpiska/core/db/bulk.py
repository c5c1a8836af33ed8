"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite.

The daily lifecycle run and the bank statement import write tens of thousands of rows at
once (events, ledger, journal and audit rows, invoices, payments). On PostgreSQL they go
through COPY, with each column's own type processing applied first (kopecks, UTC datetimes,
JSON as SQLAlchemy serializes it: json.dumps, None as JSON null), so what lands is exactly
what the ORM would have written; in the binary format when every column's type is one COPY
sends that way. Rows can be encoded (`encode_rows`) apart from being sent
(`insert_encoded`, `update_encoded`: another thread may send them). Row ids can be reserved
ahead (`reserve_ids`) so that related rows refer to each other without a RETURNING round
trip. `bulk_update` sets columns of many rows by id: on PostgreSQL the new values are copied
into a temporary table and applied by one UPDATE.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from psycopg import Copy
from psycopg.copy import FileWriter
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from podpiska.core.db.base import Base


def reserve_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """`count` new primary keys for `model`'s table. Inside the caller's transaction; on
    SQLite the transaction holds the write lock, so max(id) + n is safe."""
    if count <= 0:
        return []
    table: Any = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        ).scalars()
        return list(rows)
    last = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _processor(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """What a value of this column must go through before COPY (None: nothing): what an ORM
    insert would do to it. Made for one call of `bulk_insert`."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        decorator = column_type
        done: dict[tuple[type, Any], Any] = {}  # the same value, once (`now`, amounts)

        def convert(value: Any) -> Any:
            try:
                key = (type(value), value)
                if key in done:
                    return done[key]
            except TypeError:  # unhashable
                return decorator.process_bind_param(value, dialect)
            done[key] = converted = decorator.process_bind_param(value, dialect)
            return converted

        return convert
    if isinstance(column_type, JSON):
        # SQLAlchemy's own rule: the engine's serializer (json.dumps by default), and None
        # as the JSON null unless the column is none_as_null.
        serialize = getattr(dialect, "_json_serializer", None) or _json_dumps
        none_as_null = bool(getattr(column_type.dialect_impl(dialect), "none_as_null", False))

        def to_json(value: Any) -> Any:
            if value is JSON.NULL:
                value = None
            elif value is None and none_as_null:
                return None
            return serialize(value)

        return to_json
    return None


def _json_dumps(value: Any) -> str:
    """`json.dumps(value)`, the same text, without making an encoder for every value."""
    if _ENCODE is None:
        return json.dumps(value)
    return "".join(_ENCODE(value, 0))


# json.dumps's own C encoder with its default settings (no circular check: rows are trees).
_ENCODE: Callable[[Any, int], Sequence[str]] | None = None
if c_make_encoder is not None:
    _ENCODE = c_make_encoder(
        None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False,
        False, True,
    )  # fmt: skip


# How a value of each type travels in a binary COPY, after `_processor` (JSON as its text,
# which is the binary form of `json`). The first match wins: BigInteger is an Integer.
_BINARY_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "bool"),
    (BigInteger, "int8"),
    (SmallInteger, "int2"),
    (Integer, "int4"),
    (Date, "date"),
    (JSON, "text"),
    (String, "text"),
    (LargeBinary, "bytea"),
)


def _binary_type(column: Any, dialect: Any) -> str | None:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    column_type = column_type.dialect_impl(dialect)
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    return next((name for kind, name in _BINARY_TYPES if isinstance(column_type, kind)), None)


@dataclass(frozen=True, slots=True)
class Encoded:
    """Rows of one table made ready to be written (`insert_encoded`, `update_encoded`): on
    PostgreSQL the COPY data itself, so that encoding and sending can happen apart (the bank
    import encodes while another thread sends); elsewhere the rows as dicts."""

    table: Any
    names: tuple[str, ...]
    copy: bytes | None  # COPY data (binary when `binary`)
    binary: bool
    rows: list[dict[str, Any]]  # when not PostgreSQL


def encode_rows(
    session: Session, model: type[Base], names: Sequence[str], rows: Sequence[list[Any]]
) -> Encoded:
    """Rows (lists of values in the order of `names`, converted in place) of `model`'s
    table, with each column's type processing applied as an ORM insert would."""
    table: Any = model.__table__
    bind = session.connection()
    if bind.dialect.name != "postgresql":
        rows_as_dicts = [dict(zip(names, row, strict=True)) for row in rows]
        return Encoded(table, tuple(names), None, False, rows_as_dicts)
    names = _with_defaults(table, names, rows)
    columns = [table.c[name] for name in names]
    converters = [
        (index, convert)
        for index, column in enumerate(columns)
        if (convert := _processor(column, bind.dialect)) is not None
    ]
    types = [_binary_type(column, bind.dialect) for column in columns]
    binary = None not in types
    raw: Any = bind.connection.driver_connection
    data = io.BytesIO()
    # A Copy made by hand, writing to memory, as psycopg documents for FileWriter.
    with raw.cursor() as cursor, Copy(cursor, binary=binary, writer=FileWriter(data)) as copy:
        if binary:
            copy.set_types([name for name in types if name is not None])
        for values in rows:
            for index, convert in converters:
                values[index] = convert(values[index])
            copy.write_row(values)
    return Encoded(table, tuple(names), data.getvalue(), binary, [])


class _Row:
    """What a column's default function sees of the row being written (SQLAlchemy's
    `context.get_current_parameters()`), for rows COPY writes without an INSERT."""

    __slots__ = ("parameters",)

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        del isolate_multiinsert_groups
        return self.parameters


def _with_defaults(table: Any, names: Sequence[str], rows: Sequence[list[Any]]) -> list[str]:
    """`names` and the table's columns left out of them that have a Python-side default (a
    value, or a function of the row: an outbox event's `created_day`), whose values are
    appended to each row: what an INSERT (the ORM's, SQLite's executemany) would write."""
    missing = [
        column
        for column in table.columns
        if column.name not in names
        and column.default is not None
        and (column.default.is_scalar or column.default.is_callable)
    ]
    if not missing:
        return list(names)
    row = _Row()
    for values in rows:
        row.parameters = dict(zip(names, values, strict=True))
        values += [
            column.default.arg(row) if column.default.is_callable else column.default.arg
            for column in missing
        ]
    return [*names, *(column.name for column in missing)]


def _send(session: Session, encoded: Encoded, into: str) -> None:
    assert encoded.copy is not None
    raw: Any = session.connection().connection.driver_connection
    column_list = ", ".join(f'"{name}"' for name in encoded.names)
    statement = f'COPY "{into}" ({column_list}) FROM STDIN'
    if encoded.binary:
        statement += " (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(encoded.copy)


def insert_encoded(session: Session, encoded: Encoded) -> None:
    """Insert encoded rows (in the caller's transaction)."""
    if encoded.copy is None:
        if encoded.rows:
            session.execute(encoded.table.insert(), encoded.rows)
        return
    _send(session, encoded, encoded.table.name)


def update_encoded(session: Session, encoded: Encoded) -> None:
    """Set the columns of the encoded rows (the first is "id") on the rows of those ids. On
    PostgreSQL the rows are copied into a temporary table of those columns and applied by
    one UPDATE; elsewhere an executemany UPDATE."""
    table, names = encoded.table, encoded.names
    assert names[0] == "id"
    columns = names[1:]
    if encoded.copy is None:
        if encoded.rows:
            session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({name: bindparam(f"new_{name}") for name in columns}),
                [
                    {"row_id": row["id"], **{f"new_{name}": row[name] for name in columns}}
                    for row in encoded.rows
                ],
            )
        return
    bind = session.connection()
    column_list = ", ".join(f'"{name}"' for name in names)
    temporary = f"bulk_update_{table.name}"
    bind.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{temporary}" ON COMMIT DROP AS '
        f'SELECT {column_list} FROM "{table.name}" WITH NO DATA'
    )
    _send(session, encoded, temporary)
    assignments = ", ".join(f'"{name}" = v."{name}"' for name in columns)
    bind.exec_driver_sql(  # IN: the rows found by their key, not by scanning the table
        f'UPDATE "{table.name}" AS t SET {assignments} FROM "{temporary}" AS v '
        f'WHERE t.id = v.id AND t.id IN (SELECT id FROM "{temporary}")'
    )
    bind.exec_driver_sql(f'DROP TABLE "{temporary}"')


def bulk_insert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts of column values, all with the same keys) into `model`'s table."""
    if not rows:
        return
    if session.connection().dialect.name != "postgresql":
        table: Any = model.__table__
        session.execute(table.insert(), list(rows))
        return
    names = list(rows[0].keys())
    bulk_insert_values(session, model, names, [[row[name] for name in names] for row in rows])


def bulk_insert_values(
    session: Session, model: type[Base], names: Sequence[str], rows: Sequence[list[Any]]
) -> None:
    """`bulk_insert` of rows given as lists of values in the order of `names` (no dict per
    row to build); the lists are converted in place."""
    if rows:
        insert_encoded(session, encode_rows(session, model, names, rows))


def bulk_update(
    session: Session, model: type[Base], columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Set `columns` of `model`'s rows by id: `rows` are dicts of "id" and those columns
    (see `update_encoded`)."""
    if rows:
        names = ["id", *columns]
        values = [[row[name] for name in names] for row in rows]
        update_encoded(session, encode_rows(session, model, names, values))
