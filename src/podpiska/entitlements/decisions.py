"""Use-case: "may this account do X now, and if not, why?" for the vendor's products."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.accounts import active_user_count
from podpiska.accounts.models import Account
from podpiska.catalog.apps import get_app
from podpiska.catalog.domain.catalog import CatalogVersion
from podpiska.catalog.domain.moves import marketplace_schedule
from podpiska.catalog.models import App
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for
from podpiska.core.db.session import read_only
from podpiska.core.domain.states import Status
from podpiska.core.domain.terms import ONE_DAY
from podpiska.core.records import get_or_404
from podpiska.entitlements.domain import (
    MARKETPLACE_ACTIONS,
    AppAccess,
    Decision,
    LicenseState,
    check,
)
from podpiska.ports import Clock
from podpiska.subscriptions.models import AppInstallation, Subscription, Trial


def license_state(
    session: Session,
    account: Account,
    clock: Clock,
    *,
    marketplace: bool = False,
    now: datetime | None = None,
) -> LicenseState:
    """The account's license as the entitlement check sees it. In a transaction. With
    `marketplace`, also what the marketplace rule needs (trials, the first-time offer).
    `now`: the account's own moment (`core.clocks.now_for`), if the caller has read it."""
    if now is None:
        now = now_for(session, account, clock)
    today = now.astimezone(ZoneInfo(account.timezone)).date()
    subscription = session.scalars(
        select(Subscription)
        .where(Subscription.account_id == account.id)
        .order_by((Subscription.status == Status.CANCELLED.value).asc(), Subscription.id.desc())
        .limit(1)
    ).first()
    if subscription is None:
        return LicenseState(today=today, status=None, edition=account.edition)
    catalog = catalog_in_force(session)
    version = catalog.version(subscription.catalog_version)
    ends_on = subscription.ends_on
    rule_from = transition_until = None
    if version.marketplace is not None and catalog.migrations:
        from podpiska.subscriptions.moves_sql import account_facts

        facts = account_facts(account, subscription.plan, catalog.timezone)
        schedule = marketplace_schedule(catalog.migrations, facts)
        rule_from, transition_until = schedule.rule_from, schedule.transition_until
    trial_add_ons: frozenset[str] = frozenset()
    trial_available = False
    first_time: Decimal | None = None
    if marketplace and version.marketplace is not None:
        trials = list(session.scalars(select(Trial).where(Trial.account_id == account.id)))
        trial_add_ons = frozenset(t.add_on for t in trials if t.starts_on <= today < t.ends_on)
        trial_available = bool(version.marketplace.trial_days) and not any(
            t.add_on == version.marketplace.offer for t in trials
        )
        first_time = _first_time_percent(session, account.id, version, today)
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
        edition=account.edition,
        trial_add_ons=trial_add_ons,
        trial_available=trial_available,
        first_time_percent=first_time,
        rule_from=rule_from,
        transition_until=transition_until,
    )


def _first_time_percent(
    session: Session, account_id: int, version: CatalogVersion, today: date
) -> Decimal | None:
    """The best promotion of the Marketplace offer this account could still use today."""
    from podpiska.subscriptions.billing import purchase_history

    assert version.marketplace is not None
    offer = version.marketplace.offer
    bought, used = purchase_history(session, account_id)
    best: Decimal | None = None
    for promotion in version.promotions.values():
        if (
            promotion.applies_to(offer)
            and promotion.active_on(today)
            and not (promotion.never_bought & (bought | {offer}))
            and not (promotion.once_per_account and promotion.code in used)
            and (best is None or promotion.percent > best)
        ):
            best = promotion.percent
    return best


def app_access(session: Session, account_id: int, app: App) -> AppAccess:
    installed = session.scalar(
        select(AppInstallation.installed_at).where(
            AppInstallation.account_id == account_id,
            AppInstallation.app_id == app.id,
            AppInstallation.status == "installed",
        )
    )
    return AppAccess(
        code=app.code,
        name=app.name,
        kind=app.kind,
        free_on_plans=frozenset(app.free_on_plans or ()),
        installed_on=installed.date() if installed is not None else None,
    )


def decide(
    session: Session, account: Account, action: str, clock: Clock, *, app: App | None = None
) -> Decision:
    """The check inside the caller's transaction."""
    state = license_state(session, account, clock, marketplace=action in MARKETPLACE_ACTIONS)
    access = app_access(session, account.id, app) if app is not None else None
    return check(state, action, access)


def check_entitlement(
    session: Session,
    *,
    account_id: int,
    action: str,
    clock: Clock,
    app_code: str | None = None,
) -> Decision:
    """The hot path of every product of the vendor: reads only, in autocommit (no BEGIN and
    COMMIT round trips; each read sees the latest committed state)."""
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        app = get_app(session, app_code) if app_code else None
        return decide(session, account, action, clock, app=app)


def check_many(
    session: Session,
    *,
    account_id: int,
    checks: list[tuple[str, str | None]],
    clock: Clock,
) -> list[Decision]:
    """Many actions (each with an optional app) for one account, on one reading of its
    license: the answers agree with each other."""
    from podpiska.entitlements.domain import check as check_one

    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        needs_marketplace = any(action in MARKETPLACE_ACTIONS for action, _ in checks)
        state = license_state(session, account, clock, marketplace=needs_marketplace)
        answers = []
        for action, app_code in checks:
            access = (
                app_access(session, account_id, get_app(session, app_code)) if app_code else None
            )
            answers.append(check_one(state, action, access))
        return answers
