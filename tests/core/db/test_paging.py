"""The pager: every row once, in order, whatever the limit and the direction; `has_more`
and `next_after` tell the truth; a filter composes with the cursor; sorted by a column with
ties and NULLs (`by`), every row once in the order of (column, id), NULLs last ascending."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import ordered, page

N = 23


@pytest.fixture
def accounts(db: Session) -> list[int]:
    with db.begin():
        db.execute(
            insert(Account),
            [
                {
                    "name": f"Клиент {i}",
                    "edition": "cloud" if i % 3 else "on_premise",
                    "admin_email": f"c{i}@example.ru",
                    "inn": None if i % 4 == 0 else f"77{i % 5:08d}",  # ties and NULLs
                    "timezone": "Europe/Moscow",
                    "language": "ru",
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
                for i in range(N)
            ],
        )
    with db.begin():
        return list(db.scalars(select(Account.id).order_by(Account.id)))


def _walk(db: Session, limit: int, *, descending: bool, edition: str | None = None) -> list[int]:
    seen: list[int] = []
    after = 0
    query = select(Account)
    if edition is not None:
        query = query.where(Account.edition == edition)
    for _ in range(N + 2):
        with db.begin():
            got = page(db, query, key=Account.id, after=after, limit=limit, descending=descending)
        seen += [a.id for a in got.rows]
        if not got.has_more:
            assert len(got.rows) <= limit
            return seen
        assert len(got.rows) == limit and got.next_after == got.rows[-1].id
        after = got.next_after or 0
    raise AssertionError("the pages never ended")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(1, N + 3), descending=st.booleans())
def test_every_row_once_in_order(
    db: Session, accounts: list[int], limit: int, descending: bool
) -> None:
    seen = _walk(db, limit, descending=descending)
    assert seen == (sorted(accounts, reverse=True) if descending else accounts)


def test_a_filter_composes_with_the_cursor(db: Session, accounts: list[int]) -> None:
    with db.begin():
        cloud = list(db.scalars(select(Account.id).where(Account.edition == "cloud")))
    assert _walk(db, 4, descending=False, edition="cloud") == sorted(cloud)


def test_an_empty_page_has_no_cursor(db: Session, accounts: list[int]) -> None:
    with db.begin():
        got = page(db, select(Account), key=Account.id, after=max(accounts), limit=5)
    assert (list(got.rows), got.has_more, got.next_after) == ([], False, None)


def test_columns_page_like_entities(db: Session, accounts: list[int]) -> None:
    with db.begin():
        got = page(db, select(Account.id, Account.name), key=Account.id, limit=3)
    assert [r.id for r in got.rows] == accounts[:3] and got.next_after == accounts[2]
    assert got.has_more


@pytest.mark.parametrize("column", ["inn", "edition"])
@pytest.mark.parametrize("limit", [1, 3, 7])
def test_sorted_by_a_column_every_row_once_in_order(
    db: Session, accounts: list[int], column: str, limit: int
) -> None:
    by = getattr(Account, column)
    with db.begin():
        rows = [(a.id, getattr(a, column)) for a in db.scalars(select(Account))]
    present = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0]))
    expected = [r[0] for r in present] + sorted(r[0] for r in rows if r[1] is None)
    for descending in (False, True):
        seen: list[int] = []
        after = 0
        for _ in range(N + 2):
            with db.begin():
                got = page(
                    db,
                    select(Account),
                    key=Account.id,
                    after=after,
                    limit=limit,
                    descending=descending,
                    by=by,
                )
            seen += [a.id for a in got.rows]
            if not got.has_more:
                break
            after = got.next_after or 0
        assert seen == (expected[::-1] if descending else expected), descending
        with db.begin():
            whole = list(
                db.scalars(
                    ordered(select(Account.id), key=Account.id, by=by, descending=descending)
                )
            )
        assert whole == seen
