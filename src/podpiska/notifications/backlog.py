"""How much the worker still has to deliver, and what it gave up on (metrics, the CLI)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.core.models import OutboxEvent
from podpiska.notifications.models import Delivery


def backlog(session: Session) -> dict[str, int]:
    """Events not yet fanned out, and deliveries pending or dead by channel:
    {"events_waiting": 3, "email_pending": 5, "webhook_dead": 1, ...}."""
    with session.begin():
        events = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.fanned_out.is_(False))
        )
        rows = session.execute(
            select(Delivery.channel, Delivery.status, func.count())
            .where(Delivery.status.in_(("pending", "dead")))
            .group_by(Delivery.channel, Delivery.status)
        ).all()
    counts = {
        f"{channel}_{status}": 0
        for channel in ("email", "webhook")
        for status in ("pending", "dead")
    }
    counts["events_waiting"] = int(events or 0)
    for channel, status, count in rows:
        counts[f"{channel}_{status}"] = int(count)
    return counts
