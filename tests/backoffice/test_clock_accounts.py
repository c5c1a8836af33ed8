"""Opening a test account on a test clock (the back office's form) on SQLite and PostgreSQL:
the same use-cases as the API's scenario (open, order, pay) at the clock's time, in one
transaction: a refusal at any step leaves every table as it was."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account, AccountUser
from podpiska.adapters.clock import FixedClock
from podpiska.backoffice import clock_accounts
from podpiska.backoffice import views as back_office
from podpiska.core import clocks
from podpiska.core.domain.errors import DomainError, Kind
from podpiska.core.models import OutboxEvent
from podpiska.invoicing.models import Invoice, InvoiceLine, Payment
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription
from podpiska.tables import metadata
from tests.helpers import ACTOR, GOOD_INN, PROJECT, START

SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"
# The clock lives 100 days ahead of the real (fixed) clock: its day is 2027-03-02.
CLOCK_START = START + timedelta(days=100)


def table_counts(db: Session) -> dict[str, int]:
    """Rows of every table: "nothing written" compares them all."""
    with db.begin():
        return {
            table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def new_clock(db: Session, clock: FixedClock) -> int:
    made = clocks.create_test_clock(db, name="Форма", now=CLOCK_START, actor=ACTOR, clock=clock)
    return made.id


def open_one(db: Session, clock_id: int, **kw: object) -> clock_accounts.TestAccount:
    values: dict[str, object] = {
        "name": "Тестовый портал 1",
        "admin_email": "t1@clock.example",
        "plan": "basic",
        "months": 1,
        "paid": True,
    }
    values.update(kw)
    return clock_accounts.open_test_account(db, clock_id=clock_id, actor=ACTOR, **values)  # type: ignore[arg-type]


def test_the_offer_is_the_catalog_in_force_on_the_clocks_day(
    db: Session, clock: FixedClock
) -> None:
    clock_id = new_clock(db, clock)
    offer = clock_accounts.offer(db, clock_id=clock_id)
    assert offer.day == date(2027, 3, 2)
    assert [p.code for p in offer.plans] == ["basic", "standard", "professional", "enterprise"]
    assert [p.months for p in offer.periods] == [1, 3, 6, 12, 24]
    assert offer.periods[3].discount_percent == D(10)
    assert offer.plans[0].monthly_price == D("1990") and offer.plans[0].user_limit == 5
    assert not offer.sells_extra_users  # crm-shop sells no extra users
    assert offer.number == 1 and offer.suggested_email == f"test1.clock{clock_id}@podpiska.example"
    open_one(db, clock_id)
    assert clock_accounts.offer(db, clock_id=clock_id).number == 2

    # site-platform's 2027.1 prices are in force from 2027-03-01: on the clock's day, not
    # on the real clock's (2026-11-22).
    load_catalog_document(db, path=SITE_PLATFORM, actor=ACTOR, clock=clock)
    offer = clock_accounts.offer(db, clock_id=clock_id)
    assert offer.sells_extra_users
    start = offer.plans[0]
    assert (start.code, start.monthly_price, start.extra_user_price) == ("start", D(1690), D(420))
    assert (start.users_included, start.user_limit) == (3, 10)

    with pytest.raises(DomainError) as caught:
        clock_accounts.offer(db, clock_id=999_999)
    assert caught.value.kind == Kind.NOT_FOUND


def test_a_paid_test_account_is_active_on_the_clocks_day(db: Session, clock: FixedClock) -> None:
    clock_id = new_clock(db, clock)
    made = open_one(db, clock_id, inn=GOOD_INN)
    assert made.paid
    assert made.account.test_clock_id == clock_id and made.account.inn == GOOD_INN
    assert made.account.created_at == CLOCK_START  # at the clock's time
    sub = made.subscription
    assert (sub.status, sub.plan, sub.months, sub.seats) == ("active", "basic", 1, 5)
    assert (sub.starts_on, sub.ends_on) == (date(2027, 3, 2), date(2027, 4, 2))
    assert made.invoice.status == "paid" and made.invoice.amount_paid == made.invoice.total
    assert (made.invoice.number or "").startswith("TEST-2027-")
    with db.begin():
        lines = db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == made.invoice.id))
        assert sum((line.amount for line in lines), D(0)) == made.invoice.total
        payment = db.scalars(select(Payment).where(Payment.invoice_id == made.invoice.id)).one()
        assert (payment.method, payment.amount) == ("manual", made.invoice.total)
        assert payment.received_on == date(2027, 3, 2)
        users = db.scalars(select(AccountUser).where(AccountUser.account_id == made.account.id))
        assert [u.email for u in users] == ["t1@clock.example"]

    # The clock moves: reminder, grace, suspension.
    lifecycle.advance_test_clock(db, clock_id=clock_id, days=31, actor=ACTOR, clock=clock)
    seen = back_office.test_clock_activity(db, clock_id=clock_id)
    assert [(a.id, a.state) for a in seen.accounts] == [(made.account.id, "grace")]
    assert {"subscription.reminder", "subscription.grace_started"} <= {e.type for e in seen.events}
    lifecycle.advance_test_clock(db, clock_id=clock_id, days=30, actor=ACTOR, clock=clock)
    seen = back_office.test_clock_activity(db, clock_id=clock_id)
    assert [a.state for a in seen.accounts] == ["suspended"]


def test_an_issued_test_account_waits_for_payment(db: Session, clock: FixedClock) -> None:
    clock_id = new_clock(db, clock)
    made = open_one(db, clock_id, plan="standard", months=12, paid=False)
    assert not made.paid
    assert made.subscription.status == "pending"
    assert made.invoice.status == "issued" and made.invoice.amount_paid == 0
    assert made.invoice.total == D("43092.00")  # 12 × 3 990 − 10 %
    assert made.invoice.issued_on == date(2027, 3, 2)
    with db.begin():
        assert db.scalar(select(func.count()).select_from(Payment)) == 0


def test_extra_users_where_the_tariff_sells_them(db: Session, clock: FixedClock) -> None:
    load_catalog_document(db, path=SITE_PLATFORM, actor=ACTOR, clock=clock)
    clock_id = new_clock(db, clock)
    made = open_one(db, clock_id, plan="start", months=1, users=5)
    assert made.subscription.seats == 5
    assert made.invoice.total == D(1690) + 2 * D(420)  # two users above the three free
    before = table_counts(db)
    with pytest.raises(DomainError) as caught:
        open_one(db, clock_id, name="Много", admin_email="t2@clock.example", plan="start", users=11)
    assert caught.value.code == "too_many_users"
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "   "}, "invalid_field"),
        ({"admin_email": "not-an-email"}, "invalid_field"),
        ({"inn": "1234567890"}, "invalid_field"),
        # Refused after the account was written in the joined transaction: rolled back.
        ({"plan": "nope"}, "unknown_plan"),
        ({"months": 5}, "period_not_offered"),
        ({"months": 0}, "invalid_months"),
        ({"users": 6}, "too_many_users"),
        ({"users": 0}, "invalid_users"),
    ],
)
def test_a_refusal_at_any_step_writes_nothing(
    db: Session, clock: FixedClock, change: dict[str, object], code: str
) -> None:
    clock_id = new_clock(db, clock)
    before = table_counts(db)
    with pytest.raises(DomainError) as caught:
        open_one(db, clock_id, **change)
    assert caught.value.code == code
    assert caught.value.kind == Kind.INVALID
    assert table_counts(db) == before
    # The session is usable afterwards, and a good request goes through.
    made = open_one(db, clock_id)
    assert made.subscription.status == "active"
    with db.begin():
        assert db.scalar(select(func.count()).select_from(Account)) == before["accounts"] + 1
        for model in (Subscription, Invoice, OutboxEvent):
            assert (db.scalar(select(func.count()).select_from(model)) or 0) > 0
        # No gap in the test clock's invoice numbers after the refusal.
        numbers = db.scalars(select(Invoice.number).where(Invoice.account_id == made.account.id))
        assert list(numbers) == ["TEST-2027-000001"]


def test_an_unknown_clock_is_not_found_and_nothing_is_written(
    db: Session, clock: FixedClock
) -> None:
    before = table_counts(db)
    with pytest.raises(DomainError) as caught:
        open_one(db, 999_999)
    assert caught.value.kind == Kind.NOT_FOUND
    assert table_counts(db) == before
