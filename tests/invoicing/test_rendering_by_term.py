"""The catalog's `rendering: term` through the daily run, on SQLite and PostgreSQL: a term
product's paid term is one service period, rendered on the term's last day by one УПД;
its advance stays open until then; a mixed invoice renders each line by its product; a
credit note reduces a term period not certified yet and corrects (УКД) one certified.

The catalog is the shipped crm-shop one with `rendering: term` written on a product and
loaded again (the latest document is the one in force; its version names are the same)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    Correction,
    Invoice,
    ServiceCut,
    ServicePeriod,
    ServicePlan,
)
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.helpers import ACTOR, CRM_SHOP, active_subscription, move_to
from tests.invoicing.test_rendering_run import closings, order_invoice, run, verified

D = Decimal
# A 12-month term paid on 22.11.2026 (the clock's start, a mid-month day): 22.11.2026 –
# 21.11.2027 inclusive, 365 days.
FIRST, LAST = date(2026, 11, 22), date(2027, 11, 21)


def by_term(db: Session, clock: FixedClock, tmp_path: Path, *products: str) -> None:
    """Load the crm-shop catalog again with `rendering: term` on `products`."""
    text = CRM_SHOP.read_text(encoding="utf-8")
    anchors = {
        "basic": "        max_users: 5\n",
        "marketplace": "        features: [apps, rest_api, webhooks, local_apps]\n",
    }
    for product in products:
        anchor = anchors[product]
        assert text.count(anchor) == 1
        text = text.replace(anchor, anchor + "        rendering: term\n")
    path = tmp_path / "crm-shop-term.yaml"
    path.write_text(text, encoding="utf-8")
    load_catalog_document(db, path=path, actor=ACTOR, clock=clock)


def periods(db: Session, invoice_id: int) -> list[tuple[int, date, date, Decimal, Decimal]]:
    with db.begin():
        rows = db.scalars(
            select(ServicePeriod)
            .where(ServicePeriod.invoice_id == invoice_id)
            .order_by(ServicePeriod.position, ServicePeriod.first_day)
        ).all()
        return [(p.position, p.first_day, p.last_day, p.amount, p.vat) for p in rows]


def plan_by(db: Session, invoice_id: int) -> str:
    with db.begin():
        plan = db.get(ServicePlan, invoice_id)
        assert plan is not None
        return plan.by


def advances(db: Session) -> list[Advance]:
    with db.begin():
        return list(db.scalars(select(Advance).order_by(Advance.id)))


def offsets(db: Session) -> list[AdvanceOffset]:
    with db.begin():
        return list(db.scalars(select(AdvanceOffset).order_by(AdvanceOffset.id)))


def test_a_term_product_is_one_period_certified_on_the_terms_last_day(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Basic, 12 months, by term, paid on 22.11.2026, by hand:

    - the invoice: 1 990,00 × 12 = 23 880,00 − 10 % (the 12-month discount) = 21 492,00,
      VAT 22/122 of it = 3 875,606… → 3 875,61;
    - one period, 22.11.2026 – 21.11.2027 (the whole term), 21 492,00 / VAT 3 875,61;
    - the night of 22.11.2026: the advance AV-2026-000001 of 21 492,00, VAT at 22/122 =
      3 875,61: nothing is rendered before the term's last day, so all of it is an advance;
    - no УПД at any month's end (30.11.2026 … 31.10.2027);
    - the night of 21.11.2027: one УПД, UPD-2027-000001, dated 21.11.2027, 21 492,00 /
      VAT 3 875,61, offsetting the whole advance (21 492,00, VAT 3 875,61)."""
    by_term(db, clock, tmp_path, "basic")
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    assert (invoice.total, invoice.vat_amount) == (D("21492.00"), D("3875.61"))

    run(db, clock, FIRST)
    assert plan_by(db, invoice.id) == "term"
    assert periods(db, invoice.id) == [(1, FIRST, LAST, D("21492.00"), D("3875.61"))]
    (advance,) = advances(db)
    assert (advance.number, advance.issued_on) == ("AV-2026-000001", FIRST)
    assert (advance.amount, advance.vat, advance.vat_rate) == (
        D("21492.00"),
        D("3875.61"),
        "22/122",
    )
    verified(db)

    run(db, clock, date(2027, 10, 31))
    assert closings(db) == []  # no month-end certifies any of it
    assert offsets(db) == []
    verified(db)

    run(db, clock, LAST)
    (upd,) = closings(db)
    assert (upd.number, upd.issued_on, upd.first_day, upd.last_day) == (
        "UPD-2027-000001",
        LAST,
        FIRST,
        LAST,
    )
    assert (upd.total, upd.vat) == (D("21492.00"), D("3875.61"))
    (offset,) = offsets(db)
    assert (offset.closing_id, offset.amount, offset.vat) == (upd.id, D("21492.00"), D("3875.61"))
    verified(db)


