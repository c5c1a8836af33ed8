"""Money that stays put: the double-entry journal, the customer's credit, credit notes,
refunds, and the check that they all agree.

Ledgers (debit +, credit −): `receivable` (what customers owe), `deferred_revenue` (revenue
to recognise: invoiced, not yet earned), `cash` (money received), `customer_credit` (money
owed to customers). Postings, each a transaction summing to zero:

| what | debit | credit |
|---|---|---|
| invoice issued | receivable | deferred_revenue |
| invoice voided (unpaid) | deferred_revenue | receivable |
| payment received | cash | receivable |
| credit given (a change worth less) | deferred_revenue | customer_credit |
| overpayment, bank payment put on credit (prepayment) | cash | customer_credit |
| credit used on an invoice | customer_credit | receivable |
| refund of credit | customer_credit | cash |
| credit note on a paid invoice | deferred_revenue | customer_credit |
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.core.clocks import now_for
from podpiska.core.db.models import (
    Account,
    BankPayment,
    CreditEntry,
    CreditNote,
    Invoice,
    InvoiceLine,
    JournalEntry,
    LicenseLedgerEntry,
    Payment,
    Refund,
    Subscription,
    SubscriptionChange,
)
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.money import ZERO, is_money
from podpiska.core.records import audit, emit, get_or_404, snapshot
from podpiska.invoicing.numbers import format_number, take_numbers
from podpiska.ports import Clock
from podpiska.subscriptions.domain.lifecycle import Event, Status, transition

RECEIVABLE = "receivable"
DEFERRED = "deferred_revenue"
CASH = "cash"
CREDIT = "customer_credit"
CREDIT_NOTE_SERIES = "credit_note"
TEST_CREDIT_NOTE_SERIES = "test_credit_note"  # accounts on a test clock: never the real series


def post(
    session: Session,
    *,
    account_id: int,
    debit: str,
    credit: str,
    amount: Decimal,
    kind: str,
    document: str,
    at: datetime,
) -> None:
    """One balanced transaction of two rows, in the caller's transaction."""
    if amount == ZERO:
        return
    transaction = uuid.uuid4().hex
    session.add_all(
        [
            JournalEntry(
                transaction=transaction,
                ledger=debit,
                customer_account_id=account_id,
                amount=amount,
                kind=kind,
                document=document,
                created_at=at,
            ),
            JournalEntry(
                transaction=transaction,
                ledger=credit,
                customer_account_id=account_id,
                amount=-amount,
                kind=kind,
                document=document,
                created_at=at,
            ),
        ]
    )


def journal_rows(
    account_id: int,
    debit: str,
    credit: str,
    amount: Decimal,
    kind: str,
    document: str,
    at: datetime,
) -> list[dict[str, object]]:
    """The same posting as rows, for bulk writers (the daily run)."""
    transaction = uuid.uuid4().hex
    common = {"transaction": transaction, "customer_account_id": account_id, "kind": kind,
              "document": document, "created_at": at}  # fmt: skip
    return [
        {**common, "ledger": debit, "amount": amount},
        {**common, "ledger": credit, "amount": -amount},
    ]


def credit_balance(session: Session, account_id: int) -> Decimal:
    """What the account has to its credit (in the caller's transaction)."""
    value = session.scalar(
        select(func.sum(CreditEntry.amount)).where(CreditEntry.account_id == account_id)
    )
    return value if isinstance(value, Decimal) else ZERO


def account_credit(session: Session, account_id: int) -> Decimal:
    """Use-case: the account's credit balance."""
    from podpiska.core.db.models import Account

    with session.begin():
        get_or_404(session, Account, account_id, "account")
        return credit_balance(session, account_id)


def apply_credit(session: Session, invoice: Invoice, *, actor: str, at: datetime) -> Decimal:
    """Use the account's credit on a just-issued invoice, up to what is due; returns the
    amount used (recorded as a payment of method `credit`). In the caller's transaction."""
    available = credit_balance(session, invoice.account_id)
    due = invoice.total - invoice.amount_paid
    used = min(available, due)
    if used <= ZERO:
        return ZERO
    session.add(
        CreditEntry(
            account_id=invoice.account_id,
            amount=-used,
            reason=f"used on invoice {invoice.number}",
            invoice_id=invoice.id,
            created_at=at,
            actor=actor,
        )
    )
    payment = Payment(
        invoice_id=invoice.id,
        account_id=invoice.account_id,
        method="credit",
        amount=used,
        status="succeeded",
        external_id=None,
        received_on=invoice.issued_on or at.date(),
        created_at=at,
    )
    session.add(payment)
    invoice.amount_paid = invoice.amount_paid + used
    post(
        session,
        account_id=invoice.account_id,
        debit=CREDIT,
        credit=RECEIVABLE,
        amount=used,
        kind="credit_use",
        document=f"invoice:{invoice.id}",
        at=at,
    )
    audit(
        session,
        actor=actor,
        action="credit.used",
        object_type="invoice",
        object_id=invoice.id,
        account_id=invoice.account_id,
        at=at,
        after={"amount": str(used), "invoice": invoice.number},
    )
    return used


