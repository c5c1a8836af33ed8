"""Read-only view of the Marketplace for an account's portal: the subscription and its
price for the account's tariff, the first-time discount when the account is eligible, the
one-time trial, and the installed apps with what each would do without the subscription.

Every answer is the entitlement rule's own (`domain.entitlements.check`): "would stop" is
the check of `apps.use` on the same license with no add-on granting apps, no trial and the
rule in force.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.domain.catalog import AddOn
from podpiska.catalog.models import App
from podpiska.core.db.session import read_only
from podpiska.core.domain.money import HUNDRED, round_money
from podpiska.core.records import get_or_404
from podpiska.entitlements.decisions import license_state
from podpiska.entitlements.domain import AppAccess, Decision, LicenseState, check
from podpiska.ports import Clock
from podpiska.subscriptions.models import AppInstallation, Trial


@dataclass(frozen=True, slots=True)
class InstalledApp:
    code: str
    name: str
    vendor: str
    kind: str
    installed_at: datetime
    last_used_at: datetime | None
    now: Decision  # apps.use today
    without: Decision  # apps.use without the subscription

    @property
    def would_stop(self) -> bool:
        return self.now.allowed and not self.without.allowed


@dataclass(frozen=True, slots=True)
class MarketplaceOverview:
    account: Account
    today: date
    state: LicenseState
    offer: AddOn | None  # the catalog's Marketplace offer (None: no rule in the catalog)
    monthly_price: Decimal | None  # for the account's tariff
    first_time_percent: Decimal | None
    first_time_price: Decimal | None  # the monthly price with the first-time discount
    holds: str | None  # the add-on granting apps the account holds (marketplace, market_plus)
    trial_days: int
    trial_available: bool
    trial: Trial | None  # the account's trial of the offer, if it ever started one
    rule_applies: bool  # the account's edition is under the rule
    rule_from: date | None
    apps: list[InstalledApp]

    @property
    def trial_active(self) -> bool:
        return self.trial is not None and self.trial.starts_on <= self.today < self.trial.ends_on

    @property
    def trial_last_day(self) -> date | None:
        return self.trial.ends_on - timedelta(days=1) if self.trial else None

    @property
    def stopping(self) -> list[InstalledApp]:
        return [a for a in self.apps if a.would_stop]

    @property
    def can_start_trial(self) -> bool:
        return (
            self.rule_applies  # an edition outside the rule is never nudged to buy it
            and self.trial_available
            and self.holds is None
            and self.state.status is not None
            and self.state.status.value in ("active", "grace")
        )


def marketplace_overview(session: Session, *, account_id: int, clock: Clock) -> MarketplaceOverview:
    with session.begin():
        read_only(session)
        account = get_or_404(session, Account, account_id, "account")
        state = license_state(session, account, clock, marketplace=True)
        version, plan = state.version, state.plan
        rule = version.marketplace if version is not None else None
        offer = version.add_ons.get(rule.offer) if version is not None and rule else None
        granting = (
            {c for c, a in version.add_ons.items() if "apps" in a.features} if version else set()
        )
        holds = next(iter(sorted(state.add_ons & granting)), None)
        trial = None
        if rule is not None:
            trial = session.scalars(
                select(Trial).where(Trial.account_id == account.id, Trial.add_on == rule.offer)
            ).first()
        rows = session.execute(
            select(AppInstallation, App)
            .join(App, App.id == AppInstallation.app_id)
            .where(AppInstallation.account_id == account.id, AppInstallation.status == "installed")
            .order_by(App.name, App.code)
        ).all()
        without = replace(
            state,
            add_ons=state.add_ons - granting,
            trial_add_ons=frozenset(),
            rule_from=None,
            transition_until=None,
        )
        apps = []
        for installation, app in rows:
            access = AppAccess(
                code=app.code,
                name=app.name,
                kind=app.kind,
                free_on_plans=frozenset(app.free_on_plans or ()),
                installed_on=installation.installed_at.date(),
            )
            apps.append(
                InstalledApp(
                    code=app.code,
                    name=app.name,
                    vendor=app.vendor,
                    kind=app.kind,
                    installed_at=installation.installed_at,
                    last_used_at=installation.last_used_at,
                    now=check(state, "apps.use", access),
                    without=check(without, "apps.use", access)
                    if state.plan is not None
                    else check(state, "apps.use", access),
                )
            )
    price = offer.prices.get(plan.code) if offer is not None and plan is not None else None
    percent = state.first_time_percent if holds is None else None
    first_price = (
        round_money(price * (HUNDRED - percent) / HUNDRED)
        if price is not None and percent
        else None
    )
    return MarketplaceOverview(
        account=account,
        today=state.today,
        state=state,
        offer=offer,
        monthly_price=price,
        first_time_percent=percent if first_price is not None else None,
        first_time_price=first_price,
        holds=holds,
        trial_days=rule.trial_days if rule else 0,
        trial_available=state.trial_available,
        trial=trial,
        rule_applies=rule is not None and account.edition in rule.editions,
        rule_from=state.rule_from,
        apps=apps,
    )
