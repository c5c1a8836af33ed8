"""Autopay and its dunning: every open renewal invoice whose dunning day has come (the day
the autopay invoice is issued, then the retry days in grace) is charged to the account's
saved method, without the customer. Nothing is charged without autopay on, an active saved
method, or after cancellation, nor beside an open payment of the invoice; each condition is
read again under the locks right before the charge, which follows checkout's rule (stored,
called, stored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.actors import acts_for_account
from podpiska.accounts.models import Account
from podpiska.core.clocks import now_for, today_for
from podpiska.core.db.session import read_only
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import (
    get_or_404,
    snapshot,
)
from podpiska.invoicing.models import Invoice
from podpiska.payments.checkout import call_gateway, new_attempt
from podpiska.payments.common import OPEN, lock_invoice_account, next_charge_day, open_attempt
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.payments.receipts import charge_request
from podpiska.ports import ChargeRequest, Clock, PaymentGateway
from podpiska.subscriptions.billing import record_change
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.records import (
    live_subscription,
)
from podpiska.subscriptions.settlement import not_payable

log = logging.getLogger(__name__)


@dataclass
class AutopayReport:
    charged: int = 0
    succeeded: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0

    def add(self, other: AutopayReport) -> None:
        self.charged += other.charged
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.pending += other.pending
        self.skipped += other.skipped

    def as_dict(self) -> dict[str, int]:
        return {
            "charged": self.charged,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "pending": self.pending,
            "skipped": self.skipped,
        }


def charge_autopay(
    session: Session,
    gateway: PaymentGateway,
    *,
    clock: Clock,
    clock_id: int = 0,
    two_stage: bool = False,
    limit: int = 1000,
) -> AutopayReport:
    """Charge the saved method for every open renewal invoice whose dunning day has come
    (the day the autopay invoice is issued, then the retry days in grace). Accounts on test
    clock `clock_id` (0: real time) only. Nothing is charged without autopay on, an active
    saved method, or after cancellation; each is checked again under a lock right before
    the charge."""
    report = AutopayReport()
    with session.begin():
        scope = (
            Subscription.test_clock_id.is_(None)
            if clock_id == 0
            else Subscription.test_clock_id == clock_id
        )
        candidates = list(
            session.execute(
                select(Subscription.id, Invoice.id)
                .join(Invoice, Invoice.id == Subscription.renewal_invoice_id)
                .where(
                    scope,
                    Subscription.autopay.is_(True),
                    Subscription.cancel_at_period_end.is_(False),
                    Subscription.status.in_((Status.ACTIVE.value, Status.GRACE.value)),
                    Invoice.status == "issued",
                    Subscription.account_id.in_(
                        select(PaymentMethod.account_id).where(
                            PaymentMethod.status == "active",
                            PaymentMethod.gateway == gateway.name,
                        )
                    ),
                    ~Invoice.id.in_(
                        select(PaymentAttempt.invoice_id).where(PaymentAttempt.status.in_(OPEN))
                    ),
                )
                .order_by(Subscription.id)
                .limit(limit)
            )
        )
    for _subscription_id, invoice_id in candidates:
        try:
            prepared = _prepare_autopay(
                session, gateway, invoice_id, clock=clock, two_stage=two_stage
            )
        except DomainError as error:
            # The charge cannot be asked for (its receipt has a VAT rate with no 54-FZ
            # code): nothing was written or sent; the others are charged.
            log.error("autopay of invoice %s refused: %s", invoice_id, error.code)
            report.skipped += 1
            continue
        if prepared is None:
            report.skipped += 1
            continue
        attempt_id, request = prepared
        report.charged += 1
        attempt = call_gateway(session, gateway, attempt_id, request, clock=clock)
        if attempt.status == "succeeded":
            report.succeeded += 1
        elif attempt.status == "failed":
            report.failed += 1
        else:
            report.pending += 1
    return report


def _prepare_autopay(
    session: Session, gateway: PaymentGateway, invoice_id: int, *, clock: Clock, two_stage: bool
) -> tuple[int, ChargeRequest] | None:
    """Transaction 1 of an autopay charge: every condition re-read under the locks."""
    with session.begin():
        invoice, subscription, account = lock_invoice_account(session, invoice_id)
        if (
            not subscription.autopay
            or subscription.cancel_at_period_end
            or subscription.status not in (Status.ACTIVE.value, Status.GRACE.value)
            or subscription.renewal_invoice_id != invoice.id
            or not_payable(invoice, subscription) is not None
        ):
            return None
        method = session.scalar(
            select(PaymentMethod)
            .where(
                PaymentMethod.account_id == account.id,
                PaymentMethod.status == "active",
                PaymentMethod.gateway == gateway.name,
            )
            .order_by(PaymentMethod.id.desc())
            .with_for_update()
        )
        if method is None:
            return None
        if open_attempt(session, invoice.id) is not None:
            return None  # a payment of it is open (the customer's, or an earlier charge)
        previous = session.execute(
            select(PaymentAttempt.charge_day, PaymentAttempt.status)
            .where(PaymentAttempt.invoice_id == invoice.id, PaymentAttempt.kind == "autopay")
            .order_by(PaymentAttempt.id.desc())
            .limit(1)
        ).first()
        today = today_for(session, account, clock)
        due_on = next_charge_day(session, subscription, previous.charge_day if previous else None)
        if due_on is None or due_on > today:
            return None
        now = now_for(session, account, clock)
        attempt = new_attempt(
            session,
            gateway,
            invoice,
            account,
            kind="autopay",
            actor="autopay",
            now=clock.now(),
            audited_at=now,
            noted={"method": method.title, "charge_day": today.isoformat()},
            method_type=method.type,
            payment_method_id=method.id,
            save_method=False,
            capture=not two_stage,
            amount=invoice.total - invoice.amount_paid,
            charge_day=today,
        )
        request = charge_request(
            session,
            attempt,
            invoice,
            account,
            today,
            saved_method_id=method.external_id,
            capture=attempt.capture,
        )
        return attempt.id, request


def _refuse_without_consent(session: Session, *, account_id: int, actor: str) -> None:
    """Recurring charges need the customer's own consent (the 2026 rules) and a method it
    was given for: 403 `consent_by_customer_only`, 409 `autopay_needs_method`."""
    if not acts_for_account(session, actor, account_id):
        raise DomainError("consent_by_customer_only", actor=actor)
    if not session.scalar(
        select(PaymentMethod.id)
        .where(PaymentMethod.account_id == account_id, PaymentMethod.status == "active")
        .limit(1)
    ):
        raise DomainError("autopay_needs_method")


def check_autopay_consent(session: Session, *, account_id: int, actor: str) -> None:
    """Refuse an order that asks for autopay on (`billing.order_subscription`'s
    `autopay=True`) unless `set_autopay` would turn it on: the account's own, with an
    active saved method. Read only; the charge reads the method again under its locks."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        _refuse_without_consent(session, account_id=account_id, actor=actor)


def set_autopay(
    session: Session, *, account_id: int, enabled: bool, actor: str, clock: Clock
) -> Subscription:
    with session.begin():
        account = get_or_404(session, Account, account_id, "account")
        subscription = live_subscription(session, account_id, lock=True)
        if subscription.autopay == enabled:
            return subscription
        if enabled:  # turning autopay off is allowed to anyone who may act on the account
            _refuse_without_consent(session, account_id=account_id, actor=actor)
        before = snapshot(subscription, "autopay")
        subscription.autopay = enabled
        subscription.updated_at = clock.now()
        record_change(
            session,
            account,
            subscription,
            "subscription.autopay_changed",
            before,
            clock,
            actor,
            autopay=enabled,
        )
    return subscription
