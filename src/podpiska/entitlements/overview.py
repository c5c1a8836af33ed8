"""What an account's administrator sees first: its license as the entitlement check sees
it, and the check's answer for every action of the catalog, on one reading (the portal's
home and the back office's account page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import ACTIONS
from podpiska.core.db.session import read_only
from podpiska.core.domain.states import Status
from podpiska.core.domain.text import Text
from podpiska.core.records import get_or_404
from podpiska.entitlements.decisions import license_state
from podpiska.entitlements.domain import BILLING_ACTIONS, Decision, check
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

STATES = ("none", *(s.value for s in Status))  # "none": never ordered


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
