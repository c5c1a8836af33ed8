"""Read-only views of an account's money for people (the payments area reads both the
invoices and the payments): its invoices, an invoice's payments,
its payments. Each function reads in one transaction and returns detached rows. (The
license overview is `entitlements.overview`; the back office's search over accounts is
`backoffice.account_search`.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.db.session import read_only
from podpiska.core.records import get_or_404
from podpiska.invoicing.models import Invoice, Payment


def account_invoices(session: Session, *, account_id: int, limit: int = 100) -> list[Invoice]:
    """The account's invoices, newest first (drafts left out)."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account_id, Invoice.number.is_not(None))
                .order_by(Invoice.id.desc())
                .limit(limit)
            )
        )


def invoice_payments(session: Session, *, invoice_id: int) -> tuple[Invoice, list[Payment]]:
    """An invoice and what has gone towards it (payments, the account's credit used), oldest
    first (`not_found` for no such invoice)."""
    with session.begin():
        read_only(session)
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        found = session.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice_id, Payment.status == "succeeded")
            .order_by(Payment.id)
        )
        return invoice, list(found)


def account_payments(session: Session, *, account_id: int, limit: int = 100) -> list[Payment]:
    """The money received from the account, newest first."""
    with session.begin():
        read_only(session)
        get_or_404(session, Account, account_id, "account")
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.account_id == account_id)
                .order_by(Payment.id.desc())
                .limit(limit)
            )
        )


# --- the back office's list of accounts -------------------------------------------------
