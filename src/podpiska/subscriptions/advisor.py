"""Use-case: the tariff advisor on the catalog in force (the rule: `catalog.domain.advisor`), with
the account's own figures as the starting point when asked from its portal: its users and
disk, the add-ons it holds (priced into every option, as its renewal invoice would price
them) and its paid term (the budget starts the day after the paid-through date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.accounts import active_user_count
from podpiska.accounts.models import Account
from podpiska.catalog.domain.advisor import Advice, Need, advise
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import today_for
from podpiska.core.db.session import read_only
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import get_or_404
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

# The states in which an account holds its add-ons (paid once; a renewal keeps them).
HOLDING = frozenset({Status.ACTIVE.value, Status.GRACE.value, Status.SUSPENDED.value})


@dataclass(frozen=True, slots=True)
class Usage:
    """What the account uses today: the advisor's defaults."""

    users: int
    disk_gb: int  # rounded up


@dataclass(frozen=True, slots=True)
class AccountAdvice:
    """The advice for an account: the budget from the day it next pays, its add-ons in."""

    advice: Advice
    paid_through: date | None  # the last paid day of its live term (None: none paid ahead)
    add_ons: tuple[str, ...]  # the add-ons it holds


def account_usage(session: Session, *, account_id: int) -> Usage:
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        users = active_user_count(session, account.id)
        return Usage(users=users, disk_gb=-(-account.disk_used_mb // 1024))


def advise_account(session: Session, *, account_id: int, need: Need, clock: Clock) -> AccountAdvice:
    """The advice for `need` asked from an account's portal, on the account's day (its
    test clock's): every option and payment with the add-ons it holds; when its live
    subscription is paid ahead, the 12-month budget starts the day after the paid-through
    date (ends_on; no payment falls before it), on the term's anchor day; else today."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        catalog = catalog_in_force(session)
        today = today_for(session, account, clock)
        subscription = session.scalars(
            select(Subscription).where(
                Subscription.account_id == account.id,
                Subscription.status != Status.CANCELLED.value,
            )
        ).first()
        add_ons: tuple[str, ...] = ()
        start, anchor, paid_through = today, None, None
        if subscription is not None:
            if subscription.status in HOLDING:
                add_ons = tuple(subscription.add_ons or ())
            ends_on = subscription.ends_on
            if subscription.status == Status.ACTIVE.value and ends_on and ends_on > today:
                start, anchor, paid_through = ends_on, subscription.anchor_day, ends_on - ONE_DAY
    advice = advise(catalog, need, today, budget_from=start, anchor_day=anchor, add_ons=add_ons)
    return AccountAdvice(advice=advice, paid_through=paid_through, add_ons=add_ons)
