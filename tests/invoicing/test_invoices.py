"""The one invoice writer and the one due-date rule, through the database on SQLite and
PostgreSQL: orders, renewals in bulk and changes are numbered gaplessly per series, their
lines sum to their totals, each is posted to the journal, audited and announced once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.adapters.clock import FixedClock
from podpiska.catalog.domain.pricing import QuoteRequest, quote
from podpiska.catalog.store import catalog_in_force
from podpiska.core.domain.terms import Term
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.invoicing.invoices import PAYMENT_DAYS, NewInvoice, due_date, write_invoices
from podpiska.invoicing.models import Invoice, JournalEntry
from tests.helpers import ACTOR, assert_lines_sum_to_total, open_account, order

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1))
offsets = st.none() | st.integers(min_value=-40, max_value=40)


@given(days, offsets, offsets)
def test_one_due_date_rule(issued: date, starts: int | None, deadline: int | None) -> None:
    term_starts_on = None if starts is None else issued + timedelta(days=starts)
    until = None if deadline is None else issued + timedelta(days=deadline)
    due = due_date(issued, term_starts_on=term_starts_on, deadline=until)
    assert issued <= due <= issued + timedelta(days=PAYMENT_DAYS)
    if term_starts_on is not None and term_starts_on > issued:
        assert due <= term_starts_on
    if until is not None and until >= issued:
        assert due <= until
    if (term_starts_on is None or term_starts_on >= issued + timedelta(days=PAYMENT_DAYS)) and (
        until is None or until >= issued + timedelta(days=PAYMENT_DAYS)
    ):
        assert due == issued + timedelta(days=PAYMENT_DAYS)


def test_the_writer_numbers_posts_audits_and_announces_each_invoice(
    db: Session, clock: FixedClock
) -> None:
    real = open_account(db, clock)
    test_clock_account = open_account(db, clock)
    first_id = order(db, clock, real.id).invoice.id  # an order through the use-case
    today = date(2026, 11, 22)
    now = datetime(2026, 11, 22, 9, tzinfo=clock.now().tzinfo)
    with db.begin():
        first = db.get(Invoice, first_id)
        assert first is not None and first.subscription_id is not None
        subscription_id = first.subscription_id
        catalog = catalog_in_force(db)
        q = quote(catalog, QuoteRequest("standard", 12, 50, ("marketplace",)), today)
        term = Term(date(2026, 11, 25), date(2027, 11, 25))
        news = [
            NewInvoice.of_quote(
                q, account_id=account.id, subscription_id=subscription_id, test=test,
                kind="renewal", term=term, notes={"autopay": True},
            )
            for account, test in [(real, False), (test_clock_account, True), (real, False)]
        ]  # fmt: skip
        before = db.scalar(select(func.count()).select_from(OutboxEvent))
        ids = write_invoices(db, news, today=today, now=now, actor=ACTOR)
    with db.begin():
        written = [db.get(Invoice, i) for i in ids]
        numbers = [w.number for w in written if w is not None]
        assert numbers == ["2026-000002", "TEST-2026-000001", "2026-000003"]
        for invoice in written:
            assert invoice is not None
            assert invoice.total == q.total > Decimal(0)
            assert invoice.due_on == date(2026, 11, 25)  # the term starts before 5 days pass
            posted = db.scalars(
                select(JournalEntry.amount).where(JournalEntry.document == f"invoice:{invoice.id}")
            ).all()
            assert sorted(posted) == [-invoice.total, invoice.total]
            assert (
                db.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "invoice.issued")
                    .where(AuditEntry.object_id == str(invoice.id))
                )
                == 1
            )
        announced = db.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "invoice.issued").order_by(OutboxEvent.id)
        ).all()
        assert len(announced) - 1 == 3 and before is not None
        assert [e.payload["number"] for e in announced[1:]] == numbers
        assert all(e.payload["autopay"] is True for e in announced[1:])
        assert announced[1].payload["due_on"] == "2026-11-25"
    for invoice in written:
        assert invoice is not None
        assert_lines_sum_to_total(db, invoice)
