"""The vendor's webhook endpoints: add one (its secret is answered once), list them, change
the event types one receives (`event_types`: exact types or `area.*`; empty: every event)
or switch it off and on. vendor_admin keys only: the endpoints receive every account's
events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from podpiska.entrypoints.api.deps import ContextDep, Id, SessionDep, VendorAdminDep
from podpiska.entrypoints.api.schemas.webhook_endpoints import (
    WebhookEndpointIn,
    WebhookEndpointPatch,
)
from podpiska.notifications import webhook_endpoints
from podpiska.notifications.models import WebhookEndpoint

router = APIRouter(tags=["webhook endpoints"])


def _out(endpoint: WebhookEndpoint, event_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "active": endpoint.active,
        "event_types": list(event_types),
        "created_at": endpoint.created_at.isoformat(),
    }


def _one(db: Session, endpoint: WebhookEndpoint) -> dict[str, Any]:
    chosen = webhook_endpoints.endpoint_event_types(db, [endpoint.id])
    return _out(endpoint, chosen.get(endpoint.id, ()))


@router.get("/webhook-endpoints")
def list_all(who: VendorAdminDep, db: SessionDep) -> Any:
    endpoints = webhook_endpoints.list_endpoints(db)
    chosen = webhook_endpoints.endpoint_event_types(db, [e.id for e in endpoints])
    return {"endpoints": [_out(e, chosen.get(e.id, ())) for e in endpoints]}


@router.post("/webhook-endpoints", status_code=201)
def add(body: WebhookEndpointIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep) -> Any:
    """An active endpoint; `secret` is answered only here (generated unless given)."""
    endpoint = webhook_endpoints.add_endpoint(
        db,
        url=body.url,
        secret=body.secret,
        event_types=body.event_types,
        actor=who.actor,
        clock=ctx.clock,
    )
    return {**_one(db, endpoint), "secret": endpoint.secret}


@router.patch("/webhook-endpoints/{endpoint_id}")
def change(
    endpoint_id: Id,
    body: WebhookEndpointPatch,
    who: VendorAdminDep,
    db: SessionDep,
    ctx: ContextDep,
) -> Any:
    """Change what is given: `event_types` (replaces the list; `[]`: every event) and/or
    `active`. Events fanned out after the change follow it."""
    endpoint = None
    if body.event_types is not None:
        endpoint = webhook_endpoints.set_endpoint_event_types(
            db,
            endpoint_id=endpoint_id,
            event_types=body.event_types,
            actor=who.actor,
            clock=ctx.clock,
        )
    if body.active is not None:
        endpoint = webhook_endpoints.set_endpoint_active(
            db, endpoint_id=endpoint_id, active=body.active, actor=who.actor, clock=ctx.clock
        )
    if endpoint is None:
        endpoint = webhook_endpoints.get_endpoint(db, endpoint_id)
    return _one(db, endpoint)