def test_a_mixed_invoice_renders_each_line_by_its_product(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """Basic by month with the Marketplace add-on by term, 12 months from 22.11.2026:

    - lines: Basic 21 492,00 (1 990 × 12 − 10 %), Marketplace 5 292,00 (490 × 12 − 10 %);
      total 26 784,00, VAT 22/122 = 4 829,901… → 4 829,90;
    - the VAT in proportion to the lines: Marketplace 4 829,90 × 5 292 / 26 784 = 954,29…
      → 954,29 (rounded; the remainder, 3 875,61, is Basic's);
    - Basic month by month: November 9 days of 365 = 21 492 × 9 / 365 = 529,94…
      → 529,94, … the last month takes the remainder; Marketplace one period
      22.11.2026 – 21.11.2027 of 5 292,00 / VAT 954,29;
    - the УПД of 30.11.2026 certifies Basic's November alone (529,94); the one of
      21.11.2027 certifies Basic's last 21 days and all of Marketplace; every УПД sums to
      26 784,00 / 4 829,90."""
    by_term(db, clock, tmp_path, "marketplace")
    _account, subscription = active_subscription(db, clock, months=12, add_ons=["marketplace"])
    invoice = order_invoice(db, subscription.id)
    assert (invoice.total, invoice.vat_amount) == (D("26784.00"), D("4829.90"))

    run(db, clock, date(2026, 11, 30))
    assert plan_by(db, invoice.id) == "mixed"
    planned = periods(db, invoice.id)
    basic = [p for p in planned if p[0] == 1]
    marketplace = [p for p in planned if p[0] == 2]
    assert marketplace == [(2, FIRST, LAST, D("5292.00"), D("954.29"))]
    assert len(basic) == 13
    assert basic[0][1:4] == (FIRST, date(2026, 11, 30), D("529.94"))
    assert sum(p[3] for p in basic) == D("21492.00")
    assert sum(p[4] for p in basic) == D("3875.61")
    (november,) = closings(db)
    assert (november.issued_on, november.total) == (date(2026, 11, 30), D("529.94"))
    verified(db)

    run(db, clock, LAST)
    made = closings(db)
    assert len(made) == 13
    assert made[-1].issued_on == LAST
    assert made[-1].total == basic[-1][3] + D("5292.00")
    assert sum(c.total for c in made) == invoice.total
    assert sum(c.vat for c in made) == invoice.vat_amount
    (advance,) = advances(db)
    settled = offsets(db)
    assert sum(o.amount for o in settled) == advance.amount == invoice.total
    assert sum(o.vat for o in settled) == advance.vat
    verified(db)


def test_a_credit_note_reduces_a_term_period_not_certified_yet(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """A note on 10.02.2027 of the by-term Basic year: nothing is certified, so it takes
    the whole 21 492,00 back from the one period (none left, no УКД), and returns the
    advance (21 492,00, VAT 3 875,61)."""
    by_term(db, clock, tmp_path, "basic")
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    run(db, clock, date(2027, 1, 31))
    move_to(clock, date(2027, 2, 10))
    note = issue_credit_note(db, invoice_id=invoice.id, reason="ошибка", actor=ACTOR, clock=clock)
    run(db, clock, date(2027, 2, 28))
    assert closings(db) == []
    assert periods(db, invoice.id) == []
    with db.begin():
        cut = db.scalars(select(ServiceCut)).one()
        fixes = db.scalars(select(Correction)).all()
    assert (cut.source, cut.amount, cut.uncovered) == (
        f"credit_note:{note.id}",
        D("21492.00"),
        D("0.00"),
    )
    assert fixes == []
    (returned,) = offsets(db)
    assert (returned.source, returned.amount, returned.vat) == (
        f"credit_note:{note.id}",
        D("21492.00"),
        D("3875.61"),
    )
    verified(db)


def test_a_credit_note_after_the_term_is_certified_is_a_correction(
    db: Session, clock: FixedClock, tmp_path: Path
) -> None:
    """The by-term Basic year certified by UPD-2027-000001 on 21.11.2027; a note on
    25.11.2027 finds nothing to take back and corrects that УПД whole: one УКД,
    UKD-2027-000001, of 21 492,00 / VAT 3 875,61, dated 25.11.2027."""
    by_term(db, clock, tmp_path, "basic")
    _account, subscription = active_subscription(db, clock, months=12)
    invoice = order_invoice(db, subscription.id)
    run(db, clock, LAST)
    (upd,) = closings(db)
    move_to(clock, date(2027, 11, 25))
    issue_credit_note(db, invoice_id=invoice.id, reason="ошибка", actor=ACTOR, clock=clock)
    run(db, clock, date(2027, 11, 25))
    with db.begin():
        (fix,) = db.scalars(select(Correction)).all()
    assert (fix.number, fix.closing_id, fix.issued_on) == (
        "UKD-2027-000001",
        upd.id,
        date(2027, 11, 25),
    )
    assert (fix.decrease, fix.vat_decrease) == (D("21492.00"), D("3875.61"))
    verified(db)


def test_invoices_stay_by_month_without_the_catalogs_choice(db: Session, clock: FixedClock) -> None:
    _account, subscription = active_subscription(db, clock, months=12)
    invoice: Invoice = order_invoice(db, subscription.id)
    run(db, clock, FIRST)
    assert plan_by(db, invoice.id) == "month"
    assert len(periods(db, invoice.id)) == 13