def grant_credit(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    actor: str,
    at: datetime,
    change_id: int | None = None,
    invoice_id: int | None = None,
    from_ledger: str = DEFERRED,
    document: str | None = None,
) -> None:
    """Money owed to the customer. In the caller's transaction. `document`: what the
    posting refers to when neither a change nor an invoice (a bank payment put on the
    account's credit: `bank_payment:ID`, from `cash`)."""
    session.add(
        CreditEntry(
            account_id=account_id,
            amount=amount,
            reason=reason,
            change_id=change_id,
            invoice_id=invoice_id,
            created_at=at,
            actor=actor,
        )
    )
    post(
        session,
        account_id=account_id,
        debit=from_ledger,
        credit=CREDIT,
        amount=amount,
        kind="credit_grant",
        document=document or (f"change:{change_id}" if change_id else f"invoice:{invoice_id}"),
        at=at,
    )


def refund_credit(
    session: Session, *, account_id: int, amount: Decimal, reason: str, actor: str, clock: Clock
) -> Refund:
    """A refund of the account's credit, on request: recorded now, sent by the gateway."""
    if not isinstance(amount, Decimal) or not is_money(amount) or amount <= ZERO:
        raise DomainError("invalid_amount", amount=str(amount))
    with session.begin():
        get_or_404(session, Account, account_id, "account", lock=True)
        available = credit_balance(session, account_id)
        if amount > available:
            raise DomainError("refund_exceeds_credit", amount=str(amount), available=str(available))
        return request_refund(
            session,
            account_id=account_id,
            amount=amount,
            reason=reason,
            actor=actor,
            at=clock.now(),
        )


def request_refund(
    session: Session,
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    actor: str,
    at: datetime,
    payment_id: int | None = None,
    gateway: str | None = None,
) -> Refund:
    """A refund out of the account's credit, in the caller's transaction: the credit goes
    down now, the worker sends the money (to `payment_id` when given, else to the newest
    gateway payment with enough left)."""
    refund = Refund(
        account_id=account_id,
        amount=amount,
        status="requested",
        reason=reason[:500],
        payment_id=payment_id,
        gateway=gateway,
        created_at=at,
        actor=actor,
    )
    session.add(refund)
    session.flush()
    session.add(
        CreditEntry(
            account_id=account_id,
            amount=-amount,
            reason=f"refund {refund.id}",
            created_at=at,
            actor=actor,
        )
    )
    post(
        session,
        account_id=account_id,
        debit=CREDIT,
        credit=CASH,
        amount=amount,
        kind="refund",
        document=f"refund:{refund.id}",
        at=at,
    )
    audit(
        session,
        actor=actor,
        action="refund.requested",
        object_type="refund",
        object_id=refund.id,
        account_id=account_id,
        at=at,
        after={
            "amount": str(amount),
            "reason": reason,
            **({"payment_id": payment_id} if payment_id is not None else {}),
        },
    )
    emit(
        session,
        "refund.requested",
        account_id=account_id,
        subscription_id=None,
        occurred_on=at.date(),
        at=at,
        refund_id=refund.id,
        amount=amount,
    )
    return refund


