"""Use-cases: what a billing team does to one issued invoice by hand — void it with its
reason, and mark it paid with the payment's details.

Voiding is `invoicing.invoices.void_invoice` (its journal postings, the money already paid
put on the account's credit, the `invoice.voided` event) plus what the invoice was for:

- an **order**'s invoice while the subscription still waits for it: the order is
  abandoned (the subscription cancelled, as `billing.cancel_subscription` does for a
  pending one);
- a **renewal** invoice: the planned renewal is dropped (`renewal_invoice_id` cleared) and
  autopay turned off, so the lifecycle run neither charges it nor issues it again: the
  term ends unrenewed unless someone renews by hand (or turns autopay back on);
- a **change**'s invoice: the pending change is cancelled (as `changes.cancel_change`).

Marking paid is `settlement.record_payment`, the one payment writer, and its settlement
(an order activates, a renewal extends): by hand, with the day the money came and the
payer's document number as the payment's external id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, get_or_404, not_found, snapshot
from podpiska.invoicing.invoices import void_invoice
from podpiska.invoicing.models import Invoice, Payment
from podpiska.ports import Clock
from podpiska.subscriptions.billing import record_change
from podpiska.subscriptions.domain.lifecycle import Event, transition
from podpiska.subscriptions.models import Subscription, SubscriptionChange
from podpiska.subscriptions.records import SUB_FIELDS, ledger
from podpiska.subscriptions.settlement import lock_invoice, record_payment

REASON_MAX = 500
REFERENCE_MAX = 200
# The ways money marked by hand came, and the payment method each is recorded as.
MARK_METHODS = {"bank_transfer": "bank_transfer", "cash": "manual", "other": "manual"}


def _reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise DomainError("void_reason_required", max=REASON_MAX)
    if len(reason) > REASON_MAX:
        raise DomainError("void_reason_too_long", max=REASON_MAX, length=len(reason))
    return reason


def _locked(
    session: Session, invoice_id: int, account_id: int | None
) -> tuple[Invoice, Subscription]:
    invoice, subscription = lock_invoice(session, invoice_id)
    if account_id is not None and invoice.account_id != account_id:
        raise not_found("invoice", invoice_id)
    return invoice, subscription


@dataclass(frozen=True, slots=True)
class VoidResult:
    invoice: Invoice
    subscription: Subscription
    effect: str  # order_cancelled | renewal_dropped | change_cancelled | none
    replayed: bool = False  # it was void already: nothing was done


def void_effect(invoice: Invoice, subscription: Subscription) -> str:
    """What voiding `invoice` does besides voiding it (shown before confirming)."""
    if invoice.kind == "order" and subscription.status == Status.PENDING.value:
        return "order_cancelled"
    if invoice.kind == "renewal" and subscription.renewal_invoice_id == invoice.id:
        return "renewal_dropped"
    if invoice.kind == "change":
        return "change_cancelled"
    return "none"


def void_preview(
    session: Session, *, invoice_id: int, account_id: int | None = None
) -> tuple[Invoice, str]:
    """The invoice and what voiding it would do now (nothing is changed)."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        if account_id is not None and invoice.account_id != account_id:
            raise not_found("invoice", invoice_id)
        subscription = get_or_404(session, Subscription, invoice.subscription_id, "subscription")
        return invoice, void_effect(invoice, subscription)


