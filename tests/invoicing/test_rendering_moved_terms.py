"""A change that moves the term's end without money, through the daily run, on SQLite and
PostgreSQL: seats added under `shorten_term` (the term ends earlier) and a dearer plan
under `convert_to_days` (the new plan for a full period from day t, the old term's value as
extra days at its end) re-split, from the change's day on, what the term's invoices have
not certified yet over the new dates: no period after the new end, the periods from the day
sum exactly to what was not rendered at it, certified periods untouched, once per change,
and `ledger verify` holds (`verify_rendering`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.money import ZERO
from podpiska.invoicing.models import Closing, Invoice, ServiceCut, ServicePeriod
from podpiska.invoicing.rendering_run import verify_rendering
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription
from tests.helpers import active_subscription, move_to, pay
from tests.subscriptions.test_changes import SITE_PLATFORM, change

D = Decimal
DAY = date(2027, 5, 6)  # the change's day t


@pytest.fixture
def site(session_factory: sessionmaker[Session], clock: FixedClock) -> Iterator[Session]:
    """site-platform as shipped: seats shorten the term, upgrades convert to days."""
    with session_factory() as session:
        load_catalog_document(session, path=SITE_PLATFORM, actor="test:setup", clock=clock)
        yield session


def run(db: Session, clock: FixedClock, day: date) -> None:
    move_to(clock, day, hour=3)  # the nightly run
    lifecycle.run_lifecycle(db, at=day, clock=clock)


def periods(db: Session, invoice_id: int) -> list[ServicePeriod]:
    with db.begin():
        return list(
            db.scalars(
                select(ServicePeriod)
                .where(ServicePeriod.invoice_id == invoice_id)
                .order_by(ServicePeriod.first_day, ServicePeriod.id)
            )
        )


def ordered_year(db: Session, clock: FixedClock) -> tuple[Subscription, Invoice]:
    """Business, 12 months, 10 users, 35 598,00 ₽ paid 22.11.2026 (no VAT: site-platform is
    exempt), run through 30.04.2027: November – April certified, 15 604,60 ₽."""
    _, subscription = active_subscription(db, clock, plan="business", months=12, users=10)
    with db.begin():
        invoice = db.scalars(
            select(Invoice).where(
                Invoice.subscription_id == subscription.id, Invoice.kind == "order"
            )
        ).one()
    assert invoice.total == D("35598.00")
    run(db, clock, date(2027, 4, 30))
    certified = periods(db, invoice.id)
    assert sum(p.amount for p in certified if p.closing_id is not None) == D("15604.60")
    return subscription, invoice


def left_at(db: Session, invoice_id: int, day: date) -> Decimal:
    """The invoice's money not rendered before `day`: its total less the periods before."""
    return sum((p.amount for p in periods(db, invoice_id) if p.first_day >= day), ZERO)


def verified(db: Session) -> None:
    with db.begin():
        check = verify_rendering(db)
    assert check.ok, check.problems


def test_seats_under_shorten_term_re_split_the_rest_up_to_the_new_end(
    site: Session, clock: FixedClock
) -> None:
    """By hand: on 06.05.2027 20 users end the term on 09.08.2027 (paid through 08.08,
    docs/changes.md). Not rendered at t: 35 598,00 − 15 604,60 (22.11 – 30.04) − 487,64
    (01.05 – 05.05: May's 3 023,39 × 5/31) = 19 505,76 ₽, over the 95 days 06.05 – 08.08:
    May (26 days) 19 505,76 × 26/95 = 5 338,42; June (30) 6 159,71; July (31) 6 365,04;
    August (8) the rest, 1 642,59. Before the fix the money stayed on 06.05.2027 –
    21.11.2027: УПД certifying August – November after the term's end."""
    db = site
    subscription, invoice = ordered_year(db, clock)
    before = periods(db, invoice.id)
    move_to(clock, DAY)
    done = change(db, clock, subscription.id, "seats", seats=20)
    assert done.invoice is None  # no money: applied at once
    with db.begin():
        ends_on = db.get(Subscription, subscription.id, populate_existing=True).ends_on  # type: ignore[union-attr]
    assert ends_on == date(2027, 8, 9)

    run(db, clock, date(2027, 11, 30))
    after = periods(db, invoice.id)
    # Certified periods never change.
    certified = [p for p in before if p.closing_id is not None]
    assert [(p.id, p.amount, p.closing_id) for p in after[: len(certified)]] == [
        (p.id, p.amount, p.closing_id) for p in certified
    ]
    assert [(p.first_day, p.last_day, p.amount) for p in after[len(certified) :]] == [
        (date(2027, 5, 1), date(2027, 5, 5), D("487.64")),
        (DAY, date(2027, 5, 31), D("5338.42")),
        (date(2027, 6, 1), date(2027, 6, 30), D("6159.71")),
        (date(2027, 7, 1), date(2027, 7, 31), D("6365.04")),
        (date(2027, 8, 1), date(2027, 8, 8), D("1642.59")),
    ]
    assert max(p.last_day for p in after) == ends_on - timedelta(days=1)
    assert left_at(db, invoice.id, DAY) == D("19505.76")
    assert sum(p.amount for p in after) == invoice.total
    assert all(p.closing_id is not None for p in after)  # all certified by 30.11.2027
    with db.begin():
        closings = db.scalars(select(Closing).where(Closing.last_day > date(2027, 8, 8))).all()
        marks = db.scalars(select(ServiceCut.source)).all()
    assert closings == []  # no УПД after the term's end
    assert marks == [f"change:{done.change.id}"]
    verified(db)

    # A run twice re-splits once.
    lifecycle.run_day(db, day=date(2027, 11, 30), today=date(2027, 11, 30), clock=clock)
    assert [(p.id, p.amount) for p in periods(db, invoice.id)] == [(p.id, p.amount) for p in after]
    verified(db)


