"""The month-end run through the daily run (issue 16, item 1), on SQLite and PostgreSQL:
a paid term is certified month by month, each closing document (УПД) dated the month's
last day, numbered gaplessly per year, the months summing exactly to the invoice; nothing
before its day; a credit note and a change's credit take money back from their day on,
never before; the journal's revenue + deferred revenue agree (`verify_rendering`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.core.domain.money import round_money
from podpiska.invoicing.models import Closing, Document, Invoice, ServiceCut, ServicePeriod
from podpiska.invoicing.rendering_run import verify_rendering
from podpiska.subscriptions import lifecycle
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.helpers import ACTOR, active_subscription, move_to, pay
from tests.subscriptions.test_changes import change

D = Decimal
# A 12-month term paid on 2026-11-22 (the clock's start): 22.11.2026 – 21.11.2027 inclusive.
FIRST, LAST = date(2026, 11, 22), date(2027, 11, 21)


def run(db: Session, clock: FixedClock, day: date) -> None:
    move_to(clock, day, hour=3)  # the nightly run
    lifecycle.run_lifecycle(db, at=day, clock=clock)


def seen(made: list[Closing]) -> list[tuple[str, date, Decimal]]:
    return [(c.number, c.issued_on, c.total) for c in made]


def closings(db: Session) -> list[Closing]:
    with db.begin():
        return list(db.scalars(select(Closing).order_by(Closing.id)))


def order_invoice(db: Session, subscription_id: int) -> Invoice:
    with db.begin():
        return db.scalars(
            select(Invoice).where(
                Invoice.subscription_id == subscription_id, Invoice.kind == "order"
            )
        ).one()


def verified(db: Session) -> None:
    with db.begin():
        check = verify_rendering(db)
    assert check.ok, check.problems


def test_a_paid_year_is_certified_month_by_month_and_sums_to_the_invoice(
    db: Session, clock: FixedClock
) -> None:
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    assert (invoice.term_starts_on, invoice.term_ends_on) == (FIRST, date(2027, 11, 22))

    run(db, clock, date(2026, 11, 29))
    assert closings(db) == []  # nothing rendered before the month's end
    verified(db)

    run(db, clock, date(2026, 11, 30))
    (november,) = closings(db)
    # 9 days of 365 (22–30.11.2026), by hand.
    assert november.number == "UPD-2026-000001"
    assert (november.issued_on, november.first_day) == (date(2026, 11, 30), FIRST)
    assert november.total == round_money(invoice.total * 9 / 365)
    assert november.vat == round_money(invoice.vat_amount * 9 / 365)
    verified(db)

    # Missed days are caught up day by day, like the renewals; the year ends on 21.11.2027.
    run(db, clock, date(2027, 11, 21))
    made = closings(db)
    assert [c.issued_on for c in made] == [
        date(2026, 11, 30),
        date(2026, 12, 31),
        *[date(2027, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31))],
        *[date(2027, m, d) for m, d in ((6, 30), (7, 31), (8, 31), (9, 30), (10, 31))],
        LAST,
    ]
    assert [c.number for c in made[:3]] == [
        "UPD-2026-000001",
        "UPD-2026-000002",
        "UPD-2027-000001",
    ]
    assert made[-1].number == "UPD-2027-000011"  # gapless per year
    assert sum(c.total for c in made) == invoice.total  # the last month takes the remainder
    assert sum(c.vat for c in made) == invoice.vat_amount
    # Months of equal length read equal amounts.
    assert made[1].total == made[2].total == made[4].total  # December, January, March
    with db.begin():
        documents = db.scalars(select(Document.number).where(Document.kind == "upd")).all()
        left = db.scalar(
            select(func.count())
            .select_from(ServicePeriod)
            .where(ServicePeriod.closing_id.is_(None))
        )
    assert sorted(documents) == sorted(c.number for c in made)
    assert left == 0
    verified(db)

    # A day run twice certifies nothing twice.
    lifecycle.run_day(db, day=LAST, today=LAST, clock=clock)
    assert len(closings(db)) == 13


def test_a_credit_note_takes_back_from_its_day_on_never_before(
    db: Session, clock: FixedClock
) -> None:
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    run(db, clock, date(2027, 1, 31))
    before = closings(db)
    assert [c.issued_on for c in before] == [
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 31),
    ]

    move_to(clock, date(2027, 2, 10))
    note = issue_credit_note(db, invoice_id=invoice.id, reason="ошибка", actor=ACTOR, clock=clock)
    run(db, clock, date(2027, 3, 31))
    made = closings(db)
    assert seen(made[:3]) == seen(before)  # documents issued stay as they were
    # February is cut on the 10th: 1–9.02 is rendered (its own document, dated the 9th);
    # nothing after it.
    assert [c.issued_on for c in made[3:]] == [date(2027, 2, 9)]
    with db.begin():
        cut = db.scalars(select(ServiceCut)).one()
    rendered = sum(c.total for c in made)
    assert cut.source == f"credit_note:{note.id}"
    assert (cut.day, cut.amount) == (date(2027, 2, 10), invoice.total)
    # What was rendered before the day cannot be taken back: a corrective document's work.
    assert cut.uncovered == rendered
    # February's share by days (28 of 365), of which its first 9 days, by hand.
    february = round_money(invoice.total * 28 / 365)
    assert made[3].total == round_money(february * 9 / 28)
    verified(db)


def test_an_upgrade_paid_mid_month_renders_from_its_day(db: Session, clock: FixedClock) -> None:

    _account, subscription = active_subscription(db, clock, plan="basic", months=12)
    invoice = order_invoice(db, subscription.id)
    move_to(clock, date(2027, 3, 10))
    committed = change(db, clock, subscription.id, "plan", plan="standard")
    assert committed.invoice is not None

    pay(db, clock, committed.invoice)
    run(db, clock, LAST)
    made = closings(db)
    assert sum(c.total for c in made) == invoice.total + committed.invoice.total
    with db.begin():
        march = db.scalars(
            select(ServicePeriod).where(
                ServicePeriod.invoice_id == committed.invoice.id,
                ServicePeriod.last_day == date(2027, 3, 31),
            )
        ).all()
    assert march and all(p.first_day == date(2027, 3, 10) for p in march)
    verified(db)
