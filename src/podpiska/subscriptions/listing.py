"""The API's lists of accounts and of subscriptions: a page at a time by id
(`core.db.paging`), filtered by what integrators search by, scoped by the caller.

Accounts live below subscriptions in the house, so the accounts' list, filtered by their
subscription's state and plan, is here. An account's state is its live subscription's (at
most one: the partial unique index of account_id makes it one probe per account), else
"cancelled" if it has only cancelled ones, else "none" (never ordered: `first_ordered_at`
is empty, read through a partial index); its plan filter is
the live subscription's. The list's items show the latest subscription's state and plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.paging import Page, page, scoped
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.metadata import Metadata
from podpiska.core.domain.scope import Scope
from podpiska.core.domain.states import Status
from podpiska.core.metadata import metadata_filter, metadata_of
from podpiska.subscriptions.models import Subscription

ACCOUNT_STATES = ("none", *(s.value for s in Status))
SUBSCRIPTION_STATES = tuple(s.value for s in Status)
EDITIONS = ("cloud", "on_premise")

__all__ = [
    "ACCOUNT_STATES",
    "EDITIONS",
    "SUBSCRIPTION_STATES",
    "AccountFilter",
    "AccountItem",
    "SubscriptionFilter",
    "list_accounts",
    "list_subscriptions",
    "one_of",
]


def one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """`value` if it is one of `allowed` (None: no filter), else 422 `invalid_field`."""
    if value is None or value in allowed:
        return value
    listed = ", ".join(allowed)
    raise DomainError(
        "invalid_field",
        field=field,
        problem_ru=f"одно из: {listed}",
        problem_en=f"one of: {listed}",
    )


@dataclass(frozen=True, slots=True)
class AccountFilter:
    name: str | None = None  # case-insensitive prefix of the name
    inn: str | None = None
    email: str | None = None  # the administrator's e-mail, exact, case-insensitive
    state: str | None = None  # one of ACCOUNT_STATES
    plan: str | None = None  # the live subscription's
    edition: str | None = None  # one of EDITIONS
    test_clock: int | None = None
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    metadata: Mapping[str, str] = field(default_factory=dict)  # every key with its value


@dataclass(frozen=True, slots=True)
class AccountItem:
    account: Account
    state: str
    plan: str | None
    subscription_id: int | None
    metadata: Metadata


def _name_prefix(text: str, dialect: str) -> ColumnElement[bool]:
    """A case-insensitive prefix of the name. PostgreSQL: `lower(name) LIKE 'abc%'` on the
    index of lower(name) in the "C" collation's pattern order (`text_pattern_ops`), so a
    prefix is a range scan at any size. SQLite's lower() folds ASCII only: the usual
    spellings of a Cyrillic word are tried (as typed, lower, upper, capitalised)."""
    if dialect == "postgresql":
        return func.lower(Account.name).startswith(text.lower(), autoescape=True)
    variants = {text, text.lower(), text.upper(), text.capitalize(), text.title()}
    return or_(*(Account.name.startswith(v, autoescape=True) for v in sorted(variants)))


def _aware(moment: datetime) -> datetime:
    """A moment without its offset (`2026-11-21`, `2026-11-21T10:00`) is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _accounts_query(wanted: AccountFilter, dialect: str) -> Select[Any]:
    query = select(Account)
    if wanted.name:
        query = query.where(_name_prefix(wanted.name, dialect))
    if wanted.inn is not None:
        query = query.where(Account.inn == wanted.inn)
    if wanted.email is not None:
        query = query.where(func.lower(Account.admin_email) == wanted.email.lower())
    if wanted.edition is not None:
        query = query.where(Account.edition == wanted.edition)
    if wanted.test_clock is not None:
        query = query.where(Account.test_clock_id == wanted.test_clock)
    if wanted.created_from is not None:
        query = query.where(Account.created_at >= _aware(wanted.created_from))
    if wanted.created_to is not None:
        query = query.where(Account.created_at < _aware(wanted.created_to))
    if wanted.state == "none":  # the partial index of the accounts never ordered
        query = query.where(Account.first_ordered_at.is_(None))
    elif wanted.state == Status.CANCELLED.value:
        query = query.where(
            Account.first_ordered_at.is_not(None),
            ~exists().where(
                Subscription.account_id == Account.id,
                Subscription.status != Status.CANCELLED.value,
            ),
        )
    elif wanted.state is not None:  # the live subscription's (one per account)
        query = query.where(
            exists().where(
                Subscription.account_id == Account.id, Subscription.status == wanted.state
            )
        )
    if wanted.plan is not None:  # the live subscription's
        query = query.where(
            exists().where(
                Subscription.account_id == Account.id,
                Subscription.status != Status.CANCELLED.value,
                Subscription.plan == wanted.plan,
            )
        )
    return query.where(*metadata_filter(Account.id, "account", wanted.metadata))


def list_accounts(
    session: Session,
    *,
    scope: Scope,
    wanted: AccountFilter,
    after: int = 0,
    limit: int = 100,
    descending: bool = False,
) -> Page[AccountItem]:
    """A page of the accounts the caller may see that match `wanted`, by id, each with its
    latest subscription's state and plan (one more query for the page's accounts)."""
    one_of("state", wanted.state, ACCOUNT_STATES)
    one_of("edition", wanted.edition, EDITIONS)
    with session.begin():
        read_only(session)
        dialect = session.get_bind().dialect.name
        query = scoped(_accounts_query(wanted, dialect), Account.id, scope)
        found = page(
            session, query, key=Account.id, after=after, limit=limit, descending=descending
        )
        ids = [a.id for a in found.rows]
        latest: dict[int, Subscription] = {}
        if ids:
            newest = (
                select(func.max(Subscription.id))
                .where(Subscription.account_id.in_(ids))
                .group_by(Subscription.account_id)
            )
            for sub in session.scalars(select(Subscription).where(Subscription.id.in_(newest))):
                latest[sub.account_id] = sub
        metadata = metadata_of(session, "account", ids)
    return found.map(
        lambda a: AccountItem(
            a,
            latest[a.id].status if a.id in latest else "none",
            latest[a.id].plan if a.id in latest else None,
            latest[a.id].id if a.id in latest else None,
            metadata.get(a.id, {}),
        )
    )


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    account_id: int | None = None
    state: str | None = None  # one of SUBSCRIPTION_STATES
    plan: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


def list_subscriptions(
    session: Session,
    *,
    scope: Scope,
    wanted: SubscriptionFilter,
    after: int = 0,
    limit: int = 100,
    descending: bool = False,
) -> tuple[Page[Subscription], dict[int, Metadata]]:
    """A page of the subscriptions the caller may see that match `wanted`, by id, and
    their metadata."""
    one_of("state", wanted.state, SUBSCRIPTION_STATES)
    query = select(Subscription)
    if wanted.account_id is not None:
        query = query.where(Subscription.account_id == wanted.account_id)
    if wanted.state is not None:
        query = query.where(Subscription.status == wanted.state)
    if wanted.plan is not None:
        query = query.where(Subscription.plan == wanted.plan)
    query = query.where(*metadata_filter(Subscription.id, "subscription", wanted.metadata))
    query = scoped(query, Subscription.account_id, scope)
    with session.begin():
        read_only(session)
        found = page(
            session, query, key=Subscription.id, after=after, limit=limit, descending=descending
        )
        return found, metadata_of(session, "subscription", [s.id for s in found.rows])