def test_a_plan_converted_to_days_renders_the_old_rest_over_the_new_term(
    site: Session, clock: FixedClock
) -> None:
    """By hand: on 06.05.2027 Corporate for 12 months from t, the old term's value as extra
    days: the new term is 06.05.2027 – (06.05.2028 + the extra days). The old invoice's
    money not rendered at t is 19 505,76 ₽ as above (35 598,00 − 15 604,60 − 487,64); it is
    spread over the new term t .. new end by days, like the change's own invoice (planned
    over its term [t, new end)); before the fix it stayed on 06.05 – 21.11.2027, the old
    plan's dates."""
    db = site
    subscription, invoice = ordered_year(db, clock)
    move_to(clock, DAY)
    done = change(db, clock, subscription.id, "plan", plan="corporate")
    assert done.invoice is not None
    pay(db, clock, done.invoice)
    with db.begin():
        ends_on = db.get(Subscription, subscription.id, populate_existing=True).ends_on  # type: ignore[union-attr]
    assert ends_on is not None and ends_on > date(2028, 5, 6)
    assert done.invoice.term_ends_on == ends_on

    run(db, clock, ends_on)
    after = periods(db, invoice.id)
    rest = [p for p in after if p.first_day >= DAY]
    assert rest[0].first_day == DAY and rest[-1].last_day == ends_on - timedelta(days=1)
    assert sum(p.amount for p in rest) == D("19505.76")
    assert sum(p.amount for p in after) == invoice.total
    own = periods(db, done.invoice.id)
    assert (own[0].first_day, own[-1].last_day) == (DAY, ends_on - timedelta(days=1))
    assert sum(p.amount for p in own) == done.invoice.total
    verified(db)


def test_a_change_paid_after_a_month_end_re_splits_from_the_first_day_not_certified(
    site: Session, clock: FixedClock
) -> None:
    """Corporate converted on 30.05.2027, paid on 01.06.2027 after the run certified May
    (30 and 31 May under the old dates: a УПД is never edited): the old invoice's rest from
    01.06.2027 goes over 01.06.2027 .. the new end."""
    db = site
    subscription, invoice = ordered_year(db, clock)
    day = date(2027, 5, 30)
    move_to(clock, day)
    done = change(db, clock, subscription.id, "plan", plan="corporate")
    assert done.invoice is not None
    run(db, clock, date(2027, 5, 31))  # May certified, the change not paid yet
    may = [p for p in periods(db, invoice.id) if p.closing_id is not None]
    assert may[-1].last_day == date(2027, 5, 31)
    move_to(clock, date(2027, 6, 1))
    pay(db, clock, done.invoice)
    with db.begin():
        ends_on = db.get(Subscription, subscription.id, populate_existing=True).ends_on  # type: ignore[union-attr]
    assert ends_on is not None

    run(db, clock, date(2027, 6, 30))
    after = periods(db, invoice.id)
    assert [(p.id, p.amount) for p in after[: len(may)]] == [(p.id, p.amount) for p in may]
    rest = after[len(may) :]
    assert rest[0].first_day == date(2027, 6, 1)
    assert rest[-1].last_day == ends_on - timedelta(days=1)
    assert sum(p.amount for p in rest) == invoice.total - sum(p.amount for p in may)
    verified(db)
