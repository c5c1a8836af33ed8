"""Advance счета-фактуры and their offsets (issue 16, item 3), a step of the month-end run.

**Issue** (`issue_advances`): every payment (card, bank, wallet — not the account's own
credit used on an invoice) of an invoice planned by month gets one `Advance` row, dated the
day the money arrived: the part of it that pays for services not rendered by that day. The
money of a payment first pays for what was rendered before it arrived (a restoration's
overdue days): that part is no advance. Its VAT is at the estimated rate, 22/122 for an
invoice at 22 % (п. 4 ст. 164 НК РФ). A payment that is no advance (nothing left to
render, an exempt invoice, a VAT of zero) gets a row without a number, looked at once.
Numbers are gapless per year under the series' lock: `AV-2026-000001`, `TEST-AV-…` on a
test clock; each numbered advance has its `Document` row (kind `advance`).

**Offset** (`offset_advances`): when a closing document certifies an invoice's periods
(the month-end run's `render_due`), the invoice's advances are offset by their amount,
oldest first (зачёт аванса), the VAT at the advance's rate and the last offset taking the
advance's remaining VAT, so that an advance's offsets sum to it exactly. A period rendered
before the advance arrived offsets nothing. When a credit note or a change's credit takes
services back (`take_back_from`), the advance is settled by what they took ("returned"):
the money went to the account's credit, from which a refund goes back to the customer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from podpiska.core.db.bulk import bulk_insert, reserve_ids
from podpiska.core.domain.money import HUNDRED, ZERO, round_money
from podpiska.core.models import OutboxEvent
from podpiska.core.records import event_row
from podpiska.invoicing.documents import ADVANCE, advance_number
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    Document,
    Invoice,
    Payment,
    ServicePeriod,
    ServicePlan,
)
from podpiska.invoicing.numbers import take_numbers
from podpiska.invoicing.run_scope import Scope

BATCH = 2000  # invoices whose payments are looked at per statement
ADVANCE_SERIES = "advance"
TEST_ADVANCE_SERIES = "test_advance"  # accounts on a test clock: never the real numbering
CREDIT_METHOD = "credit"  # the account's own credit used on an invoice: no money arrived


def estimated_rate(rate: str) -> str:
    """The estimated rate of an advance: "22" → "22/122" (п. 4 ст. 164 НК РФ)."""
    return f"{rate}/{(HUNDRED + Decimal(rate)).normalize():f}"


def vat_of(amount: Decimal, rate: str) -> Decimal:
    """The VAT in `amount` at the estimated rate of `rate` ("22": 22/122)."""
    value = Decimal(rate)
    return round_money(amount * value / (HUNDRED + value))


def issue_advances(session: Session, *, scope: Scope, now: datetime, batch: int = BATCH) -> int:
    """One `Advance` row for every payment of an invoice planned by month that has none
    yet, `batch` invoices at a time (memory and statements stay bounded on a catch-up);
    returns how many advance счета-фактуры were numbered."""
    pending = select(Payment.invoice_id).where(
        Payment.method != CREDIT_METHOD,
        exists().where(ServicePlan.invoice_id == Payment.invoice_id, ServicePlan.by != "act"),
        ~exists().where(Advance.payment_id == Payment.id),
        *scope.of(Payment.account_id),
    )
    numbered, after = 0, 0
    while True:
        invoice_ids = list(
            session.scalars(
                pending.where(Payment.invoice_id > after)
                .group_by(Payment.invoice_id)
                .order_by(Payment.invoice_id)
                .limit(batch)
            )
        )
        if not invoice_ids:
            return numbered
        after = invoice_ids[-1]
        numbered += _issue(session, invoice_ids, scope=scope, now=now)


def _issue(session: Session, invoice_ids: list[int], *, scope: Scope, now: datetime) -> int:
    """The advances of the payments of `invoice_ids` that have none yet."""
    payments = session.execute(
        select(
            Payment.id,
            Payment.invoice_id,
            Payment.account_id,
            Payment.amount,
            Payment.received_on,
            Invoice.vat_mode,
            Invoice.vat_rate,
            Invoice.vat_amount,
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Payment.invoice_id.in_(invoice_ids),
            Payment.method != CREDIT_METHOD,
            ~exists().where(Advance.payment_id == Payment.id),
        )
        .order_by(Payment.invoice_id, Payment.received_on, Payment.id)
    ).all()
    if not payments:
        return 0
    by_invoice: dict[int, list[Any]] = defaultdict(list)
    for row in payments:
        by_invoice[row.invoice_id].append(row)
    periods: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, last_day, amount in session.execute(
        select(ServicePeriod.invoice_id, ServicePeriod.last_day, ServicePeriod.amount).where(
            ServicePeriod.invoice_id.in_(list(by_invoice))
        )
    ):
        periods[invoice_id].append((last_day, amount))
    rows: list[dict[str, Any]] = []
    for invoice_id, paid in by_invoice.items():
        paid_before = ZERO
        for row in paid:
            rendered_before = sum(
                (amount for last_day, amount in periods[invoice_id] if last_day < row.received_on),
                ZERO,
            )
            not_advance = min(max(rendered_before - paid_before, ZERO), row.amount)
            paid_before += row.amount
            taxed = row.vat_mode != "exempt" and row.vat_amount > 0 and row.vat_rate
            amount = row.amount - not_advance if taxed else ZERO
            rows.append(
                {
                    "account_id": row.account_id,
                    "invoice_id": invoice_id,
                    "payment_id": row.id,
                    "source": f"payment:{row.id}",
                    "credit_entry_id": None,
                    "parent_id": None,
                    "number": None,
                    "issued_on": row.received_on,
                    "amount": amount,
                    "vat": vat_of(amount, row.vat_rate) if amount else ZERO,
                    "vat_rate": estimated_rate(row.vat_rate) if amount else None,
                    "file_id": str(uuid.uuid4()),
                    "created_at": now,
                }
            )
    return write_advances(session, rows, test=scope.test, now=now)


def write_advances(
    session: Session, rows: list[dict[str, Any]], *, test: bool, now: datetime
) -> int:
    """Write advance rows (of invoices' payments or of credits): those with an amount are
    numbered gaplessly per year in the order of their day and source (`AV-2026-000001`,
    `TEST-AV-…` on a test clock), get their document row and their `advance.issued` event;
    the others are kept unnumbered, looked at once. Returns how many were numbered."""
    numbered = sorted(
        (item for item in rows if item["amount"] > 0),
        key=lambda item: (
            item["issued_on"],
            item["payment_id"] or 0,
            item["credit_entry_id"] or 0,
        ),
    )
    years: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in numbered:
        years[item["issued_on"].year].append(item)
    series = TEST_ADVANCE_SERIES if test else ADVANCE_SERIES
    for year, members in sorted(years.items()):
        first = take_numbers(session, series, year, len(members))
        for n, item in enumerate(members):
            item["number"] = advance_number(year, first + n, test=test)
    for item, advance_id in zip(rows, reserve_ids(session, Advance, len(rows)), strict=True):
        item["id"] = advance_id
    bulk_insert(session, Advance, rows)
    bulk_insert(
        session,
        Document,
        [
            {
                "kind": ADVANCE,
                "source_id": item["id"],
                "number": item["number"],
                "account_id": item["account_id"],
                "issued_on": item["issued_on"],
                "created_at": now,
            }
            for item in numbered
        ],
    )
    bulk_insert(
        session,
        OutboxEvent,
        [
            event_row(
                "advance.issued",
                account_id=item["account_id"],
                occurred_on=item["issued_on"],
                at=now,
                advance_id=item["id"],
                number=item["number"],
                issued_on=item["issued_on"],
                invoice_id=item["invoice_id"],
                payment_id=item["payment_id"],
                amount=item["amount"],
                vat=item["vat"],
                vat_rate=item["vat_rate"],
            )
            for item in numbered
        ],
    )
    return len(numbered)


@dataclass(frozen=True, slots=True)
class Settled:
    """Services of one invoice certified or taken back: what may offset its advances."""

    invoice_id: int
    source: str  # upd:ID | credit_note:ID | credit:ID
    day: date
    parts: Sequence[tuple[date, Decimal]]  # (the period's last day, its amount)
    closing_id: int | None = None


def offset_advances(session: Session, settled: Sequence[Settled], *, now: datetime) -> int:
    """Offset the invoices' advances by what `settled` certified or took back, oldest
    advance first; a part whose period ended before an advance arrived does not offset it.
    Returns the number of offsets written."""
    if not settled:
        return 0
    invoice_ids = sorted({item.invoice_id for item in settled})
    used = dict(
        session.execute(
            select(AdvanceOffset.advance_id, func.sum(AdvanceOffset.amount))
            .join(Advance, Advance.id == AdvanceOffset.advance_id)
            .where(Advance.invoice_id.in_(invoice_ids))
            .group_by(AdvanceOffset.advance_id)
        ).all()
    )
    used_vat = dict(
        session.execute(
            select(AdvanceOffset.advance_id, func.sum(AdvanceOffset.vat))
            .join(Advance, Advance.id == AdvanceOffset.advance_id)
            .where(Advance.invoice_id.in_(invoice_ids))
            .group_by(AdvanceOffset.advance_id)
        ).all()
    )
    advances: dict[int, list[Advance]] = defaultdict(list)
    for advance in session.scalars(
        select(Advance)
        .where(
            Advance.invoice_id.in_(invoice_ids),
            Advance.number.is_not(None) | Advance.parent_id.is_not(None),
        )
        .order_by(Advance.issued_on, Advance.id)
    ):
        if advance.invoice_id is not None:
            advances[advance.invoice_id].append(advance)
    rows: list[dict[str, Any]] = []
    consumed: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)  # by each item
    for item in settled:
        for advance in advances.get(item.invoice_id, []):
            eligible = sum(
                (amount for last_day, amount in item.parts if last_day >= advance.issued_on),
                ZERO,
            )
            left_here = eligible - consumed[(item.source, item.invoice_id)]
            left = advance.amount - Decimal(used.get(advance.id) or 0)
            amount = min(left_here, left)
            if amount <= 0:
                continue
            rate = (advance.vat_rate or "0/100").split("/")[0]
            vat_done = Decimal(used_vat.get(advance.id) or 0)
            vat = advance.vat - vat_done if amount == left else vat_of(amount, rate)
            used[advance.id] = Decimal(used.get(advance.id) or 0) + amount
            consumed[(item.source, item.invoice_id)] += amount
            used_vat[advance.id] = vat_done + vat
            rows.append(
                {
                    "advance_id": advance.id,
                    "closing_id": item.closing_id,
                    "source": item.source,
                    "day": item.day,
                    "amount": amount,
                    "vat": vat,
                    "created_at": now,
                }
            )
    bulk_insert(session, AdvanceOffset, rows)
    return len(rows)


def verify_advances(session: Session) -> list[str]:
    """Every advance offset or returned, never beyond itself: per advance, its offsets (and,
    for money put on the account's credit, the shares of it the invoices paid from the
    credit took) ≤ it, its VAT too; per invoice, what its advances still hold ≤ its periods
    not rendered, and nothing when none is left to render."""
    problems: list[str] = []
    offsets = {
        advance_id: (Decimal(amount or 0), Decimal(vat or 0))
        for advance_id, amount, vat in session.execute(
            select(
                AdvanceOffset.advance_id,
                func.sum(AdvanceOffset.amount),
                func.sum(AdvanceOffset.vat),
            ).group_by(AdvanceOffset.advance_id)
        )
    }
    rows = list(
        session.scalars(
            select(Advance).where(Advance.number.is_not(None) | Advance.parent_id.is_not(None))
        )
    )
    shared: dict[int, tuple[Decimal, Decimal]] = {}
    for row in rows:
        if row.parent_id is not None:
            amount, vat = shared.get(row.parent_id, (ZERO, ZERO))
            shared[row.parent_id] = (amount + row.amount, vat + row.vat)
    held: dict[int, Decimal] = defaultdict(lambda: ZERO)
    accounts: dict[int, int] = {}
    for advance in rows:
        name = advance.number or f"{advance.source} (a share of a credit's advance)"
        done, done_vat = offsets.get(advance.id, (ZERO, ZERO))
        took, took_vat = shared.get(advance.id, (ZERO, ZERO))
        done, done_vat = done + took, done_vat + took_vat
        if done > advance.amount or done_vat > advance.vat:
            problems.append(
                f"advance {name}: offset {done} (VAT {done_vat}) beyond its "
                f"{advance.amount} (VAT {advance.vat})"
            )
        if done == advance.amount and done_vat != advance.vat:
            problems.append(
                f"advance {name}: offset in full but its VAT {done_vat} ≠ {advance.vat}"
            )
        if advance.invoice_id is not None:
            held[advance.invoice_id] += advance.amount - done
            accounts[advance.invoice_id] = advance.account_id
    open_periods = {
        invoice_id: Decimal(amount or 0)
        for invoice_id, amount in session.execute(
            select(ServicePeriod.invoice_id, func.sum(ServicePeriod.amount))
            .where(ServicePeriod.closing_id.is_(None))
            .group_by(ServicePeriod.invoice_id)
        )
    }
    for invoice_id, holding in sorted(held.items()):
        still = open_periods.get(invoice_id, ZERO)
        if holding > still:
            problems.append(
                f"account {accounts[invoice_id]}, invoice {invoice_id}: its advances hold "
                f"{holding}, more than its services not rendered yet ({still})"
            )
    return problems
