"""The money and events lists through the API, on SQLite and PostgreSQL (issue 17):
`GET /payments`, `/credit-notes`, `/events` (and the account's `/accounts/{id}/events`,
`/bank-payments` in the same page shape): paging with a small limit visits every row once,
in id order; each filter; an account's key lists its own account's rows only and naming
another account answers 404; a bad filter answers 422 with the error shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.core.db import range_paging
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_input import Api, error_of


@pytest.fixture
def api(db_contexts: Callable[..., Context]) -> Api:
    context = db_contexts(load_catalog=True)
    with context.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return Api(TestClient(create_app(context)), context, {"Authorization": f"Bearer {key}"})


def walk(api: Api, path: str, limit: int, headers: dict[str, str] | None = None) -> list[Any]:
    """Every item of a list, page by page."""
    seen: list[Any] = []
    after = 0
    sep = "&" if "?" in path else "?"
    while True:
        answer = api.client.get(
            f"/api/v1{path}{sep}limit={limit}&after={after}", headers=headers or api.vendor
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"data", "has_more", "next_after"}
        assert len(body["data"]) <= limit
        seen += body["data"]
        if not body["has_more"]:
            return seen
        after = body["next_after"]
        assert after == body["data"][-1]["id"]


def ids(items: list[Any]) -> list[int]:
    return [item["id"] for item in items]


def paid(api: Api, invoice: dict[str, Any], *parts: tuple[str, str]) -> None:
    for amount, method in parts:
        done = api.post(f"/invoices/{invoice['id']}/payments", {"amount": amount, "method": method})
        assert done.status_code == 201, done.text


@pytest.fixture
def two(api: Api) -> tuple[Api, int, dict[str, Any], int, dict[str, Any]]:
    """Two accounts with their orders' invoices: the first paid in two parts (manual, then
    bank transfer) an hour apart, the second in one."""
    clock = api.context.clock
    assert isinstance(clock, FixedClock)
    first, first_invoice = api.ordered()
    second, second_invoice = api.ordered()
    total = first_invoice["total"]
    paid(api, first_invoice, ("100.00", "manual"))
    clock.instant += timedelta(days=1)
    rest = str(Decimal(total) - Decimal("100.00"))  # two places, as the total has
    paid(api, first_invoice, (rest, "bank_transfer"))
    paid(api, second_invoice, (second_invoice["total"], "manual"))
    return api, first, first_invoice, second, second_invoice


def test_payments_page_by_page_filtered_and_scoped(two: Any) -> None:
    api, first, first_invoice, second, second_invoice = two
    every = walk(api, "/payments", 1)
    assert len(every) == 3
    assert ids(every) == sorted(set(ids(every)))
    assert [(p["account_id"], p["method"]) for p in every] == [
        (first, "manual"),
        (first, "bank_transfer"),
        (second, "manual"),
    ]
    assert ids(walk(api, "/payments", 2)) == ids(every)
    assert ids(walk(api, f"/payments?account_id={first}", 1)) == ids(every)[:2]
    assert ids(walk(api, f"/payments?invoice_id={second_invoice['id']}", 5)) == ids(every)[2:]
    assert ids(walk(api, "/payments?method=manual", 5)) == [ids(every)[0], ids(every)[2]]
    assert ids(walk(api, "/payments?status=succeeded", 5)) == ids(every)
    assert walk(api, "/payments?status=failed", 5) == []
    day_one, day_two = every[0]["received_on"], every[1]["received_on"]
    assert day_one < day_two
    assert ids(walk(api, f"/payments?received_to={day_one}", 5)) == ids(every)[:1]
    assert ids(walk(api, f"/payments?received_from={day_two}", 5)) == ids(every)[1:]
    assert every[0]["amount"] == "100.00"

    own = api.account_key(second)
    assert ids(walk(api, "/payments", 1, own)) == ids(every)[2:]
    assert ids(walk(api, f"/payments?account_id={second}", 1, own)) == ids(every)[2:]
    assert ids(walk(api, f"/payments?invoice_id={first_invoice['id']}", 1, own)) == []
    other = api.client.get(f"/api/v1/payments?account_id={first}", headers=own)
    assert error_of(other, 404)["code"] == "not_found"
    assert api.client.get("/api/v1/payments").status_code == 401


FILTERS = {
    "/payments": ("account_id", "invoice_id", "method", "received_from", "received_to"),
    "/credit-notes": ("account_id", "invoice_id", "issued_from", "issued_to"),
    "/events": ("account_id",),
}


@pytest.mark.parametrize(
    "query",
    [
        "account_id=0",
        "account_id=abc",
        f"invoice_id={2**63}",
        "received_from=2026-13-01",
        "received_to=yesterday",
        "issued_from=2026-02-30",
        "method=a%00b",
    ],
)
def test_bad_filters_answer_422(api: Api, query: str) -> None:
    name = query.split("=", maxsplit=1)[0]
    for path, accepted in FILTERS.items():
        if name in accepted:
            error_of(api.get(f"{path}?{query}"), 422)
        for paging in ("limit=0", "limit=1001", "after=-1", f"after={2**63}"):
            error_of(api.get(f"{path}?{paging}"), 422)


def test_bad_event_filters_answer_422(api: Api) -> None:
    for query in (
        "type=Invoice",
        "type=invoice.",
        "type=*",
        "type=invoice.**",
        "type=" + "a" * 101,
        "since=2026-12-01T00:00:00",  # no offset
        "since=yesterday",
        "until=1970-01-01T00:00:00%2B00:00",
    ):
        error = error_of(api.get(f"/events?{query}"), 422)
        assert error["code"] in ("invalid_field", "invalid_request"), query
    assert error_of(api.get("/events?type=Invoice"), 422)["details"]["field"] == "type"


def test_credit_notes_listed_filtered_and_scoped(api: Api) -> None:
    clock = api.context.clock
    assert isinstance(clock, FixedClock)
    first, first_invoice = api.ordered()
    second, second_invoice = api.ordered()
    notes = []
    for invoice in (first_invoice, second_invoice):
        paid(api, invoice, (invoice["total"], "manual"))
        note = api.post(f"/invoices/{invoice['id']}/credit-notes", {"reason": "возврат"})
        assert note.status_code == 201, note.text
        notes.append(note.json()["id"])
        clock.instant += timedelta(days=2)
    every = walk(api, "/credit-notes", 1)
    assert ids(every) == notes
    assert every[0]["pdf"] == f"/api/v1/credit-notes/{notes[0]}/pdf"
    assert every[0]["total"].startswith("-")
    assert ids(walk(api, f"/credit-notes?account_id={second}", 1)) == notes[1:]
    assert ids(walk(api, f"/credit-notes?invoice_id={first_invoice['id']}", 1)) == notes[:1]
    first_day = every[0]["created_at"][:10]
    assert ids(walk(api, f"/credit-notes?issued_to={first_day}", 5)) == notes[:1]
    assert ids(walk(api, f"/credit-notes?issued_from={first_day}", 5)) == notes
    assert walk(api, "/credit-notes?issued_from=2099-01-01", 5) == []
    own = api.account_key(first)
    assert ids(walk(api, "/credit-notes", 1, own)) == notes[:1]
    other = api.client.get(f"/api/v1/credit-notes?account_id={second}", headers=own)
    assert error_of(other, 404)["code"] == "not_found"


def test_the_event_feed_by_type_account_and_time(two: Any) -> None:
    api, first, _, second, _ = two
    every = walk(api, "/events", 2)
    assert ids(every) == sorted(set(ids(every)))
    assert {e["account_id"] for e in every} >= {first, second}
    assert set(every[0]) == {
        "id", "type", "occurred_on", "created_at", "account_id", "subscription_id", "data"
    }  # fmt: skip
    assert ids(walk(api, "/events", 1000)) == ids(every)

    invoice_events = [e for e in every if e["type"].startswith("invoice.")]
    assert invoice_events
    assert ids(walk(api, "/events?type=invoice.*", 1)) == ids(invoice_events)
    one_type = every[0]["type"]
    exact = [e for e in every if e["type"] == one_type]
    assert ids(walk(api, f"/events?type={one_type}", 1)) == ids(exact)
    assert walk(api, "/events?type=nothing.*", 5) == []
    # `_` in a prefix is a letter, not LIKE's any-character
    assert walk(api, "/events?type=invoic_.*", 5) == []

    of_first = [e for e in every if e["account_id"] == first]
    assert ids(walk(api, f"/events?account_id={first}", 1)) == ids(of_first)

    # the time written: the second day's payment's events (the clock moved one day)
    times = sorted({datetime.fromisoformat(e["created_at"]) for e in every})
    assert len(times) >= 2
    cut = quote(times[-1].isoformat())
    later = [e for e in every if datetime.fromisoformat(e["created_at"]) >= times[-1]]
    assert ids(walk(api, f"/events?since={cut}", 1)) == ids(later)
    earlier = [e for e in every if datetime.fromisoformat(e["created_at"]) < times[-1]]
    assert ids(walk(api, f"/events?until={cut}", 1)) == ids(earlier)
    assert earlier and later

    own = api.account_key(second)
    of_second = [e for e in every if e["account_id"] == second]
    assert ids(walk(api, "/events", 1, own)) == ids(of_second)
    other = api.client.get(f"/api/v1/events?account_id={first}", headers=own)
    assert error_of(other, 404)["code"] == "not_found"

    # the account's own feed: the same page and the same items
    assert walk(api, f"/accounts/{first}/events", 1) == of_first
    assert error_of(api.client.get(f"/api/v1/accounts/{first}/events", headers=own), 404)
    assert error_of(api.get("/accounts/999999/events"), 404)["code"] == "not_found"
    assert walk(api, "/events?account_id=999999", 5) == []
    assert datetime.fromisoformat(every[0]["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(every[0]["created_at"]) <= datetime.now(UTC) + timedelta(days=400)


def test_a_range_reads_the_same_page_through_its_index_or_the_id_walk(
    two: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrow range is read through its own index and sorted; a wide one (more rows than
    `range_paging.NARROW`) walks the id order: the same rows, the same pages."""
    api = two[0]
    every = walk(api, "/events", 1000)
    cut = quote(max(datetime.fromisoformat(e["created_at"]) for e in every).isoformat())
    day = walk(api, "/payments", 1000)[-1]["received_on"]
    queries = (f"/events?since={cut}", f"/events?until={cut}", f"/payments?received_from={day}")
    narrow = {q: walk(api, q, 1) for q in queries}
    assert all(narrow.values())
    monkeypatch.setattr(range_paging, "NARROW", 0)
    for query in queries:
        assert walk(api, query, 1) == narrow[query], query
