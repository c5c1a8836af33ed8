"""Read-only views of accounts for people: the customer's "my subscription", the account's
invoices and payments, and the back office's search over all accounts.

Each function reads in one transaction and returns plain values (dataclasses, detached
rows); the entitlement answers are the same `check` the API and the products use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from podpiska.catalog.domain.catalog import ACTIONS, Text
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.models import Account, Invoice, Payment, Subscription
from podpiska.core.db.session import read_only
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import get_or_404
from podpiska.entitlements.decisions import license_state
from podpiska.entitlements.domain import BILLING_ACTIONS, Decision, check
from podpiska.ports import Clock
from podpiska.subscriptions.domain.lifecycle import Status

STATES = ("none", *(s.value for s in Status))  # "none": never ordered
EDITIONS = ("cloud", "on_premise")
PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class SubscriptionOverview:
    """What an account's administrator sees first: the license and what it allows now."""

    account: Account
    today: date
    state: str  # one of STATES
    subscription: Subscription | None
    plan_code: str | None
    plan_name: Text | None
    add_ons: list[tuple[str, Text]]
    paid_through: date | None  # the last paid day
    grace_until: date | None  # the last day of grace
    days_left: int | None  # of the paid term (active) or of grace (grace)
    active_users: int
    user_limit: int | None  # None: no limit
    disk_used_mb: int
    disk_gb: int | None  # None: no limit
    decisions: list[Decision]  # every product action (billing is always allowed)

    @property
    def restricted(self) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed]


def subscription_overview(
    session: Session, *, account_id: int, clock: Clock
) -> SubscriptionOverview:
    """The account's license as the entitlement check sees it, and the check's answer for
    every action of the catalog, on one reading."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        state = license_state(session, account, clock, marketplace=True)
        subscription = session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account.id)
            .order_by((Subscription.status == Status.CANCELLED.value).asc(), Subscription.id.desc())
            .limit(1)
        ).first()
        decisions = [check(state, action) for action in ACTIONS if action not in BILLING_ACTIONS]
    plan, version = state.plan, state.version
    user_limit = None
    if plan is not None:
        user_limit = (
            plan.user_limit
            if plan.extra_user_price is None
            else max(state.seats, plan.users_included)
        )
    add_ons = []
    if version is not None:
        for code in sorted(state.add_ons):
            add_on = version.add_ons.get(code)
            add_ons.append((code, add_on.name if add_on is not None else Text(code, code)))
    status = state.status.value if state.status is not None else "none"
    days_left = None
    if status == Status.ACTIVE.value and state.paid_through is not None:
        days_left = max(0, (state.paid_through - state.today).days + 1)
    elif status == Status.GRACE.value and state.grace_until is not None:
        days_left = max(0, (state.grace_until - state.today).days + 1)
    return SubscriptionOverview(
        account=account,
        today=state.today,
        state=status,
        subscription=subscription,
        plan_code=subscription.plan if subscription is not None else None,
        plan_name=plan.name if plan is not None else None,
        add_ons=add_ons,
        paid_through=state.paid_through,
        grace_until=state.grace_until if status == Status.GRACE.value else None,
        days_left=days_left,
        active_users=state.active_users,
        user_limit=user_limit,
        disk_used_mb=account.disk_used_mb,
        disk_gb=plan.disk_gb if plan is not None else None,
        decisions=decisions,
    )


def account_invoices(session: Session, *, account_id: int, limit: int = 100) -> list[Invoice]:
    """The account's invoices, newest first (drafts left out)."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account_id, Invoice.number.is_not(None))
                .order_by(Invoice.id.desc())
                .limit(limit)
            )
        )


def invoice_payments(session: Session, *, invoice_id: int) -> list[Payment]:
    """What has gone towards one invoice (payments, the account's credit used), oldest first."""
    with session.begin():
        read_only(session)
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.invoice_id == invoice_id, Payment.status == "succeeded")
                .order_by(Payment.id)
            )
        )


def account_payments(session: Session, *, account_id: int, limit: int = 100) -> list[Payment]:
    """The money received from the account, newest first."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.account_id == account_id)
                .order_by(Payment.id.desc())
                .limit(limit)
            )
        )


# --- the back office's list of accounts -------------------------------------------------


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
