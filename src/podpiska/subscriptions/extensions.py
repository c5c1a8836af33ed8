"""Use-case: a goodwill extension — the vendor moves the current term's end `days` later as
a gift, with its reason.

What it writes, in one transaction: a zero-amount invoice of kind `extension` over the gift
days [old end, new end), its one line saying the reason, written by the one invoice writer
(`invoicing.invoices.write_invoices`: numbered, its audit row and `invoice.issued` event; a
zero total posts nothing to the journal) and settled at once (nothing is owed); the
subscription's `ends_on` moved (a grace or a reminder of the old end no longer applies: the
reminders start again for the new end), its audit row and a `subscription.extended` event.

The month-end document run stays right: the paid invoices keep their service periods over
the days they paid for (an extension is not in `ACT_INVOICE_KINDS`, so it is never planned
and renders nothing: the gift days carry no money). An open renewal invoice (its term
starting on the old end) would no longer fit: refused until it is paid or voided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, emit, get_or_404, snapshot
from podpiska.invoicing.invoices import NewInvoice, write_invoices, written
from podpiska.invoicing.models import Invoice, InvoiceLine
from podpiska.ports import Clock
from podpiska.subscriptions.models import Subscription

MAX_DAYS = 365
MAX_REASON = 300
ONE_DAY = timedelta(days=1)
LIVE = (Status.ACTIVE.value, Status.GRACE.value)


@dataclass(frozen=True, slots=True)
class Extension:
    subscription: Subscription
    invoice: Invoice


def extend_term(
    session: Session, *, subscription_id: int, days: int, reason: str, actor: str, clock: Clock
) -> Extension:
    """Extend the subscription's current term by `days` (1..365) as a gift."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise DomainError("extension_days_invalid", days=days, max=MAX_DAYS)
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        raise DomainError("extension_reason_required", max=MAX_REASON)
    with session.begin():
        subscription = get_or_404(session, Subscription, subscription_id, "subscription", lock=True)
        account = get_or_404(session, Account, subscription.account_id, "account")
        if subscription.status not in LIVE or subscription.ends_on is None:
            raise DomainError("extension_not_live", status=subscription.status)
        old_end = subscription.ends_on
        renewal = session.scalars(
            select(Invoice).where(
                Invoice.subscription_id == subscription.id,
                Invoice.kind == "renewal",
                Invoice.status == "issued",
                Invoice.term_starts_on == old_end,
            )
        ).first()
        if renewal is not None:
            raise DomainError("extension_renewal_open", number=renewal.number)
        last = session.scalars(
            select(Invoice)
            .where(Invoice.subscription_id == subscription.id, Invoice.status == "paid")
            .order_by(Invoice.id.desc())
        ).first()
        like = (
            session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == last.id)
                .order_by(InvoiceLine.position)
            ).first()
            if last is not None
            else None
        )
        now, today = clock.now(), today_for(session, account, clock)
        new_end = old_end + timedelta(days=days)
        description = f"Продление срока на {days} дн. в подарок: {reason}"[:500]
        new = NewInvoice(
            account_id=account.id,
            subscription_id=subscription.id,
            test=account.test_clock_id is not None,
            kind="extension",
            currency=last.currency if last is not None else "RUB",
            catalog_version=subscription.catalog_version,
            plan=subscription.plan,
            months=0,
            seats=subscription.seats,
            add_ons=tuple(subscription.add_ons or ()),
            term_starts_on=old_end,
            term_ends_on=new_end,
            subtotal=ZERO,
            discount=ZERO,
            total=ZERO,
            vat_mode=last.vat_mode if last is not None else "none",
            vat_rate=last.vat_rate if last is not None else None,
            vat_amount=ZERO,
            lines=[
                {
                    "position": 1,
                    "kind": "extension",
                    "code": "extension",
                    "description": description,
                    "quantity": days,
                    "months": 0,
                    "unit_price": ZERO,
                    "discount_percent": "0",
                    "amount": ZERO,
                    "explain": reason[:1000],
                    "vat_mode": like.vat_mode if like is not None else "none",
                    "vat_rate": like.vat_rate if like is not None else "0",
                }
            ],
            notes={"reason": reason, "days": days},
        )
        invoice = written(
            session, write_invoices(session, [new], today=today, now=now, actor=actor)[0]
        )
        invoice.status, invoice.paid_at = "paid", now  # nothing is owed on a gift
        before = snapshot(subscription, "ends_on", "status")
        subscription.ends_on = new_end
        if subscription.status == Status.GRACE.value and new_end > today:
            subscription.status = Status.ACTIVE.value  # paid through a day ahead again
        subscription.last_reminder_days = None
        subscription.updated_at = now
        audit(
            session,
            actor=actor,
            action="subscription.extended",
            object_type="subscription",
            object_id=subscription.id,
            account_id=account.id,
            at=now,
            before=before,
            after={**snapshot(subscription, "ends_on", "status"), "days": days, "reason": reason},
        )
        emit(
            session,
            "subscription.extended",
            account_id=account.id,
            subscription_id=subscription.id,
            occurred_on=today,
            at=now,
            days=days,
            reason=reason,
            invoice_id=invoice.id,
            paid_through=new_end - ONE_DAY,
        )
    return Extension(subscription, invoice)
