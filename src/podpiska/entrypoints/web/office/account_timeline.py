"""The account's timeline (`/office/accounts/{id}/timeline?after=`): one page of it, newest
first, each line in words (`office/timeline.py`) with its raw JSON in a `<details>`. The
account page shows the first page; "Older" reads the next (an htmx swap, or this page
without JavaScript)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from podpiska.backoffice import timeline as timelines
from podpiska.entrypoints.web.deps import DbDep, VendorDep
from podpiska.entrypoints.web.office import timeline as words
from podpiska.entrypoints.web.office.audit import compact
from podpiska.entrypoints.web.rendering import render
from podpiska.notifications import deliveries

router = APIRouter(prefix="/office")

PAGE_SIZE = timelines.PAGE_SIZE


def timeline_view(
    db: Session, *, account_id: int, after: int = 0, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """The values `office/_account_timeline.html` shows: a page of the timeline, the
    deliveries of its events, and the helpers that put them in words."""
    found = timelines.account_timeline(db, account_id=account_id, after=after, limit=limit)
    sent = deliveries.of_events(
        db, event_ids=[e.event_id for e in found.entries if e.event_id is not None]
    )
    return {
        "timeline": found,
        "sent": sent,
        "sentence": words.sentence,
        "refusal_message": words.refusal_message,
        "delivery_line": words.delivery_line,
        "raw_json": raw_json,
        "timeline_after": after,
    }


def raw_json(value: Any) -> str:
    """The raw event and audit row, indented (the `<details>` under a line)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@router.get("/accounts/{account_id}/timeline", include_in_schema=False)
def account_timeline(
    request: Request,
    account_id: int,
    who: VendorDep,
    db: DbDep,
    after: int = Query(0, ge=0),
    limit: int = Query(PAGE_SIZE, ge=1, le=timelines.MAX_PAGE),
) -> HTMLResponse:
    """A page of the timeline: the partial for htmx ("Older"), the whole page without it."""
    values = {
        **timeline_view(db, account_id=account_id, after=after, limit=limit),
        "account_id": account_id,
        "compact": compact,
    }
    if request.headers.get("hx-request") == "true":
        return render(request, "office/_account_timeline.html", values)
    return render(request, "office/account_timeline.html", values)
