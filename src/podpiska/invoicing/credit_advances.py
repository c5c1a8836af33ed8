"""Advances of money put on the account's credit without an invoice, a step of the
month-end run.

**The rule** (п. 1 ст. 154, п. 3 ст. 168 НК РФ): money received before the services is an
advance whether or not an invoice was named; the seller issues an advance счёт-фактура
within 5 calendar days of receiving it.

**Issue** (`issue_credit_advances`): every credit entry of money received for no invoice (a
bank payment an operator put on the account's credit: `received_on` and `receipt_number`)
gets one `Advance` row (`source` `credit:ID`, no invoice, no payment), dated the day the
money arrived, numbered in the same `AV-` series as the invoices' advances. Its VAT is at
the estimated rate of the catalog version in force on that day (22/122 at 22 %): the
service it will pay for is not known yet, the catalog's rate is the one the vendor's
services are sold at. An exempt catalog gives a row without a number (no advance), as an
exempt invoice does.

**Share** (`share_credit_advances`): a payment of method `credit` (the account's credit used
on a planned invoice) gets no advance of its own — its money's advance was issued when it
arrived, a second would count the VAT twice. It takes its part of the account's credit
advances, oldest first: rows with `parent_id` (the credit's advance), the invoice and the
payment, no number and no document, `source` `payment:ID/advance:ID`. The month-end УПД
offsets them as the invoice's own advances (`advances.offset_advances`); `ledger verify`
proves a credit's advance never shared or offset beyond itself (`verify_advances`). A credit
payment that found no credit advance (credit from a credit note or a change) gets a row
`payment:ID` of zero, looked at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from podpiska.catalog.domain.catalog import Catalog
from podpiska.catalog.store import catalog_in_force
from podpiska.core.db.bulk import bulk_insert, reserve_ids
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import DEFAULT_VAT_RATE, ZERO, VatMode
from podpiska.invoicing.advances import (
    CREDIT_METHOD,
    estimated_rate,
    vat_of,
    write_advances,
)
from podpiska.invoicing.models import (
    Advance,
    AdvanceOffset,
    CreditEntry,
    Payment,
    ServicePeriod,
    ServicePlan,
)
from podpiska.invoicing.run_scope import Scope


def _rate_on(catalog: Catalog | None, day: date) -> str | None:
    """The VAT rate ("22") of the catalog version in force on `day`; None: exempt. No
    catalog loaded: the general rate (п. 3 ст. 164 НК РФ)."""
    if catalog is None:
        return f"{DEFAULT_VAT_RATE.normalize():f}"
    versions = [v for v in catalog.versions if v.effective_from <= day] or [catalog.versions[0]]
    vat = versions[-1].vat
    if vat.mode is VatMode.EXEMPT or vat.rate <= 0:
        return None
    return f"{vat.rate.normalize():f}"


def issue_credit_advances(session: Session, *, scope: Scope, now: datetime) -> int:
    """One `Advance` for every sum received for no invoice that has none yet; returns how
    many advance счета-фактуры were numbered."""
    entries = session.execute(
        select(CreditEntry.id, CreditEntry.account_id, CreditEntry.amount, CreditEntry.received_on)
        .where(
            CreditEntry.received_on.is_not(None),
            CreditEntry.amount > ZERO,
            ~exists().where(Advance.credit_entry_id == CreditEntry.id),
            *scope.of(CreditEntry.account_id),
        )
        .order_by(CreditEntry.received_on, CreditEntry.id)
    ).all()
    if not entries:
        return 0
    try:
        catalog: Catalog | None = catalog_in_force(session)
    except DomainError:
        catalog = None
    rows: list[dict[str, Any]] = []
    for entry_id, account_id, amount, received_on in entries:
        rate = _rate_on(catalog, received_on or now.date())
        rows.append(
            {
                "account_id": account_id,
                "invoice_id": None,
                "payment_id": None,
                "source": f"credit:{entry_id}",
                "credit_entry_id": entry_id,
                "parent_id": None,
                "number": None,
                "issued_on": received_on,
                "amount": amount if rate else ZERO,
                "vat": vat_of(amount, rate) if rate else ZERO,
                "vat_rate": estimated_rate(rate) if rate else None,
                "file_id": str(uuid.uuid4()),
                "created_at": now,
            }
        )
    return write_advances(session, rows, test=scope.test, now=now)


def share_credit_advances(session: Session, *, scope: Scope, now: datetime) -> int:
    """The payments of method `credit` of planned invoices take their part of the account's
    credit advances, oldest first; returns how many shares were written."""
    payments = session.execute(
        select(
            Payment.id, Payment.invoice_id, Payment.account_id, Payment.amount, Payment.received_on
        )
        .where(
            Payment.method == CREDIT_METHOD,
            exists().where(ServicePlan.invoice_id == Payment.invoice_id, ServicePlan.by != "act"),
            ~exists().where(Advance.payment_id == Payment.id),
            *scope.of(Payment.account_id),
        )
        .order_by(Payment.account_id, Payment.received_on, Payment.id)
    ).all()
    if not payments:
        return 0
    account_ids = sorted({row.account_id for row in payments})
    invoice_ids = sorted({row.invoice_id for row in payments})
    pool: dict[int, list[list[Any]]] = defaultdict(list)  # [advance, amount left, VAT left]
    parents = list(
        session.scalars(
            select(Advance)
            .where(
                Advance.account_id.in_(account_ids),
                Advance.credit_entry_id.is_not(None),
                Advance.number.is_not(None),
            )
            .order_by(Advance.issued_on, Advance.id)
        )
    )
    taken: dict[int, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    parent_ids = [parent.id for parent in parents]
    for parent_id, amount, vat in session.execute(
        select(Advance.parent_id, func.sum(Advance.amount), func.sum(Advance.vat))
        .where(Advance.parent_id.in_(parent_ids))
        .group_by(Advance.parent_id)
    ).all():
        if parent_id is not None:
            taken[parent_id] = (Decimal(amount or 0), Decimal(vat or 0))
    for advance_id, amount, vat in session.execute(
        select(
            AdvanceOffset.advance_id, func.sum(AdvanceOffset.amount), func.sum(AdvanceOffset.vat)
        )
        .where(AdvanceOffset.advance_id.in_(parent_ids))
        .group_by(AdvanceOffset.advance_id)
    ).all():
        done, done_vat = taken[advance_id]
        taken[advance_id] = (done + Decimal(amount or 0), done_vat + Decimal(vat or 0))
    for parent in parents:
        done, done_vat = taken[parent.id]
        if parent.amount - done > 0:
            pool[parent.account_id].append([parent, parent.amount - done, parent.vat - done_vat])
    unrendered: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, last_day, amount in session.execute(
        select(ServicePeriod.invoice_id, ServicePeriod.last_day, ServicePeriod.amount).where(
            ServicePeriod.invoice_id.in_(invoice_ids)
        )
    ):
        unrendered[invoice_id].append((last_day, amount))
    held: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for advanced, amount in session.execute(
        select(Advance.invoice_id, func.sum(Advance.amount))
        .where(Advance.invoice_id.in_(invoice_ids))
        .group_by(Advance.invoice_id)
    ).all():
        if advanced is not None:
            held[advanced] = Decimal(amount or 0)
    rows: list[dict[str, Any]] = []
    for payment in payments:
        ahead = sum(
            (amount for last_day, amount in unrendered[payment.invoice_id]
             if last_day >= payment.received_on),
            ZERO,
        )  # fmt: skip
        want = min(payment.amount, max(ahead - held[payment.invoice_id], ZERO))
        shares = 0
        for slot in pool[payment.account_id]:
            parent, left, left_vat = slot
            amount = min(want, left)
            if amount <= 0:
                continue
            rate = (parent.vat_rate or "0/100").split("/")[0]
            vat = left_vat if amount == left else min(vat_of(amount, rate), left_vat)
            slot[1], slot[2] = left - amount, left_vat - vat
            want -= amount
            held[payment.invoice_id] += amount
            shares += 1
            rows.append(
                _row(payment, source=f"payment:{payment.id}/advance:{parent.id}", now=now)
                | {
                    "parent_id": parent.id,
                    "amount": amount,
                    "vat": vat,
                    "vat_rate": parent.vat_rate,
                }
            )
        if not shares:  # no money of the credit's advances in it: looked at once
            rows.append(_row(payment, source=f"payment:{payment.id}", now=now))
    for item, advance_id in zip(rows, reserve_ids(session, Advance, len(rows)), strict=True):
        item["id"] = advance_id
    bulk_insert(session, Advance, rows)
    return sum(1 for item in rows if item["parent_id"] is not None)


def _row(payment: Any, *, source: str, now: datetime) -> dict[str, Any]:
    return {
        "account_id": payment.account_id,
        "invoice_id": payment.invoice_id,
        "payment_id": payment.id,
        "source": source,
        "credit_entry_id": None,
        "parent_id": None,
        "number": None,
        "issued_on": payment.received_on,
        "amount": ZERO,
        "vat": ZERO,
        "vat_rate": None,
        "file_id": str(uuid.uuid4()),
        "created_at": now,
    }
