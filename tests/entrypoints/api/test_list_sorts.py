"""The API's lists sorted by a column (`?sort=`, issue 17), on SQLite and PostgreSQL: paging
with a small limit under each sort visits every row once, in the order of (column, id), when
rows share a value across a page's boundary and when a row's value and its id disagree (a
payment received on an earlier day than an older payment; an event written at an earlier
time); ranges, filters and an account's scope still apply; an unknown sort answers 422 and
the default order stays by id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
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
from podpiska.invoicing.listing import SORTS as INVOICE_SORTS
from podpiska.notifications.event_feed import SORTS as EVENT_SORTS
from podpiska.payments.listing import SORTS as PAYMENT_SORTS
from tests.entrypoints.api.test_input import Api, error_of
from tests.entrypoints.api.test_money_lists import ids, paid, walk

MOSCOW = timezone(timedelta(hours=3))


@pytest.fixture
def api(db_contexts: Callable[..., Context]) -> Api:
    context = db_contexts(load_catalog=True)
    with context.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return Api(TestClient(create_app(context)), context, {"Authorization": f"Bearer {key}"})


def in_order(items: list[Any], field: str, convert: Any, descending: bool) -> list[int]:
    """The ids of `items` in the order of (field, id), a missing value after every other
    (before them, descending), as the API sorts."""
    ascending = sorted(
        items,
        key=lambda item: (
            item[field] is None,
            convert(item[field]) if item[field] is not None else None,
            item["id"],
        ),
    )
    return ids(ascending[::-1] if descending else ascending)


@pytest.fixture
def money(api: Api) -> tuple[Api, list[int]]:
    """Four accounts ordered the same plan on one day (equal totals, days issued and due),
    paid 100.00 each: three on that day (equal days and amounts), the fourth's recorded
    after them but received three days earlier (the clock set back: a backdated payment),
    then a second part on the first invoice five days on."""
    clock = api.context.clock
    assert isinstance(clock, FixedClock)
    orders = [api.ordered() for _ in range(4)]
    for _, invoice in orders[:3]:
        paid(api, invoice, ("100.00", "manual"))
    clock.instant -= timedelta(days=3)
    paid(api, orders[3][1], ("100.00", "bank_transfer"))
    clock.instant += timedelta(days=8)
    paid(api, orders[0][1], ("50.00", "manual"))
    return api, [account for account, _ in orders]


PAYMENTS = [("received_on", date.fromisoformat), ("amount", Decimal)]


@pytest.mark.parametrize("limit", [1, 3])
@pytest.mark.parametrize(("field", "convert"), PAYMENTS)
@pytest.mark.parametrize("descending", [False, True])
def test_payments_sorted_page_by_page(
    money: Any, limit: int, field: str, convert: Any, descending: bool
) -> None:
    api, accounts = money
    every = walk(api, "/payments", 10)
    assert len(every) == 5
    days = [p["received_on"] for p in every]
    assert days != sorted(days)  # the backdated payment: its day and its id disagree
    sort = f"-{field}" if descending else field
    seen = walk(api, f"/payments?sort={sort}", limit)
    assert ids(seen) == in_order(every, field, convert, descending)
    assert sorted(ids(seen)) == ids(every)

    # a range of days, a filter and an account's scope still apply under a sort
    day = every[0]["received_on"]
    inside = [p for p in every if p["received_on"] >= day]
    ranged = walk(api, f"/payments?sort={sort}&received_from={day}", limit)
    assert ids(ranged) == in_order(inside, field, convert, descending)
    manual = [p for p in every if p["method"] == "manual"]
    assert ids(walk(api, f"/payments?sort={sort}&method=manual", limit)) == in_order(
        manual, field, convert, descending
    )
    own = [p for p in every if p["account_id"] == accounts[0]]
    key = api.account_key(accounts[0])
    assert ids(walk(api, f"/payments?sort={sort}", limit, key)) == in_order(
        own, field, convert, descending
    )


@pytest.mark.parametrize("limit", [1, 2, 5])
@pytest.mark.parametrize("descending", [False, True])
def test_events_sorted_by_the_time_written(money: Any, limit: int, descending: bool) -> None:
    api, accounts = money
    every = walk(api, "/events", 100)
    times = [e["created_at"] for e in every]
    assert len(set(times)) < len(times)  # many written at one instant: ties on every page
    assert times != sorted(times)  # the clock set back: a later event written earlier
    sort = "-created_at" if descending else "created_at"
    seen = walk(api, f"/events?sort={sort}", limit)
    assert ids(seen) == in_order(every, "created_at", datetime.fromisoformat, descending)
    assert sorted(ids(seen)) == ids(every)

    since = max(times)  # the last instant, with its offset (`+00:00`): a quoted query value
    late = [e for e in every if e["created_at"] >= since]
    ranged = walk(api, f"/events?sort={sort}&since={since.replace('+', '%2B')}", limit)
    assert ids(ranged) == in_order(late, "created_at", datetime.fromisoformat, descending)
    own = [e for e in every if e["account_id"] == accounts[1]]
    key = api.account_key(accounts[1])
    assert ids(walk(api, f"/events?sort={sort}", limit, key)) == in_order(
        own, "created_at", datetime.fromisoformat, descending
    )
    newest = walk(api, "/events?sort=-id", limit)
    assert ids(newest) == ids(every)[::-1]
    # newest first within a narrow range: the range's own index, sorted by id descending
    late_first = walk(api, f"/events?sort=-id&since={since.replace('+', '%2B')}", limit)
    assert ids(late_first) == ids(late)[::-1]


def test_a_wide_range_of_days_in_id_order_starts_at_its_smallest_id(
    money: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A range wider than `range_paging.NARROW` walks the id order from the range's smallest
    id (found day by day in the index of (day, id)): every row of the range, in id order,
    the backdated payment (a new id, an old day) too, whichever day the range starts on."""
    api = money[0]
    every = walk(api, "/payments", 10)
    monkeypatch.setattr(range_paging, "NARROW", 0)
    days = sorted({p["received_on"] for p in every})
    assert len(days) == 3
    for first in days:
        for last in days:
            query = f"/payments?received_from={first}&received_to={last}"
            inside = [p for p in every if first <= p["received_on"] <= last]
            for limit in (1, 2):
                assert ids(walk(api, query, limit)) == ids(inside), query
        since = [p for p in every if p["received_on"] >= first]
        assert ids(walk(api, f"/payments?received_from={first}", 1)) == ids(since)
        newest = walk(api, f"/payments?received_from={first}&sort=-id", 2)
        assert ids(newest) == ids(since)[::-1]
        until = [p for p in every if p["received_on"] <= first]
        newest = walk(api, f"/payments?received_to={first}&sort=-id", 1)
        assert ids(newest) == ids(until)[::-1]
    assert walk(api, "/payments?received_from=2099-01-01", 1) == []
    assert walk(api, "/payments?received_to=2000-01-01&sort=-id", 1) == []


