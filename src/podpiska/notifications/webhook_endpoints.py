"""Use-cases: the vendor's webhook endpoints, and the event types each one receives (none
chosen: every event)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from urllib.parse import urlparse

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.events import check_event_types
from podpiska.core.records import audit, get_or_404
from podpiska.notifications.models import WebhookEndpoint, WebhookEndpointEvent
from podpiska.ports import Clock


def add_endpoint(
    session: Session,
    *,
    url: str,
    secret: str | None = None,
    event_types: Sequence[str] = (),
    actor: str,
    clock: Clock,
) -> WebhookEndpoint:
    """A new active endpoint receiving `event_types` (exact types or `area.*`; none: every
    event). Its secret is generated unless given."""
    chosen = check_event_types(event_types)
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise DomainError(
            "invalid_field",
            field="url",
            problem_ru="нужен адрес http:// или https://",
            problem_en="an http:// or https:// URL is needed",
        )
    with session.begin():
        endpoint = WebhookEndpoint(
            url=url,
            secret=secret or "whsec_" + secrets.token_urlsafe(24),
            active=True,
            created_at=clock.now(),
        )
        session.add(endpoint)
        session.flush()
        _write_event_types(session, endpoint.id, chosen)
        audit(
            session,
            actor=actor,
            action="webhook_endpoint.added",
            object_type="webhook_endpoint",
            object_id=endpoint.id,
            account_id=None,
            at=clock.now(),
            after={"url": url, "event_types": list(chosen)},
        )
    return endpoint


def set_endpoint_active(
    session: Session, *, endpoint_id: int, active: bool, actor: str, clock: Clock
) -> WebhookEndpoint:
    with session.begin():
        endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, "webhook endpoint", lock=True)
        if endpoint.active != active:
            endpoint.active = active
            audit(
                session,
                actor=actor,
                action="webhook_endpoint." + ("enabled" if active else "disabled"),
                object_type="webhook_endpoint",
                object_id=endpoint.id,
                account_id=None,
                at=clock.now(),
                after={"active": active},
            )
    return endpoint


def set_endpoint_event_types(
    session: Session, *, endpoint_id: int, event_types: Sequence[str], actor: str, clock: Clock
) -> WebhookEndpoint:
    """Replace the event types the endpoint receives (empty: every event). Events fanned
    out after the commit follow the new choice; deliveries already made stay."""
    chosen = check_event_types(event_types)
    with session.begin():
        endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, "webhook endpoint", lock=True)
        before = _read_event_types(session, [endpoint.id]).get(endpoint.id, ())
        if set(before) != set(chosen):
            session.execute(
                delete(WebhookEndpointEvent).where(WebhookEndpointEvent.endpoint_id == endpoint.id)
            )
            _write_event_types(session, endpoint.id, chosen)
            audit(
                session,
                actor=actor,
                action="webhook_endpoint.events_changed",
                object_type="webhook_endpoint",
                object_id=endpoint.id,
                account_id=None,
                at=clock.now(),
                before={"event_types": list(before)},
                after={"event_types": sorted(chosen)},
            )
    return endpoint


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    with session.begin():
        return get_or_404(session, WebhookEndpoint, endpoint_id, "webhook endpoint")


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    with session.begin():
        return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def endpoint_event_types(
    session: Session, endpoint_ids: Iterable[int]
) -> dict[int, tuple[str, ...]]:
    """The event types each endpoint receives, as chosen (absent or empty: every event)."""
    with session.begin():
        return _read_event_types(session, list(endpoint_ids))


def _read_event_types(session: Session, endpoint_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if endpoint_ids:
        rows = session.execute(
            select(WebhookEndpointEvent.endpoint_id, WebhookEndpointEvent.event_type)
            .where(WebhookEndpointEvent.endpoint_id.in_(endpoint_ids))
            .order_by(WebhookEndpointEvent.endpoint_id, WebhookEndpointEvent.event_type)
        )
        for endpoint_id, event_type in rows:
            found.setdefault(endpoint_id, []).append(event_type)
    return {key: tuple(value) for key, value in found.items()}


def _write_event_types(session: Session, endpoint_id: int, chosen: Sequence[str]) -> None:
    """Rows written with a bulk INSERT (no ORM objects: the same pair may come back after a
    delete in this session)."""
    if chosen:
        session.execute(
            insert(WebhookEndpointEvent),
            [{"endpoint_id": endpoint_id, "event_type": kind} for kind in chosen],
        )
