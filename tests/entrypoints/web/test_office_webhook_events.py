"""The back office's deliveries page lists the event types each webhook endpoint receives
("все события" when it chose none)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from podpiska.entrypoints.context import Context
from podpiska.notifications.webhook_endpoints import add_endpoint
from tests.entrypoints.web.conftest import VENDOR_OPERATOR, client_log_in


def test_the_deliveries_page_lists_each_endpoints_event_types(client: TestClient) -> None:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    with ctx.session() as db:
        every = add_endpoint(db, url="https://crm.example/all", actor="test", clock=ctx.clock)
        chosen = add_endpoint(
            db,
            url="https://crm.example/paid",
            event_types=["invoice.paid", "subscription.*"],
            actor="test",
            clock=ctx.clock,
        )
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get("/office/deliveries")
    assert page.status_code == 200

    def events_of(endpoint_id: int) -> str:
        row = re.search(
            rf'<tr data-endpoint="{endpoint_id}">.*?<td data-events>(.*?)</td>', page.text, re.S
        )
        assert row, page.text
        return row.group(1)

    assert events_of(every.id) == "все события"
    assert events_of(chosen.id) == "<code>invoice.paid</code>, <code>subscription.*</code>"
