"""Corrective documents (issue 16, item 4): when a credit note (or a change's credit) takes
back money for days already rendered and certified, the УПД that certified them are
corrected by a УКД each — never edited (rule 8 of docs/documents.md).

`correct_rendered` is called by `rendering_run.take_back_from` with what the periods not
rendered yet could not give back (`uncovered`): that amount is taken from the invoices'
certified periods in proportion to what each still holds (`allocate`, exact), the VAT in
the proportion of their VAT (all of it when a period is taken in full), grouped by the
УПД that certified them: one `Correction` per УПД, numbered gaplessly per year under the
series' lock, with its `Document` row (kind `correction`) and the journal posting revenue
→ deferred revenue (the credit note already took the money from deferred revenue to the
customer's credit). What no certified period holds any more stays uncovered.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.core.db.bulk import bulk_insert, reserve_ids
from podpiska.core.domain.money import ZERO, allocate, round_money
from podpiska.core.models import OutboxEvent
from podpiska.core.records import event_row
from podpiska.invoicing.documents import CORRECTION, correction_number
from podpiska.invoicing.ledger import DEFERRED, REVENUE, journal_rows
from podpiska.invoicing.models import (
    Correction,
    CorrectionPart,
    Document,
    JournalEntry,
    ServicePeriod,
)
from podpiska.invoicing.numbers import take_numbers

CORRECTION_SERIES = "correction"
TEST_CORRECTION_SERIES = "test_correction"  # accounts on a test clock


def correct_rendered(
    session: Session,
    *,
    account_id: int,
    invoice_ids: Sequence[int],
    source: str,
    day: date,
    amount: Decimal,
    test: bool,
    now: datetime,
) -> Decimal:
    """Correct the certified periods of `invoice_ids` by `amount` (with VAT); returns what
    was corrected (≤ amount: the certified periods hold no more)."""
    if amount <= 0 or not invoice_ids:
        return ZERO
    periods = list(
        session.scalars(
            select(ServicePeriod)
            .where(ServicePeriod.invoice_id.in_(invoice_ids), ServicePeriod.closing_id.is_not(None))
            .order_by(ServicePeriod.id)
        )
    )
    if not periods:
        return ZERO
    taken: dict[int, tuple[Decimal, Decimal]] = {
        period_id: (Decimal(a or 0), Decimal(v or 0))
        for period_id, a, v in session.execute(
            select(
                CorrectionPart.service_period_id,
                func.sum(CorrectionPart.amount),
                func.sum(CorrectionPart.vat),
            )
            .where(CorrectionPart.service_period_id.in_([p.id for p in periods]))
            .group_by(CorrectionPart.service_period_id)
        )
    }
    holds = [p.amount - taken.get(p.id, (ZERO, ZERO))[0] for p in periods]
    holds_vat = [p.vat - taken.get(p.id, (ZERO, ZERO))[1] for p in periods]
    total = sum(holds, ZERO)
    corrected = min(amount, total)
    if corrected <= 0:
        return ZERO
    parts = allocate(corrected, holds)
    vats = [
        held_vat if part == held else min(held_vat, round_money(held_vat * part / held))
        for part, held, held_vat in zip(parts, holds, holds_vat, strict=True)
    ]
    by_closing: dict[int, list[tuple[ServicePeriod, Decimal, Decimal]]] = defaultdict(list)
    for period, part, vat in zip(periods, parts, vats, strict=True):
        if part or vat:
            assert period.closing_id is not None
            by_closing[period.closing_id].append((period, part, vat))
    closings = sorted(by_closing)
    series = TEST_CORRECTION_SERIES if test else CORRECTION_SERIES
    first = take_numbers(session, series, day.year, len(closings))
    ids = reserve_ids(session, Correction, len(closings))
    rows: list[dict[str, Any]] = []
    part_rows: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    journal: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n, (closing_id, correction_id) in enumerate(zip(closings, ids, strict=True)):
        members = by_closing[closing_id]
        decrease = sum((part for _, part, _ in members), ZERO)
        vat_decrease = sum((vat for _, _, vat in members), ZERO)
        number = correction_number(day.year, first + n, test=test)
        rows.append(
            {
                "id": correction_id,
                "account_id": account_id,
                "closing_id": closing_id,
                "source": source,
                "number": number,
                "issued_on": day,
                "decrease": decrease,
                "vat_decrease": vat_decrease,
                "file_id": str(uuid.uuid4()),
                "created_at": now,
            }
        )
        part_rows += [
            {
                "correction_id": correction_id,
                "service_period_id": period.id,
                "amount": part,
                "vat": vat,
            }
            for period, part, vat in members
        ]
        documents.append(
            {
                "kind": CORRECTION,
                "source_id": correction_id,
                "number": number,
                "account_id": account_id,
                "issued_on": day,
                "created_at": now,
            }
        )
        events.append(
            event_row(
                "correction.issued",
                account_id=account_id,
                occurred_on=day,
                at=now,
                correction_id=correction_id,
                number=number,
                issued_on=day,
                closing_id=closing_id,
                decrease=decrease,
                vat_decrease=vat_decrease,
            )
        )
        journal += journal_rows(
            account_id,
            REVENUE,
            DEFERRED,
            decrease,
            "service_corrected",
            f"ukd:{correction_id}",
            now,
        )
    bulk_insert(session, Correction, rows)
    bulk_insert(session, CorrectionPart, part_rows)
    bulk_insert(session, Document, documents)
    bulk_insert(session, JournalEntry, [row for row in journal if row["amount"] != 0])
    bulk_insert(session, OutboxEvent, events)
    return corrected
