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
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    Closing,
    Document,
    Invoice,
    ServiceCut,
    ServicePeriod,
)
from podpiska.invoicing.rendering_run import verify_rendering
from podpiska.subscriptions import billing, lifecycle
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


def advances(db: Session) -> list[Advance]:
    with db.begin():
        return list(db.scalars(select(Advance).order_by(Advance.id)))


def offsets(db: Session) -> list[AdvanceOffset]:
    with db.begin():
        return list(db.scalars(select(AdvanceOffset).order_by(AdvanceOffset.id)))


def test_a_prepaid_year_gets_an_advance_invoice_offset_month_by_month(
    db: Session, clock: FixedClock
) -> None:
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    run(db, clock, date(2026, 11, 22))  # the night of the payment's day
    (advance,) = advances(db)
    # The whole payment: nothing was rendered before it arrived. VAT at 22/122, by hand.
    assert (advance.number, advance.issued_on) == ("AV-2026-000001", FIRST)
    assert (advance.amount, advance.vat_rate) == (invoice.total, "22/122")
    assert advance.vat == round_money(invoice.total * 22 / 122) == invoice.vat_amount
    with db.begin():
        document = db.scalars(select(Document).where(Document.kind == "advance")).one()
    assert (document.number, document.source_id) == ("AV-2026-000001", advance.id)

    run(db, clock, date(2026, 12, 31))
    made = closings(db)
    settled = offsets(db)
    # Each УПД offsets the advance by its own amount (зачёт аванса).
    assert [(o.source, o.amount) for o in settled] == [(f"upd:{c.id}", c.total) for c in made]
    assert all(o.vat == round_money(o.amount * 22 / 122) for o in settled)
    verified(db)

    run(db, clock, LAST)
    settled = offsets(db)
    # Offset in full by the end of the term, the VAT exactly the advance's.
    assert sum(o.amount for o in settled) == advance.amount
    assert sum(o.vat for o in settled) == advance.vat
    verified(db)


def test_a_credit_note_returns_the_rest_of_the_advance(db: Session, clock: FixedClock) -> None:
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    run(db, clock, date(2027, 1, 31))
    move_to(clock, date(2027, 2, 10))
    note = issue_credit_note(db, invoice_id=invoice.id, reason="ошибка", actor=ACTOR, clock=clock)
    run(db, clock, date(2027, 3, 31))
    (advance,) = advances(db)
    settled = offsets(db)
    by_upd = sum(o.amount for o in settled if o.source.startswith("upd:"))
    returned = [o for o in settled if o.source == f"credit_note:{note.id}"]
    assert by_upd == sum(c.total for c in closings(db))
    assert len(returned) == 1
    assert by_upd + returned[0].amount == advance.amount  # offset or returned, all of it
    assert sum(o.vat for o in settled) == advance.vat
    verified(db)


def test_a_restoration_pays_for_the_overdue_days_first_only_the_rest_is_an_advance(
    db: Session, clock: FixedClock
) -> None:
    account, _subscription = active_subscription(db, clock, months=12)
    end = date(2027, 11, 22)
    run(db, clock, end)  # grace
    run(db, clock, date(2027, 12, 22))  # suspended
    move_to(clock, date(2028, 1, 10))
    renewal = billing.renew_subscription(
        db, account_id=account.id, months=12, actor=ACTOR, clock=clock
    )
    assert renewal.term_starts_on == end  # the overdue period is billed
    pay(db, clock, renewal)
    run(db, clock, date(2028, 1, 10))
    with db.begin():
        overdue = db.scalars(
            select(ServicePeriod).where(
                ServicePeriod.invoice_id == renewal.id,
                ServicePeriod.last_day < date(2028, 1, 10),
            )
        ).all()
        advance = db.scalars(select(Advance).where(Advance.invoice_id == renewal.id)).one()
    # 22–30.11.2027 and December were rendered before the money came: certified at once
    # (dated their last days), and not part of the advance.
    assert sorted({p.last_day for p in overdue}) == [date(2027, 11, 30), date(2027, 12, 31)]
    assert all(p.closing_id is not None for p in overdue)
    rendered_before = sum(p.amount for p in overdue)
    assert advance.amount == renewal.total - rendered_before
    assert advance.issued_on == date(2028, 1, 10)
    assert not [o for o in offsets(db) if o.advance_id == advance.id]  # nothing offset yet
    verified(db)
    run(db, clock, date(2028, 1, 31))
    january = [o for o in offsets(db) if o.advance_id == advance.id]
    assert len(january) == 1 and january[0].day == date(2028, 1, 31)
    verified(db)
