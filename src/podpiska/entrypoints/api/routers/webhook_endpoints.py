"""The vendor's webhook endpoints: add one (its secret is answered once), list them, change
the event types one receives (`event_types`: exact types or `area.*`; empty: every event)
or switch it off and on, delete one (nothing more is sent to it), and send it a signed
test event now. vendor_admin keys only: the endpoints receive every account's events."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from podpiska.entrypoints.api.deps import (
    After,
    ContextDep,
    Id,
    Limit,
    SessionDep,
    VendorAdminDep,
)
from podpiska.entrypoints.api.docs import PageOut, errors
from podpiska.entrypoints.api.schemas.webhook_endpoints import (
    WebhookEndpointCreatedOut,
    WebhookEndpointDeletedOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPatch,
    WebhookTestOut,
)
from podpiska.notifications import webhook_endpoints
from podpiska.notifications.models import WebhookEndpoint

router = APIRouter(tags=["webhook endpoints"])


def _out(endpoint: WebhookEndpoint, event_types: tuple[str, ...]) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        active=endpoint.active,
        event_types=list(event_types),
        created_at=endpoint.created_at,
    )


def _one(db: Session, endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    chosen = webhook_endpoints.endpoint_event_types(db, [endpoint.id])
    return _out(endpoint, chosen.get(endpoint.id, ()))


@router.get(
    "/webhook-endpoints",
    response_model=PageOut[WebhookEndpointOut],
    responses=errors(vendor=True, found=False),
)
def list_all(
    who: VendorAdminDep, db: SessionDep, limit: Limit = 100, after: After = 0
) -> PageOut[WebhookEndpointOut]:
    """The endpoints by id (never their secrets), a page at a time."""
    found = webhook_endpoints.page_endpoints(db, after=after, limit=limit)
    chosen = webhook_endpoints.endpoint_event_types(db, [e.id for e in found.rows])
    return PageOut[WebhookEndpointOut](
        data=[_out(e, chosen.get(e.id, ())) for e in found.rows],
        has_more=found.has_more,
        next_after=found.next_after,
    )


@router.post(
    "/webhook-endpoints",
    status_code=201,
    response_model=WebhookEndpointCreatedOut,
    responses=errors("unknown_event_type", vendor=True, found=False),
)
def add(
    body: WebhookEndpointIn, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> WebhookEndpointCreatedOut:
    """An active endpoint; `secret` is answered only here (generated unless given)."""
    endpoint = webhook_endpoints.add_endpoint(
        db,
        url=body.url,
        secret=body.secret,
        event_types=body.event_types,
        actor=who.actor,
        clock=ctx.clock,
    )
    return WebhookEndpointCreatedOut(**_one(db, endpoint).model_dump(), secret=endpoint.secret)


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    response_model=WebhookEndpointOut,
    responses=errors("unknown_event_type", vendor=True),
)
def change(
    endpoint_id: Id,
    body: WebhookEndpointPatch,
    who: VendorAdminDep,
    db: SessionDep,
    ctx: ContextDep,
) -> WebhookEndpointOut:
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


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    response_model=WebhookEndpointDeletedOut,
    responses=errors(vendor=True),
)
def remove(
    endpoint_id: Id, who: VendorAdminDep, db: SessionDep, ctx: ContextDep
) -> WebhookEndpointDeletedOut:
    """Delete the endpoint: nothing more is sent to it. Its deliveries not sent yet are
    given up (dead, "webhook endpoint deleted"); the history of its deliveries stays
    readable by operators. Audited. Afterwards the endpoint answers 404."""
    given_up = webhook_endpoints.delete_endpoint(
        db, endpoint_id=endpoint_id, actor=who.actor, clock=ctx.clock
    )
    return WebhookEndpointDeletedOut(id=endpoint_id, pending_deliveries_given_up=given_up)


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    response_model=WebhookTestOut,
    responses=errors(vendor=True),
)
def test(endpoint_id: Id, who: VendorAdminDep, db: SessionDep, ctx: ContextDep) -> WebhookTestOut:
    """Send a signed `webhook.test` event to this endpoint only, now, and answer what it
    did: its HTTP status, the time it took and the error (a failing endpoint is an answer
    of 200 with `delivered: false`, not an error of the API). Nothing is queued."""
    done = webhook_endpoints.send_test_webhook(
        db,
        endpoint_id=endpoint_id,
        webhooks=ctx.ports.webhooks,
        actor=who.actor,
        clock=ctx.clock,
    )
    return WebhookTestOut(
        endpoint_id=done.endpoint_id,
        delivery=done.delivery,
        delivered=done.delivered,
        status_code=done.status_code,
        duration_ms=done.duration_ms,
        error=done.error,
    )