def test_a_wide_range_of_times_in_id_order_starts_at_its_days_smallest_id(
    money: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A range of times wider than `range_paging.NARROW` walks the id order from the
    smallest id of the range's UTC days (found in the index of (created_day, id)): exactly
    the events the times select, in id order, those written while the clock was set back (a
    later id, an earlier time) among them, wherever the range starts and ends (at an event's
    instant, next to it, at a UTC midnight, at a Moscow time of the previous UTC day)."""
    api = money[0]
    every = walk(api, "/events", 100)

    def written(event: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(event["created_at"])

    assert [written(e) for e in every] != sorted(written(e) for e in every)  # out of step
    instants = sorted({written(e) for e in every})
    assert len(instants) >= 3
    moments = {datetime(2000, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)}
    for instant in instants:
        midnight = datetime.combine(instant.astimezone(UTC).date(), time(), UTC)
        moments |= {
            instant,
            instant - timedelta(microseconds=1),
            instant + timedelta(microseconds=1),
            midnight,
            midnight + timedelta(days=1),
            midnight.astimezone(MOSCOW) + timedelta(minutes=90),  # 01:30 there, 22:30 here
        }
    narrow = {m: walk(api, f"/events?since={quote(m.isoformat())}", 100) for m in moments}
    monkeypatch.setattr(range_paging, "NARROW", 0)
    for moment in sorted(moments):
        at = quote(moment.isoformat())
        since = [e for e in every if written(e) >= moment]
        until = [e for e in every if written(e) < moment]
        assert ids(walk(api, f"/events?since={at}", 2)) == ids(since), moment
        assert walk(api, f"/events?since={at}", 100) == narrow[moment]
        assert ids(walk(api, f"/events?until={at}", 2)) == ids(until), moment
        assert ids(walk(api, f"/events?since={at}&sort=-id", 2)) == ids(since)[::-1], moment
        assert ids(walk(api, f"/events?until={at}&sort=-id", 3)) == ids(until)[::-1], moment
    for first in instants:
        for last in [*instants, instants[-1] + timedelta(days=1)]:
            query = f"/events?since={quote(first.isoformat())}&until={quote(last.isoformat())}"
            inside = [e for e in every if first <= written(e) < last]
            assert ids(walk(api, query, 1)) == ids(inside), query
            assert ids(walk(api, f"{query}&sort=-id", 2)) == ids(inside)[::-1], query


INVOICES = [
    ("issued_on", date.fromisoformat),
    ("due_on", date.fromisoformat),
    ("total", Decimal),
    ("number", str),
]


@pytest.mark.parametrize("limit", [2])
@pytest.mark.parametrize(("field", "convert"), INVOICES)
@pytest.mark.parametrize("descending", [False, True])
def test_invoices_sorted_page_by_page(
    money: Any, limit: int, field: str, convert: Any, descending: bool
) -> None:
    api, accounts = money
    every = walk(api, "/invoices", 10)
    assert len(every) == 4
    assert len({i["total"] for i in every}) == 1  # one plan: equal totals across pages
    sort = f"-{field}" if descending else field
    seen = walk(api, f"/invoices?sort={sort}", limit)
    assert ids(seen) == in_order(every, field, convert, descending)
    assert sorted(ids(seen)) == ids(every)
    own = [i for i in every if i["account_id"] == accounts[2]]
    mine = walk(api, f"/accounts/{accounts[2]}/invoices?sort={sort}", limit)
    assert ids(mine) == ids(own)
    key = api.account_key(accounts[2])
    assert ids(walk(api, f"/invoices?sort={sort}", limit, key)) == ids(own)


@pytest.mark.parametrize(
    ("path", "sort"),
    [
        ("/payments", "received_at"),
        ("/payments", "status"),
        ("/events", "type"),
        ("/events", "--created_at"),
        ("/invoices", "status"),
        ("/invoices", ""),
        ("/accounts/1/invoices", "due"),
    ],
)
def test_an_unknown_sort_answers_422_naming_the_field(api: Api, path: str, sort: str) -> None:
    error = error_of(api.get(f"{path}?sort={sort}"), 422)
    assert error["code"] == "invalid_request"
    assert error["details"]["errors"][0]["field"] == "sort"
    assert "sort" in error["message"]


def test_order_desc_with_a_column_sort_answers_422(api: Api) -> None:
    error = error_of(api.get("/invoices?order=desc&sort=total"), 422)
    assert (error["code"], error["details"]["field"]) == ("invalid_field", "order")
    assert api.get("/invoices?order=desc&sort=id").status_code == 200


def test_the_openapi_enums_are_the_lists_sorts(api: Api) -> None:
    """Each list's `sort` in the OpenAPI is exactly `id` and its query function's columns,
    each ascending and with `-`: the enum a generated client offers is what the list takes."""
    spec = api.client.get("/openapi.json").json()

    def offered(path: str) -> set[str]:
        (parameter,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "sort"]
        assert parameter["schema"]["default"] == "id"
        assert parameter["description"]
        return set(parameter["schema"]["enum"])

    def both(columns: dict[str, Any]) -> set[str]:
        return {name for key in ["id", *columns] for name in (key, f"-{key}")}

    assert offered("/api/v1/payments") == both(PAYMENT_SORTS)
    assert offered("/api/v1/events") == both(EVENT_SORTS)
    assert offered("/api/v1/invoices") == both(INVOICE_SORTS)
    assert offered("/api/v1/accounts/{account_id}/invoices") == both(INVOICE_SORTS)
