"""A credit note on a subscription's invoice: the note itself is invoicing's
(`invoicing.credit_notes`); here, what it does to the license. A note that takes back the
money of the term running today ends that term (cancelled, autopay off, an open renewal
voided), or is refused with its reason when it cannot; one on a term already over ends
nothing. See docs/changes.md, "Credit notes".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import now_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.states import Status
from podpiska.core.records import audit, emit, get_or_404, snapshot
from podpiska.invoicing.credit_notes import check_creditable, write_credit_note
from podpiska.invoicing.models import CreditNote, Invoice
from podpiska.ports import Clock
from podpiska.subscriptions.domain.lifecycle import Event, transition
from podpiska.subscriptions.models import LicenseLedgerEntry, Subscription, SubscriptionChange
from podpiska.subscriptions.records import SUB_FIELDS, ledger, void_open_renewal
from podpiska.subscriptions.settlement import lock_invoice


def issue_credit_note(
    session: Session, *, invoice_id: int, reason: str, actor: str, clock: Clock
) -> CreditNote:
    """Correct a paid invoice: its lines negated in a credit note, the money to the
    customer's credit; the running term it paid for ends with it.

    The note is dated and numbered on the account's clock: its time (a test clock's, for an
    account on one), the year of its day in the account's timezone, and for an account on a
    test clock its own `TEST-CN-` series, as its invoices are `TEST-`."""
    with session.begin():
        invoice, subscription = lock_invoice(session, invoice_id)
        check_creditable(session, invoice)
        account = get_or_404(session, Account, invoice.account_id, "account")
        now = now_for(session, account, clock)
        today = now.astimezone(ZoneInfo(account.timezone)).date()
        ends_term = _takes_back_running_term(session, invoice, subscription, today)
        note = write_credit_note(
            session,
            invoice,
            reason=reason,
            test=account.test_clock_id is not None,
            today=today,
            now=now,
            actor=actor,
        )
        if ends_term:
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
    before = snapshot(subscription, *SUB_FIELDS)
    transition(Status(subscription.status), Event.CREDITED)
    void_open_renewal(session, subscription, today, now, actor)
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
        after=snapshot(subscription, *SUB_FIELDS),
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