def issue_credit_note(
    session: Session, *, invoice_id: int, reason: str, actor: str, clock: Clock
) -> CreditNote:
    """Correct a paid invoice: its lines negated in a credit note (numbered in its own
    gapless series), the money to the customer's credit. The invoice itself never changes;
    an unpaid one is voided instead.

    The note is dated and numbered on the account's clock: its time (a test clock's, for an
    account on one), the year of its day in the account's timezone, and for an account on a
    test clock its own `TEST-CN-` series, as its invoices are `TEST-`."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        # One lock order everywhere: the subscription, then its invoice.
        subscription = (
            get_or_404(session, Subscription, invoice.subscription_id, "subscription", lock=True)
            if invoice.subscription_id is not None
            else None
        )
        invoice = get_or_404(session, Invoice, invoice_id, "invoice", lock=True)
        if invoice.status != "paid":
            raise DomainError(
                "credit_note_not_allowed", number=invoice.number, status=invoice.status
            )
        already = session.scalar(
            select(func.count()).select_from(CreditNote).where(CreditNote.invoice_id == invoice_id)
        )
        if already:
            raise DomainError("credit_note_exists", number=invoice.number)
        account = get_or_404(session, Account, invoice.account_id, "account")
        now = now_for(session, account, clock)
        today = now.astimezone(ZoneInfo(account.timezone)).date()
        year = today.year
        ends_term = subscription is not None and _takes_back_running_term(
            session, invoice, subscription, today
        )
        test = account.test_clock_id is not None
        series = TEST_CREDIT_NOTE_SERIES if test else CREDIT_NOTE_SERIES
        number = ("TEST-CN-" if test else "CN-") + format_number(
            year, take_numbers(session, series, year)
        )
        lines = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        ).all()
        note = CreditNote(
            number=number,
            invoice_id=invoice_id,
            account_id=invoice.account_id,
            total=-invoice.total,
            reason=reason,
            lines=[
                {
                    "position": line.position,
                    "code": line.code,
                    "description": line.description,
                    "amount": str(-line.amount),
                    "refers_to": f"{invoice.number}/{line.position}",
                }
                for line in lines
            ],
            created_at=now,
            actor=actor,
        )
        session.add(note)
        session.flush()
        grant_credit(
            session,
            account_id=invoice.account_id,
            amount=invoice.total,
            reason=f"credit note {number}",
            actor=actor,
            at=now,
            invoice_id=invoice_id,
        )
        audit(
            session,
            actor=actor,
            action="credit_note.issued",
            object_type="credit_note",
            object_id=note.id,
            account_id=invoice.account_id,
            at=now,
            after={"number": number, "invoice": invoice.number, "total": str(note.total)},
        )
        emit(
            session,
            "credit_note.issued",
            account_id=invoice.account_id,
            subscription_id=invoice.subscription_id,
            occurred_on=today,
            at=now,
            credit_note_id=note.id,
            number=number,
            invoice_number=invoice.number,
            total=note.total,
        )
        if ends_term:
            assert subscription is not None
            _end_credited_term(session, subscription, note, today=today, now=now, actor=actor)
    return note


_TERM_EVENTS = ("activated", "renewed", "restored")  # the license ledger's paid terms


def _takes_back_running_term(
    session: Session, invoice: Invoice, subscription: Subscription, today: date
) -> bool:
    """Whether a credit note on `invoice` takes back the money of the term running today
    (then it ends that term), refused when it cannot (a DomainError), or takes back money of
    a term already over (nothing to end). See docs/changes.md, "Credit notes"."""
    if subscription.status != Status.ACTIVE.value or subscription.ends_on is None:
        return False  # no paid term runs: grace, suspended, cancelled
    if subscription.ends_on <= today:
        return False
    if invoice.kind == "change":
        change = session.scalars(
            select(SubscriptionChange).where(SubscriptionChange.invoice_id == invoice.id)
        ).first()
        in_force = (
            change is not None
            and change.status == "applied"
            and subscription.starts_on is not None
            and change.effective_on >= subscription.starts_on
        )
        if in_force:
            raise DomainError(
                "credit_note_change_in_force",
                number=invoice.number,
                paid_through=subscription.ends_on - timedelta(days=1),
            )
        return False
    if invoice.kind not in ("order", "renewal"):
        return False
    terms = session.execute(
        select(LicenseLedgerEntry.id, LicenseLedgerEntry.invoice_id, LicenseLedgerEntry.starts_on)
        .where(
            LicenseLedgerEntry.subscription_id == subscription.id,
            LicenseLedgerEntry.event.in_(_TERM_EVENTS),
        )
        .order_by(LicenseLedgerEntry.id)
    ).all()
    mine = [n for n, row in enumerate(terms) if row.invoice_id == invoice.id]
    if not mine:
        return False  # the invoice never started a term (e.g. a renewal paid after a cancel)
    later = terms[mine[-1] + 1 :]
    ahead = subscription.starts_on is not None and subscription.starts_on > today
    if later:
        if ahead and all(row.starts_on is None or row.starts_on > today for row in later):
            # This invoice's term runs today and the next one is paid ahead of it.
            raise DomainError(
                "credit_note_term_ahead", number=invoice.number, starts_on=subscription.starts_on
            )
        return False  # a later term replaced this one: its money is for days gone by
    if ahead:
        # The term this invoice paid has not started (a renewal paid early); the term
        # running today was paid by another invoice.
        raise DomainError(
            "credit_note_term_ahead", number=invoice.number, starts_on=subscription.starts_on
        )
    return True


def _end_credited_term(
    session: Session,
    subscription: Subscription,
    note: CreditNote,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """The running term's money was taken back: its access ends on the note's day (the term
    is cut at `today`, the subscription cancelled, autopay off, an open renewal voided)."""
    from podpiska.subscriptions.billing import _SUB_FIELDS, _void_open_renewal, ledger

    before = snapshot(subscription, *_SUB_FIELDS)
    transition(Status(subscription.status), Event.CREDITED)
    _void_open_renewal(session, subscription, today, now, actor)
    subscription.status = Status.CANCELLED.value
    subscription.ends_on = max(today, subscription.starts_on or today)
    subscription.autopay = False
    subscription.cancel_at_period_end = False
    subscription.last_reminder_days = None
    subscription.updated_at = now
    ledger(session, subscription, "cancelled", effective_on=today, now=now)
    audit(
        session,
        actor=actor,
        action="subscription.cancelled",
        object_type="subscription",
        object_id=subscription.id,
        account_id=subscription.account_id,
        at=now,
        before=before,
        after=snapshot(subscription, *_SUB_FIELDS),
    )
    emit(
        session,
        "subscription.cancelled",
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        occurred_on=today,
        at=now,
        reason=f"credit note {note.number}",
        credit_note_id=note.id,
        paid_through=subscription.ends_on - timedelta(days=1),
    )


@dataclass
class LedgerReport:
    transactions: int = 0
    unbalanced: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unbalanced and not self.mismatches


def verify(session: Session) -> LedgerReport:
    """Prove, over the whole database, that every transaction balances and that each
    account's receivable equals its open invoices, its customer credit its credit balance,
    and its cash its payments (and bank payments put on its credit) less refunds."""
    report = LedgerReport()
    with session.begin():
        report.transactions = (
            session.scalar(select(func.count(func.distinct(JournalEntry.transaction)))) or 0
        )
        for transaction, total in session.execute(
            select(JournalEntry.transaction, func.sum(JournalEntry.amount))
            .group_by(JournalEntry.transaction)
            .having(func.sum(JournalEntry.amount) != ZERO)
        ):
            report.unbalanced.append(f"transaction {transaction} sums to {total}")
        ledgers: dict[tuple[int, str], Decimal] = {
            (account, ledger): value or ZERO
            for account, ledger, value in session.execute(
                select(JournalEntry.customer_account_id, JournalEntry.ledger,
                       func.sum(JournalEntry.amount))
                .group_by(JournalEntry.customer_account_id, JournalEntry.ledger)
            )
        }  # fmt: skip
        open_due = {
            account: (total or ZERO) - (paid or ZERO)
            for account, total, paid in session.execute(
                select(Invoice.account_id, func.sum(Invoice.total), func.sum(Invoice.amount_paid))
                .where(Invoice.status == "issued")
                .group_by(Invoice.account_id)
            )
        }
        credit = _by_account(
            session.execute(
                select(CreditEntry.account_id, func.sum(CreditEntry.amount)).group_by(
                    CreditEntry.account_id
                )
            )
        )
        paid = _by_account(
            session.execute(
                select(Payment.account_id, func.sum(Payment.amount))
                .where(Payment.method != "credit")
                .group_by(Payment.account_id)
            )
        )
        refunded = _by_account(
            session.execute(
                select(Refund.account_id, func.sum(Refund.amount))
                .where(Refund.status != "failed")  # a failed refund went back to credit
                .group_by(Refund.account_id)
            )
        )
        prepaid = _by_account(  # bank payments put on an account's credit (no invoice)
            session.execute(
                select(BankPayment.account_id, func.sum(BankPayment.amount))
                .where(BankPayment.status == "credited", BankPayment.account_id.is_not(None))
                .group_by(BankPayment.account_id)
            )
        )
    accounts = {a for a, _ in ledgers} | set(open_due) | set(credit) | set(paid) | set(prepaid)
    for account in sorted(accounts):
        checks = (
            ("receivable", ledgers.get((account, RECEIVABLE), ZERO), open_due.get(account, ZERO)),
            ("customer credit", -ledgers.get((account, CREDIT), ZERO), credit.get(account, ZERO)),
            (
                "cash",
                ledgers.get((account, CASH), ZERO),
                paid.get(account, ZERO) + prepaid.get(account, ZERO) - refunded.get(account, ZERO),
            ),
        )
        for what, booked, actual in checks:
            if booked != actual:
                report.mismatches.append(
                    f"account {account}: {what} in the journal {booked}, in the documents {actual}"
                )
    return report


def _by_account(rows: Iterable[tuple[int, Decimal | None]]) -> dict[int, Decimal]:
    return {account: value or ZERO for account, value in rows}
