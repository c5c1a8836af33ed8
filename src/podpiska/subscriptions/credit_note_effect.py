"""What a credit note would do to the license, read before it is issued (the back office's
preview): the same decision `subscriptions.credit_notes.issue_credit_note` takes — the term
running today ends with the note, or nothing ends, or the note is refused with its reason
(`credit_note_change_in_force`, `credit_note_term_ahead`). Nothing is written or locked."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.clocks import now_for
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import Invoice
from podpiska.ports import Clock
from podpiska.subscriptions.credit_notes import _takes_back_running_term
from podpiska.subscriptions.models import Subscription


def credit_note_ends_term(session: Session, *, invoice_id: int, clock: Clock) -> date | None:
    """Use-case (read): the last paid day of the term a note on the invoice would end, None
    when it ends none; a DomainError when the note would be refused for the term."""
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        subscription = get_or_404(session, Subscription, invoice.subscription_id, "subscription")
        account = get_or_404(session, Account, invoice.account_id, "account")
        today = now_for(session, account, clock).astimezone(ZoneInfo(account.timezone)).date()
        if not _takes_back_running_term(session, invoice, subscription, today):
            return None
        assert subscription.ends_on is not None  # a running term has its end
        return subscription.ends_on - timedelta(days=1)
