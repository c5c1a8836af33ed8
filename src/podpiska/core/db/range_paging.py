"""A page of a list filtered by a range of days or times (issue 17's lists): the rows of the
range read through the range's own index and sorted by id, when the range is narrow.

`core.db.paging.page` walks the id order and skips the rows that do not match: fast when
matches are common, but a range of the last week at the end of a million rows is matched by
none of the first 98 % of ids (days and ids grow together, which PostgreSQL's planner does
not know), so the walk reads them all. A probe counts the range's rows through its index, up
to `NARROW` (an index-only scan of at most that many entries): within it, the page's ids are
read from the range's index of (range, id) and sorted (`ORDER BY id + 0` keeps the planner off
the id index), then only their rows; beyond it, the id walk finds its page among the many
matches (bench/lists_money.py).

A wide range of *days* (`day`: a date column with an index of (day, id)) starts its id walk at
the range's smallest id (descending: its largest), found exactly by one probe of that index
per distinct day of the range (a loose index scan, a recursive CTE): no row of the range has
a smaller id, so nothing is lost, and a range that begins half a table in no longer walks
the half before it. (Ids and days mostly grow together; a row whose day is out of step, a
backdated payment, only moves where the walk starts.) Times have no such few distinct values,
so a range of times is given the day of each time beside it (the outbox events'
`created_day`, the UTC day of `created_at`): `days` bounds that column by the days of the
range's ends, and the walk starts at the first id of those days (a row of the first day
before the range's start is skipped by the walk). The days stay out of the queries that read
the range itself (the probe, a narrow range, the walk, a sort): PostgreSQL takes the two
bounds for independent and, misjudging how few rows they leave, reads both indexes and sorts
(14 ms instead of 6 for a week sorted by the time, bench/lists_money.py).

`by`: a list sorted by a column instead of the id is paged by `paging.page` in the order of
(`by`, key), from that column's index: a range of the column in its own order is read straight
from it, however wide."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from podpiska.core.db.base import MAX_ID
from podpiska.core.db.paging import Page, page

NARROW = 20_000  # rows: a range read and sorted in a few milliseconds


def page_of_range(
    session: Session,
    query: Select[Any],
    *,
    key: InstrumentedAttribute[int],
    where: list[ColumnElement[bool]],
    after: int = 0,
    limit: int = 100,
    descending: bool = False,
    day: InstrumentedAttribute[date] | None = None,
    days: list[ColumnElement[bool]] | None = None,
    by: InstrumentedAttribute[Any] | None = None,
) -> Page[Any]:
    """The page of `query` (a select of one ORM entity, already filtered by the range
    `where` too) after `after`, by `key` (`descending`: newest first, `after` 0 from the
    newest). `day`: the column of a range of days that `where` bounds (a wide range starts
    its walk at the range's first id in the walk's order); `days`: bounds of `day` that
    every row of `where` is within, when `where` bounds a range of times instead (the days
    of its ends; None: `where` itself). `by`: a column sort instead (`paging.page`'s, from
    the index of (`by`, key): a range of that column in its own order is read straight from
    it). Run inside the caller's transaction."""
    after = min(after, MAX_ID)  # a cursor past every id is past the last
    if by is not None:
        return page(session, query, key=key, by=by, after=after, limit=limit, descending=descending)
    if not where:
        return page(session, query, key=key, after=after, limit=limit, descending=descending)
    probe = select(literal(1)).select_from(key.class_).where(*where).limit(NARROW + 1)
    rows = session.scalar(select(func.count()).select_from(probe.subquery())) or 0
    if rows > NARROW:
        if day is not None:  # start the walk at the range's first id in the walk's order
            edge = _edge_id(session, key, day, where if days is None else days, largest=descending)
            if edge is None:
                return Page([], False, None)
            if descending:
                after = min(after, edge + 1) if after else edge + 1
            else:
                after = max(after, edge - 1)
        return page(session, query, key=key, after=after, limit=limit, descending=descending)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # the page's ids from the range's index of (range, id) alone, then their rows
    ids = query.with_only_columns(key)
    if descending:
        ids = (ids.where(key < after) if after else ids).order_by((key + 0).desc())
    else:
        ids = ids.where(key > after).order_by((key + 0).asc())
    within = key.in_(ids.limit(limit + 1).scalar_subquery())
    order = key.desc() if descending else key.asc()
    found = list(session.scalars(select(key.class_).where(within).order_by(order)))
    more = len(found) > limit
    shown = found[:limit]
    return Page(shown, more, int(getattr(shown[-1], key.key)) if shown else None)


def _edge_id(
    session: Session,
    key: InstrumentedAttribute[int],
    day: InstrumentedAttribute[date],
    where: list[ColumnElement[bool]],
    *,
    largest: bool,
) -> int | None:
    """The smallest `key` (`largest`: the largest) of the rows `where` selects (a range of
    `day`; None: no row), or of those rows' whole days: each distinct day of the range found
    from the previous one, and each day's edge key, all from the index of (day, key)."""
    days = select(func.min(day).label("day")).where(*where).cte("days", recursive=True)
    following = select(func.min(day)).where(*where, day > days.c.day).scalar_subquery()
    days = days.union_all(select(following).where(days.c.day.is_not(None)))
    edge = func.max if largest else func.min
    each = select(edge(key)).where(day == days.c.day).scalar_subquery()
    found = session.scalar(select(edge(each)).select_from(days))
    return int(found) if found is not None else None
