"""Cursor paging of a list: rows in the order of one unique integer key (an id), `after`
the last key the caller has seen, `limit` at most, and whether more follow.

One query per page: `limit + 1` rows are read, so `has_more` costs no COUNT. The key must be
unique and indexed together with the list's filters (docs/api.md, "Lists"), so a page at the
end of a million rows reads as few rows as the first one.

A list sorted by a column (`by`: the back office's amount, date or number) is paged on the
pair (that column, the key): the cursor is still the last row's key, and the page reads that
row's column first (one more indexed look-up), so a page never loses or repeats a row that
shares its neighbour's value. NULLs sort after every value (before them, descending), as an
index on PostgreSQL keeps them. The column must be one that does not change once the row is
listed (an issued invoice's date, number, total; a payment's day and amount).

The API's lists take that order as `sort` (`sort_of`): `id` (the default), a column's name,
`-` before either: descending. The API is strict (an unknown name is `invalid_field`); the
back office falls back to its default order (`entrypoints/web/office/sorting.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from podpiska.core.db.base import MAX_ID
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page: its rows, whether more follow, and the cursor that reads the next page
    (the last row's key; None when the page is empty)."""

    rows: Sequence[T]
    has_more: bool
    next_after: int | None

    def map(self, each: Callable[[T], U]) -> Page[U]:
        return Page([each(row) for row in self.rows], self.has_more, self.next_after)


def page(
    session: Session,
    query: Select[*tuple[Any, ...]],
    *,
    key: InstrumentedAttribute[int],
    after: int = 0,
    limit: int = 100,
    descending: bool = False,
    by: InstrumentedAttribute[Any] | None = None,
) -> Page[Any]:
    """The page of `query` (a select of one ORM entity or of columns including `key`) after
    `after`: ascending by `key` (`after=0` from the start), or descending (`after=0` from the
    newest, then the keys below `after`); with `by`, in the order of (`by`, `key`), both
    ascending or both descending, after the row whose key is `after` (a key that names no
    row: from the start). Run inside the caller's transaction."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    after = min(after, MAX_ID)  # a cursor past every id (a BIGINT's largest) is past the last
    if by is not None:
        parts = _sorted_after(session, query, key=key, by=by, after=after, descending=descending)
    elif descending:
        parts = [(query.where(key < after) if after else query).order_by(key.desc())]
    else:
        parts = [query.where(key > after).order_by(key.asc())]
    found: list[Any] = []
    for part in parts:  # in turn, until the page and one more row are read
        found += session.execute(part.limit(limit + 1 - len(found))).all()
        if len(found) > limit:
            break
    more = len(found) > limit
    rows = [_unwrap(row) for row in found[:limit]]
    last = rows[-1] if rows else None
    return Page(rows, more, _key_of(last, key) if last is not None else None)


def ordered(
    query: Select[*tuple[Any, ...]],
    *,
    key: InstrumentedAttribute[int],
    by: InstrumentedAttribute[Any] | None = None,
    descending: bool = False,
) -> Select[*tuple[Any, ...]]:
    """`query` in the order `page` reads it, whole (a list's CSV in the list's order)."""
    if by is None:
        return query.order_by(key.desc() if descending else key.asc())
    if descending:
        return query.order_by(by.desc().nulls_first() if _nullable(by) else by.desc(), key.desc())
    return query.order_by(by.asc().nulls_last() if _nullable(by) else by.asc(), key.asc())


def sort_of(
    sort: str, columns: Mapping[str, InstrumentedAttribute[Any]]
) -> tuple[InstrumentedAttribute[Any] | None, bool]:
    """The column a list's `sort` names (None: `id`, the key) and whether descending (`-`
    before the name); a name that is neither `id` nor one of `columns` is `invalid_field`."""
    name = sort.removeprefix("-")
    if name != "id" and name not in columns:
        allowed = ", ".join(["id", *columns])
        raise DomainError(
            "invalid_field",
            field="sort",
            problem_ru=f"одно из: {allowed}, с «-» перед ним — по убыванию",
            problem_en=f"one of: {allowed}, with '-' before it: descending",
        )
    return (None if name == "id" else columns[name]), sort.startswith("-")


def _nullable(column: InstrumentedAttribute[Any]) -> bool:
    return bool(getattr(column.expression, "nullable", True))


def _sorted_after(
    session: Session,
    query: Select[*tuple[Any, ...]],
    *,
    key: InstrumentedAttribute[int],
    by: InstrumentedAttribute[Any],
    after: int,
    descending: bool,
) -> list[Select[*tuple[Any, ...]]]:
    """`query` ordered by (`by`, `key`) and limited to the rows after the row `after`: one
    query, or two read in turn where the rest of the order crosses between the values and
    the NULLs (each served by its index: one `... OR by IS NULL` read the whole index,
    464 ms a deep page of invoices by number at a million rows)."""
    query = ordered(query, key=key, by=by, descending=descending)
    cursor = session.execute(select(by).where(key == after)).first() if after else None
    if cursor is None:
        return [query]
    value = cursor[0]
    known = literal(value, by.type)  # bound as the column's type (money: kopecks)
    if descending:
        if value is None:  # the NULLs come first: the rest of them, then every value
            return [query.where(by.is_(None), key < after), query.where(by.is_not(None))]
        return [query.where(tuple_(by, key) < tuple_(known, after))]
    if value is None:  # the NULLs come last: only the rest of them
        return [query.where(by.is_(None), key > after)]
    rest = query.where(tuple_(by, key) > tuple_(known, after))
    return [rest, query.where(by.is_(None))] if _nullable(by) else [rest]


def _unwrap(row: Any) -> Any:
    """A select of one entity gives that object; of several columns, the row itself."""
    return row[0] if len(row) == 1 else row


def _key_of(row: Any, key: InstrumentedAttribute[int]) -> int:
    value = getattr(row, key.key)
    return int(value)


def scoped(query: Select[*tuple[Any, ...]], column: Any, scope: Scope) -> Select[*tuple[Any, ...]]:
    """`query` limited to the rows of the accounts `scope` sees (a vendor's: every one)."""
    if scope.account_ids is None:
        return query
    return query.where(column.in_(sorted(scope.account_ids)))
