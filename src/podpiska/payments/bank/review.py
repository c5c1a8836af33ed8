"""Use-cases: the review queue of a statement's payments the import could not match.

The imported payments are listed by status (`bank_payments`; the queue, `review_queue`, is
the unmatched ones, oldest first). An operator deals with an unmatched payment once, under
its row lock: assigns it to an invoice (`resolve`: registered there as any payment), puts it
on an account's credit (`credit_to_account`: a prepayment) or sets it aside as not ours
(`dismiss`, with a reason; undone by `reopen`). `expected_activation` tells a customer who
pays by transfer when the bank's money should activate the license.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.db.paging import Page, page
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import MAX_ID, audit, get_or_404
from podpiska.invoicing.ledger import CASH, grant_credit
from podpiska.invoicing.models import Payment
from podpiska.payments.bank.models import BankPayment
from podpiska.ports import Clock
from podpiska.subscriptions.settlement import lock_invoice, record_payment

# What became of an imported payment: matched by the import, or dealt with by an operator.
BANK_PAYMENT_STATUSES = (
    "unmatched",
    "paid",
    "partial",
    "overpaid",
    "resolved",
    "credited",
    "dismissed",
)


def review_queue(session: Session, *, limit: int = 100) -> list[BankPayment]:
    """The payments waiting for an operator, oldest first."""
    return bank_payments(session, status="unmatched", limit=limit)


def queue_page(session: Session, *, after: int = 0, limit: int = 50) -> Page[BankPayment]:
    """A page of the queue, oldest first, after the id `after` (the index of (status, id))."""
    query = select(BankPayment).where(BankPayment.status == "unmatched")
    with session.begin():
        return page(session, query, key=BankPayment.id, after=after, limit=limit)


def queue_size(session: Session) -> int:
    """How many payments wait for an operator."""
    query = select(func.count()).select_from(BankPayment).where(BankPayment.status == "unmatched")
    with session.begin():
        return int(session.scalar(query) or 0)


def waiting(session: Session, bank_payment_id: int) -> BankPayment | None:
    """The payment, if it is still in the queue (else None: an id no row can have too)."""
    if not 1 <= bank_payment_id <= MAX_ID:
        return None
    with session.begin():
        row = session.get(BankPayment, bank_payment_id)
        return row if row is not None and row.status == "unmatched" else None


def bank_payments(
    session: Session, *, status: str | None = "unmatched", limit: int = 100
) -> list[BankPayment]:
    """Imported payments in `status` (None: any), oldest first for the queue, newest first
    otherwise (what was done last)."""
    if status is not None and status not in BANK_PAYMENT_STATUSES:
        raise DomainError(
            "invalid_field",
            field="status",
            problem_ru="одно из " + ", ".join(BANK_PAYMENT_STATUSES),
            problem_en="one of " + ", ".join(BANK_PAYMENT_STATUSES),
        )
    if not 1 <= limit <= 1000:
        raise DomainError(
            "invalid_field", field="limit", problem_ru="от 1 до 1000", problem_en="1 to 1000"
        )
    query = select(BankPayment)
    if status is not None:
        query = query.where(BankPayment.status == status)
    order = BankPayment.id if status == "unmatched" else BankPayment.id.desc()
    with session.begin():
        return list(session.scalars(query.order_by(order).limit(limit)))


REASON_MAX = 500  # characters of the reason a payment is not ours


def _unmatched(session: Session, bank_payment_id: int) -> BankPayment:
    """The payment, locked (in the caller's transaction), still waiting in the review
    queue: an operator deals with it once (resolve, credit or dismiss)."""
    row = get_or_404(session, BankPayment, bank_payment_id, "bank payment", lock=True)
    if row.status != "unmatched":
        raise DomainError("bank_payment_resolved", id=bank_payment_id, status=row.status)
    return row


def resolve(
    session: Session, *, bank_payment_id: int, invoice_id: int, actor: str, clock: Clock
) -> BankPayment:
    """An operator assigns an unmatched payment to an invoice: it is registered there. One
    transaction under the payment's row lock (then the subscription's and the invoice's, the
    order of `settlement.lock_invoice`): a payment is resolved, credited or dismissed once."""
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        invoice, subscription = lock_invoice(session, invoice_id)
        now = clock.now()
        payment = session.scalars(  # registered before (as `register_payment` replays it)
            select(Payment).where(
                Payment.method == "bank_transfer", Payment.external_id == row.fingerprint
            )
        ).first()
        if payment is None:
            account = get_or_404(session, Account, invoice.account_id, "account")
            payment = record_payment(
                session,
                invoice=invoice,
                subscription=subscription,
                account=account,
                amount=row.amount,
                method="bank_transfer",
                external_id=row.fingerprint,
                actor=actor,
                now=now,
                today=today_for(session, account, clock),
            )
        row.status, row.invoice_id, row.payment_id = "resolved", invoice_id, payment.id
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.resolved",
            object_type="bank_payment",
            object_id=row.id,
            account_id=invoice.account_id,
            at=now,
            after={"invoice": invoice.number, "amount": str(row.amount)},
        )
    return row


def credit_to_account(
    session: Session, *, bank_payment_id: int, account_id: int, actor: str, clock: Clock
) -> BankPayment:
    """An operator puts an unmatched payment on an account's credit: a known customer's
    prepayment for no invoice in particular. The same credit as an overpayment's
    (`money_ledger.grant_credit` from `cash`), so the account's next invoices use it first;
    no payment of an invoice, no event (the credit path emits none)."""
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        account = get_or_404(session, Account, account_id, "account", lock=True)
        now = clock.now()
        grant_credit(
            session,
            account_id=account.id,
            amount=row.amount,
            reason=f"prepayment: bank payment № {row.doc_number[:50]} of {row.day.isoformat()}",
            actor=actor,
            at=now,
            from_ledger=CASH,
            document=f"bank_payment:{row.id}",
            received_on=row.day,
            receipt_number=row.doc_number[:50],
        )
        row.status, row.account_id = "credited", account.id
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.credited",
            object_type="bank_payment",
            object_id=row.id,
            account_id=account.id,
            at=now,
            before={"status": "unmatched"},
            after={"account": account.id, "amount": str(row.amount), "doc_number": row.doc_number},
        )
    return row


def dismiss(
    session: Session, *, bank_payment_id: int, reason: str, actor: str, clock: Clock
) -> BankPayment:
    """An operator sets an unmatched payment aside as not ours (paid to us by mistake, to be
    returned by the bank; for something Podpiska does not bill), saying why. Nothing but the
    payment's status, reason, who and when (and an audit row): no payment, no posting.
    `reopen` takes it back to the queue."""
    text = reason.strip()
    if not text:
        raise DomainError("bank_payment_reason_required", id=bank_payment_id)
    if len(text) > REASON_MAX:
        raise DomainError("bank_payment_reason_too_long", max=REASON_MAX, length=len(text))
    with session.begin():
        row = _unmatched(session, bank_payment_id)
        now = clock.now()
        row.status, row.reason = "dismissed", text
        row.resolved_by, row.resolved_at = actor, now
        audit(
            session,
            actor=actor,
            action="bank_payment.dismissed",
            object_type="bank_payment",
            object_id=row.id,
            account_id=None,
            at=now,
            before={"status": "unmatched"},
            after={"reason": text, "amount": str(row.amount), "doc_number": row.doc_number},
        )
    return row


def reopen(session: Session, *, bank_payment_id: int, actor: str, clock: Clock) -> BankPayment:
    """Take a payment set aside as not ours back to the review queue (a mistaken click).
    Only a dismissed one: a resolved or credited payment has moved money."""
    with session.begin():
        row = get_or_404(session, BankPayment, bank_payment_id, "bank payment", lock=True)
        if row.status != "dismissed":
            raise DomainError("bank_payment_not_dismissed", id=bank_payment_id, status=row.status)
        now = clock.now()
        before = {"status": row.status, "reason": row.reason, "by": row.resolved_by}
        row.status, row.reason, row.resolved_by, row.resolved_at = "unmatched", None, None, None
        audit(
            session,
            actor=actor,
            action="bank_payment.reopened",
            object_type="bank_payment",
            object_id=row.id,
            account_id=None,
            at=now,
            before=before,
            after={"status": "unmatched"},
        )
    return row


def expected_activation(paid_on: date) -> tuple[date, date]:
    """When a bank transfer sent on `paid_on` should activate the license: 1 to 3 business
    days later, by the Russian production calendar (holidays and moved working days)."""
    import holidays

    calendar = holidays.country_holidays("RU", years=range(paid_on.year, paid_on.year + 2))

    def business_days_after(day: date, count: int) -> date:
        while count:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in calendar:
                count -= 1
        return day

    return business_days_after(paid_on, 1), business_days_after(paid_on, 3)
