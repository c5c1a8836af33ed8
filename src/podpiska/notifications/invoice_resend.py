"""Use-case: send an invoice's e-mail again — the same e-mail `invoice.issued` made, with
the invoice's PDF, to the account's e-mail or to an address the operator gives.

A new outbox event of type `invoice.resent` (the issuing's payload and the address) is
written already fanned out, with its one e-mail delivery: the worker builds and sends the
`invoice.issued` e-mail with the invoice's PDF (`texts`, `EVENT_DOCUMENTS` map the type to
them), and no webhook fires. Its own type: a consumer of the events feed reading
`invoice.issued` sees each invoice issued once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from podpiska.accounts.accounts import checked_email
from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.records import audit, get_or_404, not_found
from podpiska.invoicing.models import Invoice
from podpiska.notifications.mail_again import address_of, queue_one_email
from podpiska.notifications.models import Delivery
from podpiska.ports import Clock

RESENT = "invoice.resent"  # core.domain.events.FEED_ONLY_TYPES: feed and e-mail, no webhook


def resend_invoice(
    session: Session,
    *,
    invoice_id: int,
    email: str | None = None,
    account_id: int | None = None,
    actor: str,
    clock: Clock,
) -> Delivery:
    """Queue the invoice's e-mail again (to `email`, else the account's): the delivery.
    409 `invoice_void_not_sent` for a void invoice; a bad address is 422."""
    address = checked_email(email.strip()) if email and email.strip() else None
    with session.begin():
        invoice = get_or_404(session, Invoice, invoice_id, "invoice")
        if account_id is not None and invoice.account_id != account_id:
            raise not_found("invoice", invoice_id)
        if invoice.status == "void":
            raise DomainError("invoice_void_not_sent", number=invoice.number)
        account = get_or_404(session, Account, invoice.account_id, "account")
        target = address_of(account, address)
        now = clock.now()
        delivery = queue_one_email(
            session,
            event_type=RESENT,
            account_id=invoice.account_id,
            subscription_id=invoice.subscription_id,
            occurred_on=today_for(session, account, clock),
            payload={
                "invoice_id": invoice.id,
                "number": invoice.number,
                "total": invoice.total,
                "due_on": invoice.due_on,
                "kind": invoice.kind,
            },
            target=target,
            now=now,
        )
        audit(
            session,
            actor=actor,
            action="invoice.resent",
            object_type="invoice",
            object_id=invoice.id,
            account_id=invoice.account_id,
            at=now,
            after={"number": invoice.number, "email": target, "delivery_id": delivery.id},
        )
    return delivery
