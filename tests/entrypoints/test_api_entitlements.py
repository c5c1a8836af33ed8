"""The entitlement endpoints answer from the process's snapshot, refreshed by each request:
kept answers, and every change made through the API seen by the very next request."""

from __future__ import annotations

from typing import Any

import pytest

from podpiska.services.entitlement_cache import EntitlementSnapshots
from tests.entrypoints.test_api_payments import Env, env, open_and_order  # noqa: F401
from tests.services.test_entitlement_cache import settled


@pytest.fixture
def api(env: Env) -> tuple[Env, EntitlementSnapshots]:  # noqa: F811 - the fixture above
    app: Any = env.client.app
    assert isinstance(app.state.entitlements, EntitlementSnapshots)
    snapshots = app.state.entitlements
    return env, settled(snapshots)


def reason(client: Env, account: int, action: str) -> str:
    found = client.get(f"/api/v1/accounts/{account}/entitlements/{action}")
    assert found.status_code == 200, found.text
    return str(found.json()["reason"])


def test_answers_are_kept_and_changes_seen_by_the_next_request(
    api: tuple[Env, EntitlementSnapshots],
) -> None:
    client, snapshots = api
    account, invoice = open_and_order(client)
    assert reason(client, account, "crm.read") == "not_paid"
    hits = snapshots.stats()["hits"]
    assert reason(client, account, "crm.read") == "not_paid"
    assert snapshots.stats()["hits"] == hits + 1  # kept
    paid = client.post(f"/api/v1/invoices/{invoice['id']}/payments",
                    {"amount": invoice["total"], "method": "bank_transfer"})  # fmt: skip
    assert paid.status_code == 201, paid.text
    assert reason(client, account, "crm.read") == "allowed"
    assert reason(client, account, "rest_api.call") == "marketplace_required"
    batch = client.post(f"/api/v1/accounts/{account}/entitlements",
                     {"checks": [{"action": "crm.read"}, {"action": "rest_api.call"}]})  # fmt: skip
    assert [a["reason"] for a in batch.json()] == ["allowed", "marketplace_required"]
    trial = client.post(f"/api/v1/accounts/{account}/trials")
    assert trial.status_code == 201, trial.text
    assert reason(client, account, "rest_api.call") == "allowed"
    batch = client.post(f"/api/v1/accounts/{account}/entitlements",
                     {"checks": [{"action": "rest_api.call"}]})  # fmt: skip
    assert batch.json()[0]["reason"] == "allowed"
    assert client.get("/api/v1/accounts/999/entitlements/crm.read").status_code == 404