def void_issued_invoice(
    session: Session,
    *,
    invoice_id: int,
    reason: str | None,
    account_id: int | None = None,
    actor: str,
    clock: Clock,
) -> VoidResult:
    """Void an unpaid or partly paid invoice with its reason (what was paid goes to the
    account's credit) and undo what it was for. A paid invoice: 409 `invoice_paid` (a
    credit note corrects it). Already void: answered as it is (`replayed`), nothing done."""
    text = _reason(reason)
    with session.begin():
        invoice, subscription = _locked(session, invoice_id, account_id)
        if invoice.status == "void":
            return VoidResult(invoice, subscription, "none", replayed=True)
        if invoice.status != "issued":
            raise DomainError("invoice_paid", number=invoice.number, status=invoice.status)
        account = get_or_404(session, Account, invoice.account_id, "account")
        now = clock.now()
        today = today_for(session, account, clock)
        effect = void_effect(invoice, subscription)
        before = snapshot(subscription, *SUB_FIELDS)
        void_invoice(session, invoice=invoice, reason=text, today=today, now=now, actor=actor)
        if effect == "order_cancelled":
            transition(Status(subscription.status), Event.ORDER_ABANDONED)
            for other in session.scalars(
                select(Invoice)
                .where(Invoice.subscription_id == subscription.id, Invoice.status == "issued")
                .with_for_update()
            ):
                void_invoice(session, invoice=other, reason=text, today=today, now=now, actor=actor)
            subscription.status = Status.CANCELLED.value
            subscription.updated_at = now
            ledger(session, subscription, "cancelled", effective_on=today, now=now)
            record_change(
                session,
                account,
                subscription,
                "subscription.cancelled",
                before,
                clock,
                actor,
                reason=f"invoice {invoice.number} voided: {text}",
            )
        elif effect == "renewal_dropped":
            subscription.renewal_invoice_id = None
            was_autopay = subscription.autopay
            subscription.autopay = False  # the run would issue the renewal again
            subscription.updated_at = now
            if was_autopay:
                record_change(
                    session,
                    account,
                    subscription,
                    "subscription.autopay_changed",
                    before,
                    clock,
                    actor,
                    autopay=False,
                    reason=f"renewal invoice {invoice.number} voided: {text}",
                )
        elif effect == "change_cancelled":
            for change in session.scalars(
                select(SubscriptionChange)
                .where(
                    SubscriptionChange.invoice_id == invoice.id,
                    SubscriptionChange.status == "pending",
                )
                .with_for_update()
            ):
                change.status = "cancelled"
                audit(
                    session,
                    actor=actor,
                    action="subscription_change.cancelled",
                    object_type="subscription_change",
                    object_id=change.id,
                    account_id=change.account_id,
                    at=now,
                    after={"reason": f"invoice {invoice.number} voided: {text}"},
                )
    return VoidResult(invoice, subscription, effect)


def mark_invoice_paid(
    session: Session,
    *,
    invoice_id: int,
    method: str,
    paid_on: date,
    reference: str | None = None,
    amount: Decimal | None = None,
    account_id: int | None = None,
    actor: str,
    clock: Clock,
) -> tuple[Payment, Invoice, Subscription, bool]:
    """Money received outside the gateway, marked by hand: the payment recorded by the one
    writer on `paid_on` (today or earlier, not before the invoice was issued), `amount` by
    default what is due, `reference` (the payer's document number) as its external id —
    the same reference twice applies once. Settled like any payment. Returns the payment,
    the invoice, the subscription and whether it was a replay."""
    if method not in MARK_METHODS:
        raise DomainError("invalid_payment_method", method=method, allowed=list(MARK_METHODS))
    if amount is not None and (not is_money(amount) or amount <= ZERO):
        raise DomainError("invalid_amount", amount=str(amount))
    ref = " ".join((reference or "").split()) or None
    if ref is not None and len(ref) > REFERENCE_MAX:
        raise DomainError("invalid_payment_reference", max=REFERENCE_MAX)
    recorded_as = MARK_METHODS[method]
    with session.begin():
        invoice, subscription = _locked(session, invoice_id, account_id)
        if ref is not None:
            earlier = session.scalars(
                select(Payment).where(Payment.method == recorded_as, Payment.external_id == ref)
            ).first()
            if earlier is not None and earlier.invoice_id == invoice.id:
                return earlier, invoice, subscription, True
        if invoice.status != "issued":
            raise DomainError("invoice_not_payable", number=invoice.number, status=invoice.status)
        account = get_or_404(session, Account, invoice.account_id, "account")
        today = today_for(session, account, clock)
        if paid_on > today or (invoice.issued_on is not None and paid_on < invoice.issued_on):
            raise DomainError(
                "invalid_paid_on",
                paid_on=paid_on.isoformat(),
                issued_on=(invoice.issued_on or today).isoformat(),
                today=today.isoformat(),
            )
        due = invoice.total - invoice.amount_paid
        now = clock.now()
        payment = record_payment(
            session,
            invoice=invoice,
            subscription=subscription,
            account=account,
            amount=due if amount is None else amount,
            method=recorded_as,
            external_id=ref,
            actor=actor,
            now=now,
            today=today,
            received_on=paid_on,
        )
        audit(
            session,
            actor=actor,
            action="invoice.marked_paid",
            object_type="invoice",
            object_id=invoice.id,
            account_id=invoice.account_id,
            at=now,
            after={
                "payment_id": payment.id,
                "method": method,
                "paid_on": paid_on.isoformat(),
                "reference": ref,
                "amount": str(payment.amount),
            },
        )
    return payment, invoice, subscription, False
