"""Use-case: send a closing document again by e-mail — an act, a УПД, its счёт-фактура, an
advance счёт-фактура, a УКД, a credit note or an исправление — with its PDF, to the
account's e-mail or to an address the operator gives.

Modelled on `invoice_resend`: a new outbox event of type `document.resent` (the kind, the
source, the number and the address) is written already fanned out, with its one e-mail
delivery; the worker builds the e-mail (`texts`) and attaches the document's PDF
(`invoicing.documents.document_for_event` reads the kind and the source from the
payload). No webhook fires (`core.domain.events.FEED_ONLY_TYPES`). An invoice is sent
again by `invoice_resend` (its own e-mail, `invoice.resent`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from podpiska.accounts.accounts import checked_email
from podpiska.accounts.models import Account
from podpiska.core.clocks import today_for
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.scope import Scope
from podpiska.core.records import audit, get_or_404
from podpiska.invoicing.document_pdfs import ensure_document
from podpiska.invoicing.documents import DOCUMENT_RESENT, INVOICE, KINDS
from podpiska.invoicing.models import Document
from podpiska.notifications.mail_again import address_of, queue_one_email
from podpiska.notifications.models import Delivery
from podpiska.ports import Clock

RESENT = DOCUMENT_RESENT  # core.domain.events.FEED_ONLY_TYPES: feed and e-mail, no webhook
# The kinds sent again here: every document but the invoice (`invoice_resend`).
RESENT_KINDS = tuple(kind for kind in KINDS if kind != INVOICE)


@dataclass(frozen=True, slots=True)
class Resent:
    """The document sent again and the e-mail queued for it."""

    document: Document
    delivery: Delivery


def resend_document(
    session: Session,
    *,
    kind: str,
    source_id: int,
    email: str | None = None,
    scope: Scope,
    actor: str,
    clock: Clock,
) -> Resent:
    """Queue the document's e-mail with its PDF (to `email`, else the account's): the
    document and its delivery. A source the caller's `scope` does not see is not found
    (404); one without such a document (an act of an unpaid invoice) is 404
    `document_not_found` with the reason; an unknown kind or a bad address is 422."""
    if kind not in RESENT_KINDS:
        raise DomainError(
            "invalid_field",
            field="kind",
            problem_ru=f"допустимо {', '.join(RESENT_KINDS)} (счёт отправляется повторно "
            f"как счёт), указано «{kind[:40]}»",
            problem_en=f"allowed: {', '.join(RESENT_KINDS)} (an invoice is resent as an "
            f"invoice); got '{kind[:40]}'",
        )
    address = checked_email(email.strip()) if email and email.strip() else None
    with session.begin():
        now = clock.now()
        document = ensure_document(session, kind=kind, source_id=source_id, scope=scope, now=now)
        account = get_or_404(session, Account, document.account_id, "account")
        target = address_of(account, address)
        delivery = queue_one_email(
            session,
            event_type=RESENT,
            account_id=document.account_id,
            subscription_id=None,
            occurred_on=today_for(session, account, clock),
            payload={
                "document_id": document.id,
                "kind": kind,
                "source_id": source_id,
                "number": document.number,
                "issued_on": document.issued_on,
            },
            target=target,
            now=now,
        )
        audit(
            session,
            actor=actor,
            action=RESENT,
            object_type="document",
            object_id=document.id,
            account_id=document.account_id,
            at=now,
            after={
                "kind": kind,
                "number": document.number,
                "email": target,
                "delivery_id": delivery.id,
            },
        )
    return Resent(document, delivery)
