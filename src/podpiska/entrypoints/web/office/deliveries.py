"""The back office's deliveries (`/office/deliveries`): the outbox's e-mails and webhooks, their
state, and sending one again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.web import labels
from podpiska.entrypoints.web.deps import ContextDep, DbDep, VendorDep
from podpiska.entrypoints.web.i18n import N_, _, current_language
from podpiska.entrypoints.web.rendering import flash, render
from podpiska.notifications import deliveries as sent
from podpiska.notifications import webhook_endpoints
from podpiska.notifications.backlog import backlog

router = APIRouter(prefix="/office")

DELIVERY_STATUSES = {
    "pending": N_("Pending"),
    "delivered": N_("Sent"),
    "dead": N_("Dead"),
}
CHANNELS = {"email": N_("E-mail"), "webhook": N_("Webhook")}


PER_PAGE = 50


def _deliveries_page(
    request: Request, db: Session, *, status: str, after: int = 0, problem: str | None = None
) -> HTMLResponse:
    rows: list[sent.DeliveryView] = []
    older_url = None
    code = 200
    wanted = status if status else None
    try:
        found = sent.list_deliveries(db, status=wanted, after=after, limit=PER_PAGE)
    except DomainError as error:
        problem, code = error.message(current_language()), 422
    else:
        rows = list(found.rows)
        if found.has_more:
            kept = {"status": status} if status else {}
            older_url = "/office/deliveries?" + urlencode({**kept, "after": found.next_after})
    endpoints = webhook_endpoints.list_endpoints(db)
    endpoint_events = webhook_endpoints.endpoint_event_types(db, [e.id for e in endpoints])
    return render(
        request,
        "office/deliveries.html",
        {
            "rows": rows,
            "older_url": older_url,
            "status": status,
            "statuses": DELIVERY_STATUSES,
            "status_label": lambda c: labels.label(DELIVERY_STATUSES, c),
            "channel_label": lambda c: labels.label(CHANNELS, c),
            "backlog": backlog(db),
            "endpoints": endpoints,
            "endpoint_urls": {str(e.id): e.url for e in endpoints},
            "endpoint_events": endpoint_events,
            "problem": problem,
        },
        status_code=code,
    )


@router.get("/deliveries", include_in_schema=False)
def deliveries(
    request: Request,
    who: VendorDep,
    db: DbDep,
    status: str = "",
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The deliveries (e-mails and webhooks), newest first, 50 a page, with their status and
    last error, the backlog figures, the webhook endpoints."""
    return _deliveries_page(request, db, status=status[:20], after=after)


@router.post("/deliveries/{delivery_id}/redeliver", include_in_schema=False)
def redeliver(
    request: Request,
    delivery_id: int,
    who: VendorDep,
    db: DbDep,
    ctx: ContextDep,
    status: Annotated[str, Form()] = "",
) -> Response:
    """Put a dead (or sent) delivery back in the queue, due now."""
    view = sent.redeliver(db, delivery_id=delivery_id, actor=who.actor, clock=ctx.clock)
    flash(
        request,
        _("Delivery {id} is in the queue again: the worker sends it now.").format(id=view.id),
        "success",
    )
    back = "/office/deliveries" + (f"?status={status}" if status in DELIVERY_STATUSES else "")
    return RedirectResponse(back, status_code=303)
