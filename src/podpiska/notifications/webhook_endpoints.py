"""Use-cases: the vendor's webhook endpoints, and the event types each one receives (none
chosen: every event)."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from podpiska.core.db.paging import Page, page
from podpiska.core.domain.errors import DomainError
from podpiska.core.domain.events import check_event_types
from podpiska.core.records import audit, get_or_404
from podpiska.notifications.models import Delivery, WebhookEndpoint, WebhookEndpointEvent
from podpiska.notifications.retries import DEAD, PENDING
from podpiska.notifications.signatures import sign
from podpiska.ports import Clock, DeliveryFailed, WebhookRequest, WebhookSender

logger = logging.getLogger(__name__)


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


def page_endpoints(session: Session, *, after: int = 0, limit: int = 100) -> Page[WebhookEndpoint]:
    """The endpoints by id, a page at a time (with their secrets: the caller shows none)."""
    with session.begin():
        return page(
            session, select(WebhookEndpoint), key=WebhookEndpoint.id, after=after, limit=limit
        )


def delete_endpoint(session: Session, *, endpoint_id: int, actor: str, clock: Clock) -> int:
    """Delete the endpoint, as Stripe does: nothing more is sent to it. Its pending
    deliveries are given up at once (dead, "endpoint deleted"), so the worker never posts
    them; its delivery history stays readable (`podpiska deliveries`, the office). Answers
    how many pending deliveries were given up. Audited with the endpoint as it was."""
    now = clock.now()
    with session.begin():
        endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, "webhook endpoint", lock=True)
        chosen = _read_event_types(session, [endpoint.id]).get(endpoint.id, ())
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.channel == "webhook",
                Delivery.target == str(endpoint.id),
                Delivery.status == PENDING,
            )
            .values(status=DEAD, last_error=ENDPOINT_DELETED)
            .execution_options(synchronize_session=False)
        )
        given_up = int(getattr(result, "rowcount", 0) or 0)
        session.execute(
            delete(WebhookEndpointEvent).where(WebhookEndpointEvent.endpoint_id == endpoint.id)
        )
        audit(
            session,
            actor=actor,
            action="webhook_endpoint.deleted",
            object_type="webhook_endpoint",
            object_id=endpoint.id,
            account_id=None,
            at=now,
            before={
                "url": endpoint.url,
                "active": endpoint.active,
                "event_types": list(chosen),
            },
            after={"pending_deliveries_given_up": given_up},
        )
        session.delete(endpoint)
    return given_up


ENDPOINT_DELETED = "webhook endpoint deleted: nothing more is sent to it"
TEST_EVENT = "webhook.test"


@dataclass(frozen=True, slots=True)
class TestDelivery:
    """What a test delivery did: the endpoint's HTTP status (None: not reached), how long
    it took, and the error when it did not answer 2xx."""

    endpoint_id: int
    delivery: str
    delivered: bool
    status_code: int | None
    duration_ms: int
    error: str | None


def send_test_webhook(
    session: Session,
    *,
    endpoint_id: int,
    webhooks: WebhookSender,
    actor: str,
    clock: Clock,
    timeout_seconds: int = 10,
) -> TestDelivery:
    """A signed `webhook.test` event sent now to this endpoint only (even when it is
    switched off: the vendor is checking it), through the webhook sender port, with the
    headers and signature the worker's deliveries carry. Nothing is queued or retried; the
    attempt is audited. Read in one transaction, sent with none open, audited in a second."""
    with session.begin():
        endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, "webhook endpoint")
        url, secret = endpoint.url, endpoint.secret
    now = clock.now()
    delivery = "test_" + secrets.token_hex(8)
    document = {
        "id": None,
        "type": TEST_EVENT,
        "created_at": now.isoformat(),
        "account_id": None,
        "subscription_id": None,
        "data": {"endpoint_id": endpoint_id, "delivery": delivery},
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = int(now.timestamp())
    request = WebhookRequest(
        url=url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "Podpiska-Event": TEST_EVENT,
            "Podpiska-Delivery": delivery,
            "Podpiska-Timestamp": str(timestamp),
            "Podpiska-Signature": sign(secret, timestamp, body),
        },
    )
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        response = webhooks.post(request, timeout_seconds=timeout_seconds)
    except DeliveryFailed as exc:
        error = f"webhook: {exc}"
    except Exception as exc:  # an adapter's surprise is the endpoint's outcome, not a 500
        logger.exception("webhook sender failed on the test of endpoint %s", endpoint_id)
        error = f"webhook: {type(exc).__name__}: {exc}"
    else:
        status = response.status
        if not 200 <= status < 300:
            snippet = response.body[:200]
            error = f"webhook: HTTP {status}" + (f": {snippet}" if snippet else "")
    duration_ms = int((time.monotonic() - started) * 1000)
    outcome = TestDelivery(
        endpoint_id=endpoint_id,
        delivery=delivery,
        delivered=error is None,
        status_code=status,
        duration_ms=duration_ms,
        error=error,
    )
    with session.begin():
        audit(
            session,
            actor=actor,
            action="webhook_endpoint.tested",
            object_type="webhook_endpoint",
            object_id=endpoint_id,
            account_id=None,
            at=clock.now(),
            after={"delivery": delivery, "status_code": status, "error": error},
        )
    return outcome
