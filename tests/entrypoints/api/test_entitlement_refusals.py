"""Entitlement refusals remembered (`entitlements.refusals`) through the API: one row per
account, action, reason and day (Moscow time), its count bumped by the same refusal again,
nothing for an allowed answer; a failed write never fails the answer; 20 parallel refused
checks give one row with count 20, and so do 20 upserts of one key at once (PostgreSQL);
the housekeeping keeps 90 days. The log's thread writes after the answers: the rows are
awaited (`_eventually`)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.entitlements.models import EntitlementRefusal
from podpiska.entitlements.refusals import RefusalLog
from tests.entrypoints.api.test_entitlements import api  # noqa: F401
from tests.entrypoints.api.test_payments import Env, env, open_and_order  # noqa: F401

Rows = list[tuple[str, str, date, int]]


def _refusals(http: Env) -> RefusalLog:
    app: Any = http.client.app
    log: RefusalLog = app.state.refusals
    return log


def _rows(http: Env, account: int) -> Rows:
    with http.context.session() as db, db.begin():
        found = db.scalars(
            select(EntitlementRefusal)
            .where(EntitlementRefusal.account_id == account)
            .order_by(EntitlementRefusal.day, EntitlementRefusal.action)
        )
        return [(r.action, r.reason, r.day, r.count) for r in found]


def _eventually(http: Env, account: int, expected: Rows) -> None:
    """The rows, once the log's thread has written them (at most 10 s)."""
    deadline = time.monotonic() + 10
    while (found := _rows(http, account)) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert found == expected


@pytest.fixture(autouse=True)
def _writer(api: Any) -> Any:  # noqa: F811
    """The log's thread, as the server's lifespan starts and stops it (these tests' client
    runs no lifespan)."""
    http, _ = api
    _refusals(http).start()
    yield
    _refusals(http).stop()


def _check(http: Env, account: int, action: str) -> str:
    found = http.get(f"/api/v1/accounts/{account}/entitlements/{action}")
    assert found.status_code == 200, found.text
    return str(found.json()["reason"])


