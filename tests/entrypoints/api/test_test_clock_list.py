"""Test clocks listed a page at a time through the API (SQLite and PostgreSQL), typed:
vendor keys only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_bank_review import key


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    return db_contexts()


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def test_test_clocks_are_paged(client: TestClient, context: Context) -> None:
    auth = key(context, role="vendor_operator")
    made = []
    for n in range(3):
        answer = client.post("/api/v1/test-clocks", json={"name": f"clock {n}"}, headers=auth)
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    first = client.get("/api/v1/test-clocks?limit=2", headers=auth).json()
    assert [c["name"] for c in first["data"]] == ["clock 0", "clock 1"]
    assert first["has_more"] is True
    rest = client.get(f"/api/v1/test-clocks?after={first['next_after']}", headers=auth).json()
    assert rest == {"data": [made[2]], "has_more": False, "next_after": made[2]["id"]}
    assert datetime.fromisoformat(made[0]["now"]) == context.clock.now()
    one = client.get(f"/api/v1/test-clocks/{made[0]['id']}", headers=auth)
    assert one.json() == made[0]

    account = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Клиент»", "admin_email": "a@example.ru"},
        headers=key(context),
    ).json()["id"]
    own = key(context, role="account_admin", account=account)
    assert client.get("/api/v1/test-clocks", headers=own).status_code == 403
