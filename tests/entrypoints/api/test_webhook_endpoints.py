"""Webhook endpoints through the API, on SQLite and PostgreSQL: added with the event types
they receive (`event_types`; empty: every event), listed, changed with PATCH; an unknown
type answers 422 `unknown_event_type` and writes nothing; vendor_admin keys only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_bank_review import key
from tests.entrypoints.api.test_ops import assert_error


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    return db_contexts()


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def test_add_list_and_change_the_event_types(
    client: TestClient,
    context: Context,
) -> None:
    auth = key(context)
    added = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example/hooks", "event_types": ["invoice.paid", "invoice.*"]},
        headers=auth,
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["event_types"] == ["invoice.*", "invoice.paid"]
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["active"]) == ("https://crm.example/hooks", True)
    every = client.post(
        "/api/v1/webhook-endpoints", json={"url": "https://crm.example/all"}, headers=auth
    )
    assert every.status_code == 201, every.text
    assert every.json()["event_types"] == []

    listed = client.get("/api/v1/webhook-endpoints", headers=auth)
    assert listed.status_code == 200
    rows = listed.json()["data"]
    assert [(e["id"], e["event_types"]) for e in rows] == [
        (body["id"], ["invoice.*", "invoice.paid"]),
        (every.json()["id"], []),
    ]
    assert all("secret" not in e for e in rows)

    path = f"/api/v1/webhook-endpoints/{body['id']}"
    changed = client.patch(path, json={"event_types": ["subscription.activated"]}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["subscription.activated"]
    assert "secret" not in changed.json()
    off = client.patch(path, json={"active": False, "event_types": []}, headers=auth)
    assert off.status_code == 200, off.text
    assert (off.json()["active"], off.json()["event_types"]) == (False, [])
    same = client.patch(path, json={}, headers=auth)
    assert same.status_code == 200 and same.json() == off.json()


def test_unknown_event_type_is_422_and_nothing_is_written(
    client: TestClient,
    context: Context,
) -> None:
    auth = key(context)
    refused = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example/x", "event_types": ["invoice.paid", "invoice.payed"]},
        headers=auth,
    )
    assert refused.status_code == 422
    assert "invoice.payed" in assert_error(refused.json(), "unknown_event_type")
    assert refused.json()["error"]["details"]["event_type"] == "invoice.payed"
    assert client.get("/api/v1/webhook-endpoints", headers=auth).json() == {
        "data": [],
        "has_more": False,
        "next_after": None,
    }

    added = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example/y", "event_types": ["invoice.paid"]},
        headers=auth,
    )
    path = f"/api/v1/webhook-endpoints/{added.json()['id']}"
    bad = client.patch(path, json={"event_types": ["nope.*"], "active": False}, headers=auth)
    assert bad.status_code == 422
    assert_error(bad.json(), "unknown_event_type")
    rows = client.get("/api/v1/webhook-endpoints", headers=auth).json()["data"]
    assert [(e["event_types"], e["active"]) for e in rows] == [(["invoice.paid"], True)]

    missing = client.patch("/api/v1/webhook-endpoints/999", json={"event_types": []}, headers=auth)
    assert missing.status_code == 404
    not_a_list = client.patch(path, json={"event_types": "invoice.paid"}, headers=auth)
    assert not_a_list.status_code == 422


def test_only_vendor_admin_keys_manage_endpoints(
    client: TestClient,
    context: Context,
) -> None:
    operator = key(context, role="vendor_operator")
    assert client.get("/api/v1/webhook-endpoints", headers=operator).status_code == 403
    answer = client.post(
        "/api/v1/webhook-endpoints", json={"url": "https://crm.example/z"}, headers=operator
    )
    assert answer.status_code == 403
