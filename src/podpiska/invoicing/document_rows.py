"""Creating the document rows, set-wise: an invoice document for every invoice that went
out, a credit note document for every credit note (dated in the account's timezone), and
the acts of invoices paid in full once their period has been rendered on the account's
clock, numbered gaplessly per series and year under the sequence row's lock — only for the
invoices the month-end run does not certify month by month (`closed_by_act`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, exists, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Insert

from podpiska.accounts.models import Account
from podpiska.core.db.types import UTCDateTime
from podpiska.core.models import TestClock
from podpiska.invoicing.documents import (
    ACT,
    ACT_FORM,
    ACT_INVOICE_KINDS,
    ACT_SERIES,
    BATCH,
    CREDIT_NOTE,
    INVOICE,
    INVOICE_FACTURA,
    INVOICE_STATUSES,
    TEST_ACT_SERIES,
    act_number,
    local_day,
)
from podpiska.invoicing.models import Closing, CreditNote, Document, Invoice, ServicePlan
from podpiska.invoicing.numbers import take_numbers
from podpiska.ports import Clock


def _insert_ignoring_duplicates(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Document).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(Document).on_conflict_do_nothing()
    raise NotImplementedError(f"documents support SQLite and PostgreSQL, not {dialect}")


def _has_document(kind: str, source: Any) -> Any:
    return exists().where(Document.kind == kind, Document.source_id == source)


def _create_invoice_documents(session: Session, now: datetime, batch: int, only: int | None) -> int:
    """One `INSERT ... SELECT`: the invoices that went out and have no document yet."""
    source = (
        select(
            literal(INVOICE, String()),
            Invoice.id,
            Invoice.number,
            Invoice.account_id,
            Invoice.issued_on,
            literal(now, UTCDateTime()),
        )
        .where(
            Invoice.number.is_not(None),
            Invoice.issued_on.is_not(None),
            Invoice.status.in_(INVOICE_STATUSES),
            ~_has_document(INVOICE, Invoice.id),
        )
        .order_by(Invoice.id)
        .limit(batch)
    )
    if only is not None:
        source = source.where(Invoice.id == only)
    columns = ["kind", "source_id", "number", "account_id", "issued_on", "created_at"]
    inserted = _insert_ignoring_duplicates(session).from_select(columns, source)
    return len(session.execute(inserted.returning(Document.id)).all())


def _create_invoice_factura_documents(
    session: Session, now: datetime, batch: int, only: int | None
) -> int:
    """The счета-фактуры of the closings printed as acts that charge VAT
    (`has_invoice_factura`) and have none yet: the month-end run makes them with their
    closing; this catches those made before (and a download that comes first). Each keeps
    its closing's number and date."""
    source = (
        select(
            literal(INVOICE_FACTURA, String()),
            Closing.id,
            Closing.number,
            Closing.account_id,
            Closing.issued_on,
            literal(now, UTCDateTime()),
        )
        .where(
            Closing.form == ACT_FORM,
            Closing.vat > Decimal("0.00"),
            ~_has_document(INVOICE_FACTURA, Closing.id),
        )
        .order_by(Closing.id)
        .limit(batch)
    )
    if only is not None:
        source = source.where(Closing.id == only)
    columns = ["kind", "source_id", "number", "account_id", "issued_on", "created_at"]
    inserted = _insert_ignoring_duplicates(session).from_select(columns, source)
    return len(session.execute(inserted.returning(Document.id)).all())


def _create_credit_note_documents(
    session: Session, now: datetime, batch: int, only: int | None
) -> int:
    """The credit notes without a document, dated in their account's timezone."""
    query = (
        select(
            CreditNote.id,
            CreditNote.number,
            CreditNote.account_id,
            CreditNote.created_at,
            Account.timezone,
        )
        .join(Account, Account.id == CreditNote.account_id)
        .where(~_has_document(CREDIT_NOTE, CreditNote.id))
        .order_by(CreditNote.id)
        .limit(batch)
    )
    if only is not None:
        query = query.where(CreditNote.id == only)
    rows = [
        {
            "kind": CREDIT_NOTE,
            "source_id": note_id,
            "number": number,
            "account_id": account_id,
            "issued_on": local_day(created_at, timezone, now),
            "created_at": now,
        }
        for note_id, number, account_id, created_at, timezone in session.execute(query)
    ]
    if rows:
        session.execute(_insert_ignoring_duplicates(session), rows)
    return len(rows)


def act_day(period_end: date, timezone: str, clock_now: datetime) -> date | None:
    """The day an act is dated: the last day of the period it certifies, once that day has
    come on the account's clock (in its timezone); None before (no act for services not
    rendered yet)."""
    last = period_end - timedelta(days=1)
    return last if clock_now.astimezone(ZoneInfo(timezone)).date() >= last else None


def clock_times(session: Session, now: datetime) -> dict[int | None, datetime]:
    """The time of every clock accounts live on: the real one (key None) and each test
    clock's."""
    times: dict[int | None, datetime] = {None: now}
    for clock_id, clock_now in session.execute(select(TestClock.id, TestClock.now)):
        times[clock_id] = clock_now
    return times


