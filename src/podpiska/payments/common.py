"""What the area's payment actions share: the attempt statuses that are still open and when
an open attempt is asked about again, the one open attempt of an invoice, an invoice locked
for paying (with its subscription, in settlement's one lock order, and its account), and the
dunning schedule's next charge day of a subscription on autopay (read by autopay to charge,
and by a failed payment's event to name the next try).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.catalog.store import catalog_in_force
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import Invoice
from podpiska.payments.models import PaymentAttempt
from podpiska.subscriptions.domain.lifecycle import next_autopay_charge
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.settlement import lock_invoice

OPEN = ("created", "pending")
# When reconciliation asks again about an attempt that is still open.
RECHECK = (timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))


def open_attempt(session: Session, invoice_id: int) -> PaymentAttempt | None:
    """The open attempt of an invoice (at most one: `uq_payment_attempts_open_invoice`)."""
    return session.scalars(
        select(PaymentAttempt).where(
            PaymentAttempt.invoice_id == invoice_id, PaymentAttempt.status.in_(OPEN)
        )
    ).first()


def lock_invoice_account(
    session: Session, invoice_id: int
) -> tuple[Invoice, Subscription, Account]:
    """The invoice, its subscription (locked in the one order: `settlement.lock_invoice`)
    and its account."""
    invoice, subscription = lock_invoice(session, invoice_id)
    account = get_or_404(session, Account, invoice.account_id, "account")
    return invoice, subscription, account


def next_charge_day(
    session: Session, subscription: Subscription, last_charged_on: date | None
) -> date | None:
    if subscription.ends_on is None:
        return None
    settings = catalog_in_force(session).version(subscription.catalog_version).lifecycle
    return next_autopay_charge(subscription.ends_on, settings, last_charged_on)
