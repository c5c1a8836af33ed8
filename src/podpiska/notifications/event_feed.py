"""The outbox events as one feed (issue 17): how a webhook consumer catches up after its
downtime, or an integrator reads what happened. Oldest first by id after the last id seen,
filtered by type (exact, or a whole area with `area.*`), account and the time each was
written; scoped by the caller (an account's key reads its own account's events only).

Indexes: (account_id, id) and (type, id) (migration 0021); a prefix filter reads the id
order and skips what does not match, which is cheap while matches are not rare
(bench/lists_money.py). A time range (`since`/`until`) is read through
`core.db.range_paging`: a narrow one from the index of (created_at, id), sorted by id; a wide
one walks the id order from the smallest id of its UTC days, found in the index of
(created_day, id) (migration 0025: `created_day` is the UTC day of `created_at`, bounded by
the days of the range's ends for that search only). `sort=created_at` pages by the time of
writing instead, from the index of (created_at, id): a time range in its own order is read
from that index, however wide."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import Page, scoped, sort_of
from podpiska.core.db.range_paging import page_of_range
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.models import OutboxEvent, utc_day
from podpiska.core.records import get_or_404

# What `list_events` sorts by besides `id`: the time each was written (it never changes).
SORTS: dict[str, Any] = {"created_at": OutboxEvent.created_at}

# `invoice.issued`, or `invoice.*`: every event of an area.
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")


def check_type(value: str) -> str:
    """A type filter, or `invalid_field`."""
    if len(value) > 100 or not _TYPE.match(value):
        raise DomainError(
            "invalid_field",
            field="type",
            problem_ru="тип события (invoice.issued) или область (invoice.*)",
            problem_en="an event type (invoice.issued) or an area (invoice.*)",
        )
    return value


def list_events(
    session: Session,
    *,
    scope: Scope,
    account_id: int | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 100,
    account_must_exist: bool = False,
    sort: str = "id",
) -> Page[OutboxEvent]:
    """Events oldest first (by id) after `after`, or in the order of `sort` (`id`,
    `created_at`, `-` before it: descending; else `invalid_field`); `since` (inclusive) and
    `until` (exclusive) bound the time each was written. `account_must_exist`: an unknown
    `account_id` is `not_found` (the account's own feed), else an empty page."""
    by, descending = sort_of(sort, SORTS)
    query = scoped(select(OutboxEvent), OutboxEvent.account_id, scope)
    if account_id is not None:
        query = query.where(OutboxEvent.account_id == account_id)
    if type is not None:
        check_type(type)
        if type.endswith(".*"):
            query = query.where(OutboxEvent.type.startswith(type[:-1], autoescape=True))
        else:
            query = query.where(OutboxEvent.type == type)
    # the exact bounds, and the UTC days they fall on (every event of the range is within
    # them), where a wide range finds its first id: the index of (created_day, id)
    times: list[ColumnElement[bool]] = []
    days: list[ColumnElement[bool]] = []
    if since is not None:
        times.append(OutboxEvent.created_at >= _utc(since))
        days.append(OutboxEvent.created_day >= utc_day(_utc(since)))
    if until is not None:
        times.append(OutboxEvent.created_at < _utc(until))
        days.append(OutboxEvent.created_day <= utc_day(_utc(until)))
    query = query.where(*times)
    with session.begin():
        if account_must_exist and account_id is not None:
            get_or_404(session, Account, account_id, "account")
        return page_of_range(
            session,
            query,
            key=OutboxEvent.id,
            where=times,
            day=OutboxEvent.created_day,
            days=days,
            by=by,  # the (created_at, id) index: a time range is read from it
            after=after,
            limit=limit,
            descending=descending,
        )


def _utc(moment: datetime) -> datetime:
    """A time without its zone is UTC's."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
