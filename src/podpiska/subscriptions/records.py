"""What the subscription's use-cases share: the license ledger row, the license as an audit
snapshot, the live subscription of an account, the open renewal voided.

Below every other module of the area (billing, settlement, changes, credit notes, the
daily run), so that none of them needs another's internals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import jsonable
from podpiska.invoicing.invoices import void_invoice
from podpiska.invoicing.models import Invoice
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription


class LicenseRow(Protocol):
    """What a license ledger row and a snapshot read of a subscription: its ORM object or
    a plain record of its row (the bank statement import)."""

    id: int
    account_id: int
    status: str
    catalog_version: str
    plan: str
    months: int
    seats: int
    starts_on: date | None
    ends_on: date | None
    autopay: bool
    cancel_at_period_end: bool


SUB_FIELDS = (
    "status",
    "plan",
    "months",
    "seats",
    "starts_on",
    "ends_on",
    "autopay",
    "cancel_at_period_end",
    "catalog_version",
)


def live_subscription(session: Session, account_id: int, *, lock: bool = False) -> Subscription:
    stmt = select(Subscription).where(
        Subscription.account_id == account_id, Subscription.status != Status.CANCELLED.value
    )
    if lock:
        stmt = stmt.with_for_update()
    found = session.scalars(stmt).first()
    if found is None:
        raise DomainError("no_subscription", account_id=account_id)
    return found


def ledger(
    session: Session,
    subscription: Subscription,
    event: str,
    *,
    effective_on: date,
    now: datetime,
    invoice_id: int | None = None,
) -> None:
    session.add(
        LicenseLedgerEntry(
            **ledger_row(
                subscription, event, effective_on=effective_on, now=now, invoice_id=invoice_id
            )
        )
    )


def ledger_row(
    subscription: LicenseRow,
    event: str,
    *,
    effective_on: date,
    now: datetime,
    invoice_id: int | None,
) -> dict[str, Any]:
    """The license ledger row of `event`: the license as it is now."""
    return {
        "subscription_id": subscription.id,
        "account_id": subscription.account_id,
        "event": event,
        "effective_on": effective_on,
        "status": subscription.status,
        "plan": subscription.plan,
        "seats": subscription.seats,
        "starts_on": subscription.starts_on,
        "ends_on": subscription.ends_on,
        "invoice_id": invoice_id,
        "recorded_at": now,
    }


def license_snapshot(subscription: LicenseRow) -> dict[str, Any]:
    """`common.snapshot` of the license's SUB_FIELDS, for an ORM object or a record."""
    return {name: json_value(getattr(subscription, name)) for name in SUB_FIELDS}


def json_value(value: Any) -> Any:
    """`common.jsonable(value)`, quicker for the plain values of rows and events (the bank
    import makes a hundred thousand of them)."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is Decimal:
        return str(value)
    if kind is date or kind is datetime:
        return value.isoformat()
    return jsonable(value)


def void_open_renewal(
    session: Session, subscription: Subscription, today: date, now: datetime, actor: str
) -> None:
    if subscription.renewal_invoice_id is None:
        return
    invoice = session.get(
        Invoice, subscription.renewal_invoice_id, with_for_update=True, populate_existing=True
    )
    if invoice is not None:
        void_invoice(
            session,
            invoice=invoice,
            reason="subscription cancelled",
            today=today,
            now=now,
            actor=actor,
        )
    subscription.renewal_invoice_id = None
