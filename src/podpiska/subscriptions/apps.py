"""What the Marketplace add-on is used for: the apps an account installed (installed, removed,
last used) and the add-on's one-time trial. Installing is an entitlement, asked first
(`entitlements.apps.install_app`, which writes through `record_install` here); the app
registry is the catalog's (`catalog.apps`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.apps import get_app
from podpiska.catalog.models import App
from podpiska.catalog.store import catalog_in_force
from podpiska.core.clocks import now_for, today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, emit, get_or_404
from podpiska.ports import Clock
from podpiska.subscriptions.models import AppInstallation, Subscription, Trial


def installations(session: Session, account_id: int) -> list[tuple[AppInstallation, App]]:
    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return [
            (i, a)
            for i, a in session.execute(
                select(AppInstallation, App)
                .join(App, App.id == AppInstallation.app_id)
                .where(AppInstallation.account_id == account_id)
                .order_by(App.code)
            )
        ]


def uninstall_app(
    session: Session, *, account_id: int, app_code: str, actor: str, clock: Clock
) -> AppInstallation:
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        app = get_app(session, app_code)
        found = session.scalar(
            select(AppInstallation)
            .where(AppInstallation.account_id == account_id, AppInstallation.app_id == app.id)
            .with_for_update()
        )
        if found is None:
            raise DomainError("unknown_app", app=app_code)
        if found.status == "installed":
            now = now_for(session, account, clock)
            found.status, found.removed_at = "removed", now
            audit(session, actor=actor, action="app.removed", object_type="app",
                  object_id=app.code, account_id=account_id, at=now)  # fmt: skip
            emit(session, "app.removed", account_id=account_id, subscription_id=None,
                 occurred_on=today_for(session, account, clock), at=now, app=app.code)  # fmt: skip
        return found


def record_usage(
    session: Session, *, account_id: int, app_code: str, clock: Clock
) -> AppInstallation:
    """The product reports that an installed app was used now (for the impact report and
    for the apps that keep working through a transition)."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        app = get_app(session, app_code)
        found = session.scalar(
            select(AppInstallation).where(
                AppInstallation.account_id == account_id,
                AppInstallation.app_id == app.id,
                AppInstallation.status == "installed",
            )
        )
        if found is None:
            raise DomainError("unknown_app", app=app_code)
        found.last_used_at = now_for(session, account, clock)
        return found


def start_trial(session: Session, *, account_id: int, actor: str, clock: Clock) -> Trial:
    """The one-time trial of the catalog's Marketplace offer, for `trial_days` from today."""
    with session.begin():
        account = get_or_404(session, Account, account_id, "account", lock=True)
        subscription = session.scalar(
            select(Subscription).where(
                Subscription.account_id == account_id,
                Subscription.status.in_((Status.ACTIVE.value, Status.GRACE.value)),
            )
        )
        if subscription is None:
            raise DomainError("no_subscription", account_id=account_id)
        version = catalog_in_force(session).version(subscription.catalog_version)
        rule = version.marketplace
        if rule is None or not rule.trial_days:
            raise DomainError("no_trial", add_on=rule.offer if rule else "marketplace")
        if any("apps" in version.add_ons[c].features for c in subscription.add_ons
               if c in version.add_ons):  # fmt: skip
            raise DomainError("trial_not_needed", add_on=rule.offer)
        earlier = session.scalar(
            select(Trial).where(Trial.account_id == account_id, Trial.add_on == rule.offer)
        )
        if earlier is not None:
            raise DomainError(
                "trial_used", add_on=rule.offer, starts_on=earlier.starts_on,
                ends_on=earlier.ends_on - timedelta(days=1),
            )  # fmt: skip
        today = today_for(session, account, clock)
        now = now_for(session, account, clock)
        trial = Trial(
            account_id=account_id,
            add_on=rule.offer,
            starts_on=today,
            ends_on=today + timedelta(days=rule.trial_days),
            created_at=now,
            actor=actor,
        )
        session.add(trial)
        session.flush()
        audit(session, actor=actor, action="trial.started", object_type="trial",
              object_id=trial.id, account_id=account_id, at=now,
              after={"add_on": rule.offer, "ends_on": trial.ends_on.isoformat()})  # fmt: skip
        emit(session, "trial.started", account_id=account_id, subscription_id=subscription.id,
             occurred_on=today, at=now, add_on=rule.offer,
             last_day=trial.ends_on - timedelta(days=1))  # fmt: skip
        return trial


def record_install(
    session: Session, account: Account, app: App, *, actor: str, clock: Clock
) -> AppInstallation:
    """The app installed on the account (again, if it was removed; as it is, if installed),
    in the caller's transaction, after `entitlements.apps.install_app` allowed it."""
    account_id = account.id
    now = now_for(session, account, clock)
    found = session.scalar(
        select(AppInstallation)
        .where(AppInstallation.account_id == account_id, AppInstallation.app_id == app.id)
        .with_for_update()
    )
    if found is not None and found.status == "installed":
        return found
    if found is None:
        found = AppInstallation(
            account_id=account_id, app_id=app.id, status="installed", installed_at=now
        )
        session.add(found)
    else:
        found.status, found.installed_at, found.removed_at = "installed", now, None
    session.flush()
    audit(session, actor=actor, action="app.installed", object_type="app",
          object_id=app.code, account_id=account_id, at=now)  # fmt: skip
    emit(session, "app.installed", account_id=account_id, subscription_id=None,
         occurred_on=today_for(session, account, clock), at=now, app=app.code)  # fmt: skip
    return found
