"""SQL pieces the catalog's set-based reads share: constants written into a statement, and
"does this JSON list column hold this code" on SQLite and PostgreSQL alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, cast, func, literal, literal_column
from sqlalchemy.orm import Session


def int_literal(value: int) -> ColumnElement[Any]:
    """An integer constant written into the statement (kopecks, counts: ours, never input)."""
    return literal_column(str(int(value)), BigInteger())


def kopecks(amount: Decimal) -> int:
    return int(amount * 100)


def json_has(session: Session, column: Any, code: str) -> ColumnElement[bool]:
    """A JSON list column holds the string `code` (exact: no LIKE wildcards)."""
    return text_has(session, cast(column, String()), literal(f'"{code}"', String()))


def text_has(session: Session, text: Any, needle: Any) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return func.strpos(text, needle) > 0
    return func.instr(text, needle) > 0
