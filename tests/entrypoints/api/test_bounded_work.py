"""Work a request may ask for is bounded: a test clock moves at most three years per request
(above: 422, never an OverflowError or hours of CPU); a request body at most a megabyte
(bank statements ten), refused with 413 before or while it is read."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.apikeys import create_api_key
from podpiska.accounts.models import Account
from podpiska.app import create_app
from podpiska.core.clocks import MAX_ADVANCE_DAYS
from podpiska.core.models import IdempotencyRecord
from podpiska.entrypoints.api.middleware import BODY_LIMIT, UPLOAD_LIMIT
from podpiska.entrypoints.context import Context
from tests.entrypoints.conftest import NOON_IN_MOSCOW


@pytest.fixture
def api(db_contexts: Callable[..., Context]) -> tuple[TestClient, dict[str, str]]:
    context = db_contexts(load_catalog=True)
    with context.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return TestClient(create_app(context)), {"Authorization": f"Bearer {key}"}


def _clock_with_a_customer(client: TestClient, auth: dict[str, str]) -> int:
    made = client.post(
        "/api/v1/test-clocks",
        json={"name": "bounds", "now": NOON_IN_MOSCOW.isoformat()},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    clock = int(made.json()["id"])
    account = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Часы»", "admin_email": "c@c.ru", "test_clock_id": clock},
        headers=auth,
    ).json()["id"]
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers=auth,
    )
    assert ordered.status_code == 201, ordered.text
    return clock


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"days": 1_000_000_000}, "test_clock_advance_too_far"),  # was a 500 (OverflowError)
        ({"days": 10**30}, "test_clock_advance_too_far"),
        ({"days": 2_000_000}, "test_clock_advance_too_far"),  # was hours at 100 % CPU
        ({"days": MAX_ADVANCE_DAYS + 1}, "test_clock_advance_too_far"),
        ({"to": (NOON_IN_MOSCOW + timedelta(MAX_ADVANCE_DAYS + 1)).isoformat()},
         "test_clock_advance_too_far"),
        ({"to": "9999-12-31T23:59:59+00:00"}, "test_clock_advance_too_far"),
        ({"days": 0}, "invalid_field"),
        ({"days": -1}, "invalid_field"),
    ],
)  # fmt: skip
def test_an_advance_too_far_or_not_forward_is_422_and_moves_nothing(
    api: tuple[TestClient, dict[str, str]], body: dict[str, object], code: str
) -> None:
    client, auth = api
    clock = _clock_with_a_customer(client, auth)
    started = time.perf_counter()
    refused = client.post(f"/api/v1/test-clocks/{clock}/advance", json=body, headers=auth)
    assert time.perf_counter() - started < 5
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code
    if code == "test_clock_advance_too_far":
        assert refused.json()["error"]["details"]["max_days"] == MAX_ADVANCE_DAYS
    now = client.get(f"/api/v1/test-clocks/{clock}", headers=auth).json()["now"]
    assert datetime.fromisoformat(now) == NOON_IN_MOSCOW


def test_the_longest_advance_runs_every_day(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    clock = _clock_with_a_customer(client, auth)
    started = time.perf_counter()
    moved = client.post(
        f"/api/v1/test-clocks/{clock}/advance", json={"days": MAX_ADVANCE_DAYS}, headers=auth
    )
    seconds = time.perf_counter() - started
    assert moved.status_code == 200, moved.text
    assert len(moved.json()["days_run"]) == MAX_ADVANCE_DAYS
    assert datetime.fromisoformat(moved.json()["now"]) == NOON_IN_MOSCOW + timedelta(
        MAX_ADVANCE_DAYS
    )
    print(f"advance of {MAX_ADVANCE_DAYS} days: {seconds:.1f} s")


# --- request bodies ------------------------------------------------------------------------


def _too_large(response: Any, limit: int) -> None:
    assert response.status_code == 413, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert error["details"] == {"limit": limit}


def test_a_json_body_above_a_megabyte_is_413_and_writes_nothing(
    api: tuple[TestClient, dict[str, str]], db_contexts: Callable[..., Context]
) -> None:
    client, auth = api
    name = "Я" * (BODY_LIMIT // 2)  # two bytes each in UTF-8: just above the limit
    body = json.dumps({"name": name, "admin_email": "a@a.ru"}, ensure_ascii=False).encode()
    assert len(body) > BODY_LIMIT
    headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": "big-1"}
    _too_large(client.post("/api/v1/accounts", content=body, headers=headers), BODY_LIMIT)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    chunked = client.post("/api/v1/accounts", content=chunks(), headers=headers)
    _too_large(chunked, BODY_LIMIT)
    assert "content-length" not in chunked.request.headers

    context = db_contexts()
    with context.session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(Account)) == 0
        assert db.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    small = {"name": "ООО «Малое»", "admin_email": "a@a.ru"}
    assert client.post("/api/v1/accounts", json=small, headers=auth).status_code == 201


def test_bank_statements_take_up_to_ten_megabytes(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    two = b"1CClientBankExchange\r\n" + b" " * (2 * 1024 * 1024)
    taken = client.post("/api/v1/bank-statements", content=two, headers=auth)
    assert taken.status_code != 413, taken.text[:300]
    eleven = b"1CClientBankExchange\r\n" + b" " * (UPLOAD_LIMIT + 1)
    _too_large(client.post("/api/v1/bank-statements", content=eleven, headers=auth), UPLOAD_LIMIT)
    page = client.post(
        "/office/bank/statements", files={"statement": ("big.txt", eleven, "text/plain")}
    )
    assert page.status_code == 413
