"""The entitlement use-case on SQLite and on PostgreSQL: the license state read from the
database (status, plan, add-ons, users, grace) gives the same answers as the pure check."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.errors import DomainError
from podpiska.entitlements.decisions import check_entitlement
from podpiska.entitlements.domain import Decision
from podpiska.subscriptions import billing, lifecycle
from podpiska.subscriptions.users import add_user
from tests.helpers import (
    ACTOR,
    active_subscription,
    move_to,
    open_account,
    order,
    pay,
)


def may(db: Session, clock: FixedClock, account_id: int, action: str) -> Decision:
    return check_entitlement(db, account_id=account_id, action=action, clock=clock)


def test_answers_follow_the_license_through_its_life(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    assert may(db, clock, account_id, "crm.read").reason == "not_paid"
    invoice = order(db, clock, account_id, months=12).invoice
    assert may(db, clock, account_id, "crm.read").reason == "not_paid"  # pending
    assert may(db, clock, account_id, "billing.pay").allowed is True
    pay(db, clock, invoice)
    deal = may(db, clock, account_id, "crm.create_deal")
    assert (deal.allowed, deal.reason) == (True, "allowed")
    assert deal.details == {"plan": "basic", "paid_through": "2027-11-21"}
    api = may(db, clock, account_id, "rest_api.call")
    assert (api.reason, api.details["add_on"]) == ("marketplace_required", "marketplace")

    lifecycle.run_lifecycle(db, at=date(2027, 11, 22), clock=clock)
    move_to(clock, date(2027, 11, 22))
    grace = may(db, clock, account_id, "crm.create_deal")
    assert (grace.allowed, grace.reason) == (False, "grace_restricted")
    assert grace.message("ru") == (
        "Портал в льготном периоде до 21.12.2027: создание сделок недоступно. Продлите подписку."
    )
    assert may(db, clock, account_id, "crm.read").reason == "grace_allowed"

    lifecycle.run_lifecycle(db, at=date(2027, 12, 22), clock=clock)
    move_to(clock, date(2027, 12, 22))
    assert may(db, clock, account_id, "crm.read").reason == "suspended"
    assert may(db, clock, account_id, "billing.read").allowed is True

    billing.cancel_subscription(db, account_id=account_id, actor=ACTOR, clock=clock)
    assert may(db, clock, account_id, "crm.read").reason == "cancelled"
    order(db, clock, account_id, months=1)  # a new order: the pending one answers
    assert may(db, clock, account_id, "crm.read").reason == "not_paid"


def test_add_ons_and_the_user_limit_come_from_the_database(db: Session, clock: FixedClock) -> None:
    account, _ = active_subscription(db, clock, add_ons=["marketplace"])
    assert may(db, clock, account.id, "rest_api.call").allowed is True
    assert may(db, clock, account.id, "users.add").allowed is True
    for n in range(1, 5):
        add_user(
            db, account_id=account.id, email=f"u{n}@romashka.example", actor=ACTOR, clock=clock
        )
    full = may(db, clock, account.id, "users.add")
    assert (full.allowed, full.reason) == (False, "user_limit")
    assert full.details == {"limit": 5, "active_users": 5, "suggested_plan": "standard"}
    # The use-case that adds users agrees with the answer.
    with pytest.raises(DomainError) as caught:
        add_user(
            db, account_id=account.id, email="sixth@romashka.example", actor=ACTOR, clock=clock
        )
    assert caught.value.details["suggested_plan"] == full.details["suggested_plan"]


def test_unknown_actions_and_accounts_are_errors(db: Session, clock: FixedClock) -> None:
    account_id = open_account(db, clock).id
    with pytest.raises(DomainError) as unknown:
        may(db, clock, account_id, "crm.teleport")
    assert unknown.value.code == "unknown_action"
    with pytest.raises(DomainError) as missing:
        may(db, clock, 999, "crm.read")
    assert missing.value.code == "not_found"
