"""How much the worker still has to deliver (for metrics and the CLI)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podpiska.db.models import Delivery, OutboxEvent


def backlog(session: Session) -> dict[str, int]:
    with session.begin():
        events = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.fanned_out.is_(False))
        )
        by_status = dict(
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
    return {
        "events_waiting": int(events or 0),
        "deliveries_pending": int(by_status.get("pending", 0)),
        "deliveries_dead": int(by_status.get("dead", 0)),
    }
