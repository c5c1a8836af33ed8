"""The portal's Marketplace overview: an on-premise account (outside the cloud-only rule)
is not offered the trial, and its installed apps do not "stop without the subscription"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.catalog import apps as app_registry
from podpiska.entitlements import apps
from podpiska.entitlements.marketplace_views import marketplace_overview
from tests.helpers import ACTOR, active_subscription, open_account, order, pay

REGISTRY = [{"code": "delivery", "name": "Доставка СДЭК", "vendor": "Партнёр", "kind": "regular"}]


def test_an_on_premise_account_is_not_nudged_to_the_marketplace(
    db: Session, clock: FixedClock
) -> None:
    app_registry.load_registry(db, REGISTRY, actor=ACTOR, clock=clock)
    on_premise = open_account(db, clock, edition="on_premise").id
    pay(db, clock, order(db, clock, on_premise, plan="standard").invoice)
    apps.install_app(db, account_id=on_premise, app_code="delivery", actor=ACTOR, clock=clock)
    overview = marketplace_overview(db, account_id=on_premise, clock=clock)
    assert overview.rule_applies is False
    assert overview.can_start_trial is False
    [app] = overview.apps
    assert (app.now.reason, app.without.reason) == ("outside_marketplace_rule",) * 2
    assert overview.stopping == []

    cloud, _ = active_subscription(db, clock, plan="standard")
    offered = marketplace_overview(db, account_id=cloud.id, clock=clock)
    assert offered.rule_applies is True and offered.can_start_trial is True