def test_a_refusal_is_one_row_a_day_counted_and_an_allowed_answer_writes_nothing(
    api: Any,  # noqa: F811
) -> None:
    http, _ = api
    refusals = _refusals(http)
    assert refusals.flush_seconds == 5  # the default guard: a key written at most every 5 s
    account, invoice = open_and_order(http)
    today = date(2026, 11, 22)
    assert _check(http, account, "crm.read") == "not_paid"
    _eventually(http, account, [("crm.read", "not_paid", today, 1)])  # a new key: at once
    assert _check(http, account, "crm.read") == "not_paid"  # counted in memory, and
    refusals.flush(everything=True)  # written as the thread does every 5 s
    _eventually(http, account, [("crm.read", "not_paid", today, 2)])

    paid = http.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    {"amount": invoice["total"], "method": "bank_transfer"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    assert _check(http, account, "crm.read") == "allowed"
    path = f"/api/v1/accounts/{account}/entitlements"
    for bad, status in ((f"{path}/crm.teleport", 422), (f"{path}/apps.use?app=nope", 404),
                        ("/api/v1/accounts/99999999999999999999/entitlements/crm.read", 422),
                        ("/api/v1/accounts/999999/entitlements/crm.read", 404)):  # fmt: skip
        assert http.get(bad).status_code == status  # no decision: nothing to remember
    answered = http.post(path, {"checks": [{"action": "crm.read"}, {"action": "nope"}]})
    assert answered.status_code == 422
    checks = [{"action": "crm.update"}, {"action": "rest_api.call"}]
    batch = http.post(f"/api/v1/accounts/{account}/entitlements", {"checks": checks})
    assert [a["reason"] for a in batch.json()] == ["allowed", "marketplace_required"]
    _eventually(http, account, [
        ("crm.read", "not_paid", today, 2),
        ("rest_api.call", "marketplace_required", today, 1),  # another action: a new row
    ])  # fmt: skip
    clock = http.context.clock
    assert isinstance(clock, FixedClock)
    clock.instant += timedelta(days=1)  # another day in Moscow: a new row
    assert _check(http, account, "rest_api.call") == "marketplace_required"
    tomorrow = ("rest_api.call", "marketplace_required", today + timedelta(days=1), 1)
    _eventually(http, account, [*_rows(http, account)[:2], tomorrow])
    with http.context.session() as db, db.begin():
        row = db.scalars(select(EntitlementRefusal).order_by(EntitlementRefusal.id.desc())).first()
        assert row is not None and row.message_ru.startswith("Без подписки «Маркетплейс»")
        assert row.first_at == row.last_at == clock.instant


def test_a_failed_write_is_logged_and_the_answer_given_anyway(
    api: Any,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    http, _ = api
    refusals = _refusals(http)
    account, _ = open_and_order(http)
    sessions = refusals._sessions

    def broken() -> Any:
        raise RuntimeError("the database is gone")

    refusals._sessions = broken
    assert _check(http, account, "crm.read") == "not_paid"  # answered
    deadline = time.monotonic() + 10
    while not refusals.failures and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "entitlement refusals: 1 rows not written" in caplog.text
    assert _rows(http, account) == []
    refusals._sessions = sessions
    refusals.flush(everything=True)  # the count was kept for the next write
    _eventually(http, account, [("crm.read", "not_paid", date(2026, 11, 22), 1)])


@pytest.mark.postgres_only
def test_twenty_parallel_refused_checks_are_one_row_of_twenty(api: Any) -> None:  # noqa: F811
    http, _ = api
    account, _ = open_and_order(http)
    barrier = threading.Barrier(20, timeout=60)

    def check(_: int) -> str:
        barrier.wait()
        return _check(http, account, "crm.create_deal")

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(check, range(20))) == {"not_paid"}
    _refusals(http).flush(everything=True)
    _eventually(http, account, [("crm.create_deal", "not_paid", date(2026, 11, 22), 20)])


@pytest.mark.postgres_only
def test_twenty_upserts_of_one_key_at_once_add_up(api: Any) -> None:  # noqa: F811
    """As 20 processes writing the same refusal at the same moment would."""
    from podpiska.entitlements.domain import Decision
    from podpiska.entitlements.refusals import Refusal, record_refusals

    http, _ = api
    account, _ = open_and_order(http)
    at = http.context.clock.now()
    refused = Decision("disk.write", False, "not_paid", "нет", "no")
    barrier = threading.Barrier(20, timeout=60)

    def write(n: int) -> int:
        with http.context.session() as db:
            barrier.wait()
            moment = at + timedelta(seconds=n)
            return record_refusals(db, [Refusal(account, date(2026, 11, 22), refused, 1,
                                                moment, moment)])  # fmt: skip

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sum(pool.map(write, range(20))) == 20
    _eventually(http, account, [("disk.write", "not_paid", date(2026, 11, 22), 20)])
    with http.context.session() as db, db.begin():
        row = db.scalars(select(EntitlementRefusal).where(
            EntitlementRefusal.account_id == account)).one()  # fmt: skip
        assert (row.first_at, row.last_at) == (at, at + timedelta(seconds=19))


def test_the_housekeeping_deletes_the_days_older_than_90(api: Any) -> None:  # noqa: F811
    from podpiska.entitlements.domain import Decision
    from podpiska.entitlements.refusals import Refusal, record_refusals
    from podpiska.entrypoints.worker import purge_refusals

    http, _ = api
    account, _ = open_and_order(http)
    now = http.context.clock.now()
    refused = Decision("crm.read", False, "not_paid", "нет", "no")
    with http.context.session() as db:
        record_refusals(db, [Refusal(account, now.date() - timedelta(days=days), refused, 1,
                                     now, now) for days in (91, 90)])  # fmt: skip
    assert purge_refusals(http.context) == 1
    assert [day for _, _, day, _ in _rows(http, account)] == [date(2026, 8, 24)]


def test_a_log_not_started_counts_in_memory_and_leaves_no_thread_behind(
    api: Any,  # noqa: F811
) -> None:
    """An app run without its lifespan (as many tests do) starts no writer: a thread nobody
    stops kept retrying against a dropped database and printed its traceback in a later
    test (stop 27's CI)."""
    http, _ = api
    refusals = _refusals(http)
    refusals.stop()  # as if never started
    before = {t.ident for t in threading.enumerate() if t.name == "entitlement-refusals"}
    account, _ = open_and_order(http)
    assert _check(http, account, "crm.read") == "not_paid"
    time.sleep(0.1)
    after = {t.ident for t in threading.enumerate() if t.name == "entitlement-refusals"}
    assert after <= before  # no new writer
    assert _rows(http, account) == []  # counted, waiting for a flush
    assert refusals.stats()["pending"] == 1
    refusals.flush(everything=True)
    assert _rows(http, account) == [("crm.read", "not_paid", date(2026, 11, 22), 1)]


def test_an_account_on_a_test_clock_has_its_refusals_on_the_test_clocks_day(
    api: Any,  # noqa: F811
) -> None:
    """Everything about an account on a test clock happens at the test clock's time, its
    refusals too: the day, first_at and last_at of the test clock advanced some days, not
    the server's (a refused single check and a refused batch, both read from the database:
    an account on a test clock is never kept)."""
    http, _ = api
    made = http.post(
        "/api/v1/test-clocks", {"name": "refusals", "now": "2026-06-01T10:00:00+03:00"}
    )
    assert made.status_code == 201, made.text
    clock_id = made.json()["id"]
    account, _ = open_and_order(http, clock_id=clock_id)
    moved = http.post(
        f"/api/v1/test-clocks/{clock_id}/advance", {"to": "2026-06-06T23:30:00+03:00"}
    )
    assert moved.status_code == 200, moved.text
    refused = _check(http, account, "crm.read")
    checks = [{"action": "crm.update"}, {"action": "crm.read"}]
    batch = http.post(f"/api/v1/accounts/{account}/entitlements", {"checks": checks})
    assert batch.status_code == 200, batch.text
    assert [a["reason"] for a in batch.json()] == [refused, refused]
    _refusals(http).flush(everything=True)
    day = date(2026, 6, 6)  # the test clock's day in Moscow; the server's is 2026-11-22
    _eventually(http, account, [("crm.read", refused, day, 2), ("crm.update", refused, day, 1)])
    with http.context.session() as db, db.begin():
        moments = {
            (r.first_at, r.last_at)
            for r in db.scalars(
                select(EntitlementRefusal).where(EntitlementRefusal.account_id == account)
            )
        }
    at = datetime(2026, 6, 6, 20, 30, tzinfo=UTC)
    assert moments == {(at, at)}


def test_the_housekeeping_keeps_a_test_clocks_days_by_its_own_clock(
    api: Any,  # noqa: F811
) -> None:
    """The refusals of an account on a test clock are on the test clock's days, which may
    be long past the server's 90: they are kept for 90 days of the test clock's time."""
    from podpiska.entitlements.domain import Decision
    from podpiska.entitlements.refusals import Refusal, record_refusals
    from podpiska.entrypoints.worker import purge_refusals

    http, _ = api
    made = http.post("/api/v1/test-clocks", {"name": "old", "now": "2026-03-02T10:00:00+03:00"})
    assert made.status_code == 201, made.text
    on_clock, _ = open_and_order(http, clock_id=made.json()["id"])
    real, _ = open_and_order(http)
    refused = Decision("crm.read", False, "not_paid", "нет", "no")
    now = http.context.clock.now()
    days = {on_clock: date(2026, 3, 2), real: now.date()}  # each account's own today
    with http.context.session() as db:
        record_refusals(db, [Refusal(account, day - timedelta(days=back), refused, 1, now, now)
                             for account, day in days.items() for back in (91, 90, 0)])  # fmt: skip
    assert purge_refusals(http.context) == 2
    assert [day for _, _, day, _ in _rows(http, on_clock)] == [date(2025, 12, 2), date(2026, 3, 2)]
    assert [day for _, _, day, _ in _rows(http, real)] == [date(2026, 8, 24), date(2026, 11, 22)]
