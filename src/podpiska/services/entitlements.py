"""Use-case: "may this account do X now, and if not, why?" for the vendor's products."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.db.models import Account, Subscription
from podpiska.db.session import read_only
from podpiska.domain.entitlements import Decision, LicenseState, check
from podpiska.domain.lifecycle import ONE_DAY, Status
from podpiska.ports import Clock
from podpiska.services.accounts import active_user_count
from podpiska.services.catalog_store import catalog_in_force
from podpiska.services.clocks import today_for
from podpiska.services.common import get_or_404


def license_state(session: Session, account: Account, clock: Clock) -> LicenseState:
    """The account's license as the entitlement check sees it. In a transaction."""
    today = today_for(session, account, clock)
    subscription = session.scalars(
        select(Subscription)
        .where(Subscription.account_id == account.id)
        .order_by((Subscription.status == Status.CANCELLED.value).asc(), Subscription.id.desc())
        .limit(1)
    ).first()
    if subscription is None:
        return LicenseState(today=today, status=None)
    catalog = catalog_in_force(session)
    version = catalog.version(subscription.catalog_version)
    ends_on = subscription.ends_on
    return LicenseState(
        today=today,
        status=Status(subscription.status),
        version=version,
        plan=version.plans.get(subscription.plan),
        add_ons=frozenset(subscription.add_ons or ()),
        seats=subscription.seats,
        active_users=active_user_count(session, account.id),
        disk_used_mb=account.disk_used_mb,
        paid_through=ends_on - ONE_DAY if ends_on else None,
        grace_until=(ends_on + timedelta(days=version.lifecycle.grace_days) - ONE_DAY)
        if ends_on
        else None,
    )


def check_entitlement(session: Session, *, account_id: int, action: str, clock: Clock) -> Decision:
    """The hot path of every product of the vendor: reads only, in autocommit (no BEGIN and
    COMMIT round trips; each read sees the latest committed state)."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        return check(license_state(session, account, clock), action)