def closed_by_act() -> ColumnElement[bool]:
    """The paid invoices (of ACT_INVOICE_KINDS) that the per-invoice act closes: those the
    month-end run does not certify by its monthly closings. They are the invoices paid
    before revision 0012 (plan `act`) and those it can never plan (no term: `plan_paid`
    takes only an invoice with both term dates). An invoice planned by month or term, or
    plannable and not planned yet (paid since the last run), is certified by the monthly
    closings (УПД, or an act of the month): never a second time by a whole-term act."""
    planned = exists().where(ServicePlan.invoice_id == Invoice.id)
    return or_(
        exists().where(ServicePlan.invoice_id == Invoice.id, ServicePlan.by == "act"),
        and_(~planned, or_(Invoice.term_starts_on.is_(None), Invoice.term_ends_on.is_(None))),
    )


def _create_acts(session: Session, now: datetime, batch: int, only: int | None) -> int:
    """Acts of the invoices paid in full whose period has been rendered, numbered
    gaplessly: an act certifies services rendered, so it is dated the last day of the
    period it covers and made once that day has come on the account's clock (a test
    clock's for an account on one). An invoice taken back by a credit note gets none.

    The numbers of a (series, year) are taken under the lock of its sequence row, and the
    invoices are checked again under that lock: two workers never number the same act
    twice, and a number is never lost (a rolled-back transaction gives its numbers back).
    """
    times = clock_times(session, now)
    # No clock is more than a day ahead of its UTC date in any timezone: a cheap bound in
    # SQL, the exact day per account below.
    bound = max(t.astimezone(UTC).date() for t in times.values()) + timedelta(days=2)
    period_end = Invoice.term_ends_on  # the first day after the term it paid for
    query = (
        select(
            Invoice.id,
            Invoice.account_id,
            period_end,
            Account.timezone,
            Account.test_clock_id,
        )
        .join(Account, Account.id == Invoice.account_id)
        .where(
            Invoice.status == "paid",
            Invoice.kind.in_(ACT_INVOICE_KINDS),
            ~_has_document(ACT, Invoice.id),
            ~exists().where(CreditNote.invoice_id == Invoice.id),
            closed_by_act(),
            period_end <= bound,
        )
        .order_by(Invoice.id)
    )
    if only is not None:
        query = query.where(Invoice.id == only)
    groups: dict[tuple[bool, int], list[tuple[date, int, int]]] = defaultdict(list)
    found, after = 0, 0
    while found < batch:
        page = session.execute(query.where(Invoice.id > after).limit(batch)).all()
        for invoice_id, account_id, ends, timezone, test_clock_id in page:
            after = invoice_id
            clock_now = times.get(test_clock_id, now)
            day = act_day(ends, timezone, clock_now) if ends is not None else None
            if day is None or found >= batch:
                continue  # not rendered yet (another account's clock is ahead)
            groups[(test_clock_id is not None, day.year)].append((day, invoice_id, account_id))
            found += 1
        if len(page) < batch:
            break
    created = 0
    for (test, year), acts in sorted(groups.items()):
        series = TEST_ACT_SERIES if test else ACT_SERIES
        take_numbers(session, series, year, 0)  # lock the sequence row of this series
        ids = [invoice_id for _, invoice_id, _ in acts]
        done = set(
            session.scalars(
                select(Document.source_id).where(Document.kind == ACT, Document.source_id.in_(ids))
            )
        )
        todo = sorted(act for act in acts if act[1] not in done)
        if not todo:
            continue
        first = take_numbers(session, series, year, len(todo))
        session.execute(
            insert(Document),
            [
                {
                    "kind": ACT,
                    "source_id": invoice_id,
                    "number": act_number(year, first + n, test=test),
                    "account_id": account_id,
                    "issued_on": day,
                    "created_at": now,
                }
                for n, (day, invoice_id, account_id) in enumerate(todo)
            ],
        )
        created += len(todo)
    return created


def create_missing(
    session: Session, *, now: datetime, batch: int, only: tuple[str, int] | None = None
) -> int:
    """Up to `batch` missing rows of each kind (or the one of `only`). In a transaction."""
    kind, source_id = only if only is not None else (None, None)
    created = 0
    if kind in (None, INVOICE):
        created += _create_invoice_documents(session, now, batch, source_id)
    if kind in (None, CREDIT_NOTE):
        created += _create_credit_note_documents(session, now, batch, source_id)
    if kind in (None, INVOICE_FACTURA):
        created += _create_invoice_factura_documents(session, now, batch, source_id)
    if kind in (None, ACT):
        if source_id is not None:
            # The acts still waiting for the worker are numbered first: numbers follow the
            # payments, whoever asks for an act first.
            created += _create_acts(session, now, max(batch, BATCH), None)
        created += _create_acts(session, now, batch, source_id)
    return created


def create_documents(session: Session, *, clock: Clock, batch: int = BATCH) -> int:
    """Create every missing document row, `batch` of each kind per transaction."""
    total = 0
    while True:
        with session.begin():
            made = create_missing(session, now=clock.now(), batch=batch)
        total += made
        if made == 0:
            return total
