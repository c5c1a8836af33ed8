"""What a resend writes, for any document sent again by e-mail (`invoice_resend`,
`document_resend`): the account's address or the one given, and a feed-only outbox event
written already fanned out with its one e-mail delivery (no webhook, no second e-mail; the
worker builds the e-mail and attaches the PDF the event's type and payload name)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from podpiska.accounts.models import Account
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import OutboxEvent
from podpiska.core.records import jsonable
from podpiska.notifications.fanout import EMAIL
from podpiska.notifications.models import Delivery
from podpiska.notifications.retries import PENDING


def address_of(account: Account, given: str | None) -> str:
    """The address given (checked by the caller), else the account's; 422 when neither."""
    target = given or account.admin_email
    if not target:
        raise DomainError(
            "invalid_field",
            field="email",
            problem_ru="у аккаунта нет e-mail: укажите адрес",
            problem_en="the account has no e-mail: give an address",
        )
    return target


def queue_one_email(
    session: Session,
    *,
    event_type: str,
    account_id: int,
    subscription_id: int | None,
    occurred_on: date,
    payload: dict[str, Any],
    target: str,
    now: datetime,
) -> Delivery:
    """The event (payload with `email`: the target) and its one e-mail delivery, due now,
    in the caller's transaction."""
    event = OutboxEvent(
        type=event_type,
        account_id=account_id,
        subscription_id=subscription_id,
        occurred_on=occurred_on,
        payload=jsonable({**payload, "email": target}),
        created_at=now,
        fanned_out=True,  # its one delivery is below: no webhook, no second e-mail
    )
    session.add(event)
    session.flush()
    delivery = Delivery(
        event_id=event.id,
        channel=EMAIL,
        target=target,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery
