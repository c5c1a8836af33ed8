"""Use-cases: the vendor's webhook endpoints."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from podpiska.db.models import WebhookEndpoint
from podpiska.domain.errors import DomainError
from podpiska.ports import Clock
from podpiska.services.common import audit, get_or_404


def add_endpoint(
    session: Session, *, url: str, secret: str | None = None, actor: str, clock: Clock
) -> WebhookEndpoint:
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
        audit(
            session,
            actor=actor,
            action="webhook_endpoint.added",
            object_type="webhook_endpoint",
            object_id=endpoint.id,
            account_id=None,
            at=clock.now(),
            after={"url": url},
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


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    with session.begin():
        return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
