"""The back office's search over all accounts: by name, ИНН or e-mail, subscription state,
tariff, edition and paid-through date, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from podpiska.accounts.models import Account
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.session import read_only
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.domain.text import Text
from podpiska.entitlements.overview import STATES
from podpiska.subscriptions.models import Subscription

EDITIONS = ("cloud", "on_premise")
PER_PAGE = 25

__all__ = [
    "EDITIONS",
    "PER_PAGE",
    "STATES",
    "AccountFilter",
    "AccountPage",
    "AccountRow",
    "search_accounts",
]


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """What the vendor looks for: text in the name, INN or e-mail, and exact filters."""

    query: str = ""
    state: str | None = None  # one of STATES
    plan: str | None = None
    edition: str | None = None
    due_before: date | None = None  # the term ends (renewal due) on or before this day


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    name: str
    inn: str | None
    admin_email: str
    edition: str
    state: str
    plan: str | None
    plan_name: Text | None
    paid_through: date | None
    autopay: bool


@dataclass(frozen=True, slots=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    page: int
    per_page: int
    plans: list[tuple[str, Text]] = field(default_factory=list)  # for the filter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like_any(column: QueryableAttribute[Any], text: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive "contains" on both databases: PostgreSQL's ILIKE folds every
    alphabet; SQLite's LIKE folds ASCII only, so the usual spellings of a Cyrillic word
    are tried (as typed, lower, upper, capitalised)."""
    if dialect == "postgresql":
        return column.icontains(text, autoescape=True)
    variants = {text, text.lower(), text.upper(), text.capitalize(), text.title()}
    return or_(*(column.contains(v, autoescape=True) for v in sorted(variants)))


def _filtered(query: Select[Any], wanted: AccountFilter, dialect: str) -> Select[Any]:
    text = wanted.query.strip()
    if text:
        query = query.where(
            or_(
                _like_any(Account.name, text, dialect),
                _like_any(Account.admin_email, text, dialect),
                Account.inn.contains(text, autoescape=True),
            )
        )
    if wanted.state == "none":
        query = query.where(Subscription.id.is_(None))
    elif wanted.state:
        query = query.where(Subscription.status == wanted.state)
    if wanted.plan:
        query = query.where(Subscription.plan == wanted.plan)
    if wanted.edition:
        query = query.where(Account.edition == wanted.edition)
    if wanted.due_before is not None:
        query = query.where(Subscription.ends_on <= wanted.due_before)
    return query


def search_accounts(
    session: Session, *, wanted: AccountFilter, page: int = 1, per_page: int = PER_PAGE
) -> AccountPage:
    """One page of the accounts that match, by id. Each account with its latest
    subscription (the live one, else the last cancelled): one set-based query for the
    page and one for the count, on the (account_id, id) index of subscriptions."""
    page = max(1, page)
    per_page = max(1, min(per_page, 200))
    latest = (
        select(Subscription.account_id, func.max(Subscription.id).label("id"))
        .group_by(Subscription.account_id)
        .subquery("latest")
    )
    with session.begin():
        read_only(session)
        dialect = session.get_bind().dialect.name
        catalog = catalog_in_force(session)
        joined = (
            select(Account.id)
            .select_from(Account)
            .outerjoin(latest, latest.c.account_id == Account.id)
            .outerjoin(Subscription, and_(Subscription.id == latest.c.id))
        )
        matching = _filtered(joined, wanted, dialect)
        total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        rows = session.execute(
            matching.add_columns(
                Account.name,
                Account.inn,
                Account.admin_email,
                Account.edition,
                Subscription.status,
                Subscription.plan,
                Subscription.ends_on,
                Subscription.autopay,
                Subscription.catalog_version,
            )
            .order_by(Account.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
    names: dict[str, Text] = {}
    for version in catalog.versions:
        names.update({code: plan.name for code, plan in version.plans.items()})
    return AccountPage(
        rows=[
            AccountRow(
                id=r[0],
                name=r[1],
                inn=r[2],
                admin_email=r[3],
                edition=r[4],
                state=r[5] or "none",
                plan=r[6],
                plan_name=names.get(r[6]) if r[6] else None,
                paid_through=r[7] - ONE_DAY if r[7] else None,
                autopay=bool(r[8]),
            )
            for r in rows
        ],
        total=total,
        page=page,
        per_page=per_page,
        plans=list(names.items()),
    )
