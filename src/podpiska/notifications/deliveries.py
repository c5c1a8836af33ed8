"""Use-cases of the operators: the latest deliveries (optionally of one status), and
`redeliver`, which puts a dead or delivered delivery back in the queue and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.core.db.paging import Page, page
from podpiska.core.domain.errors import DomainError
from podpiska.core.models import OutboxEvent
from podpiska.core.records import audit, not_found
from podpiska.notifications.models import Delivery
from podpiska.notifications.retries import PENDING, STATUSES
from podpiska.ports import Clock


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery as the CLI and the API show it."""

    id: int
    event_id: int
    event_type: str
    account_id: int | None
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "account_id": self.account_id,
            "channel": self.channel,
            "target": self.target,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "created_at": self.created_at.isoformat(),
        }


def redeliver(session: Session, *, delivery_id: int, actor: str, clock: Clock) -> DeliveryView:
    """Put a dead or delivered delivery back in the queue, due now, and audit it.

    The retry window counts from the delivery's creation, so a redelivered delivery older
    than three days gets one attempt: if that fails it is dead again, with the new error.
    A pending delivery is left as it is.
    """
    now = clock.now()
    with session.begin():
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:
            raise not_found("delivery", delivery_id)
        event = session.get_one(OutboxEvent, delivery.event_id)
        if delivery.status != PENDING:
            before = _audit_state(delivery)
            delivery.status = PENDING
            delivery.next_attempt_at = now
            delivery.delivered_at = None
            audit(
                session,
                actor=actor,
                action="delivery.redeliver",
                object_type="delivery",
                object_id=delivery.id,
                account_id=event.account_id,
                at=now,
                before=before,
                after=_audit_state(delivery),
            )
        session.flush()
        return _view(delivery, event)


def _audit_state(delivery: Delivery) -> dict[str, Any]:
    return {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


def list_deliveries(
    session: Session, *, status: str | None = None, after: int = 0, limit: int = 50
) -> Page[DeliveryView]:
    """A page of deliveries, newest first (`after`: the last id seen), optionally of one
    status (the index of (status, id) serves the rare ones: the dead)."""
    if status is not None and status not in STATUSES:
        raise DomainError(
            "invalid_field",
            field="status",
            problem_ru=f"допустимо {', '.join(STATUSES)}, указано «{status}»",
            problem_en=f"allowed: {', '.join(STATUSES)}; got '{status}'",
        )
    query = select(Delivery)
    if status is not None:
        query = query.where(Delivery.status == status)
    with session.begin():
        found: Page[Delivery] = page(
            session, query, key=Delivery.id, after=after, limit=limit, descending=True
        )
        ids = {delivery.event_id for delivery in found.rows}
        read = select(OutboxEvent).where(OutboxEvent.id.in_(ids))
        events = {event.id: event for event in session.scalars(read)}
        return found.map(lambda delivery: _view(delivery, events[delivery.event_id]))


def _view(delivery: Delivery, event: OutboxEvent) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=event.type,
        account_id=event.account_id,
        channel=delivery.channel,
        target=delivery.target,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


def of_events(session: Session, *, event_ids: list[int]) -> dict[int, list[DeliveryView]]:
    """The e-mails and webhooks each of these events went out as (the back office's account
    timeline), in the order they were made."""
    found: dict[int, list[DeliveryView]] = {}
    if not event_ids:
        return found
    with session.begin():
        for delivery, event in session.execute(
            select(Delivery, OutboxEvent)
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .where(Delivery.event_id.in_(event_ids))
            .order_by(Delivery.id)
        ):
            found.setdefault(delivery.event_id, []).append(_view(delivery, event))
    return found
