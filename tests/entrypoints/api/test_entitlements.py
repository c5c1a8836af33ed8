"""The entitlement endpoints answer from the process's snapshot, refreshed by each request:
kept answers, and every change made through the API seen by the very next request."""

from __future__ import annotations

from typing import Any

import pytest

from podpiska.entitlements.cache import EntitlementSnapshots
from tests.entitlements.test_cache import settled
from tests.entrypoints.api.test_payments import Env, env, open_and_order  # noqa: F401


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


def test_keys_and_errors_as_before(api: tuple[Env, EntitlementSnapshots]) -> None:
    from podpiska.accounts.apikeys import create_api_key

    client, _ = api
    account, _ = open_and_order(client)
    other, _ = open_and_order(client)
    path = f"/api/v1/accounts/{account}/entitlements"
    assert client.client.get(f"{path}/crm.read").status_code == 401
    assert client.client.post(path, json={"checks": [{"action": "crm.read"}]}).status_code == 401
    bad = {"Authorization": "Bearer pk_nope_nope"}
    assert client.client.get(f"{path}/crm.read", headers=bad).status_code == 401
    with client.context.session() as db:
        _, own = create_api_key(db, role="account_admin", account_id=other, actor="test",
                                clock=client.context.clock)  # fmt: skip
    theirs = {"Authorization": f"Bearer {own}"}
    assert client.client.get(f"{path}/crm.read", headers=theirs).status_code == 404
    mine = client.client.get(f"/api/v1/accounts/{other}/entitlements/crm.read", headers=theirs)
    assert mine.json()["reason"] == "not_paid"
    unknown_app = client.get(f"{path}/apps.use?app=nope")
    assert (unknown_app.status_code, unknown_app.json()["error"]["code"]) == (404, "unknown_app")
    unknown_action = client.get(f"{path}/crm.teleport")
    assert unknown_action.status_code == 422
    assert unknown_action.json()["error"]["code"] == "unknown_action"
    batch = client.post(path, {"checks": [{"action": "crm.read"}, {"action": "crm.teleport"}]})
    assert (batch.status_code, batch.json()["error"]["code"]) == (422, "unknown_action")


def test_a_revoked_key_is_refused_by_the_very_next_check(
    api: tuple[Env, EntitlementSnapshots],
) -> None:
    """Keys are kept in memory by the entitlement routes (`PrincipalCache`); a revocation
    written before a request is seen by that request, for an account's key and a vendor's."""
    from podpiska.accounts.apikeys import PrincipalCache, create_api_key, revoke_api_key

    client, _ = api
    account, _ = open_and_order(client)
    app: Any = client.client.app
    keys: PrincipalCache = app.state.principals
    made = {}
    with client.context.session() as db:
        for role, owner in (("account_admin", account), ("vendor_operator", None)):
            row, key = create_api_key(db, role=role, account_id=owner, actor="test",
                                      clock=client.context.clock)  # fmt: skip
            made[role] = (row.prefix, {"Authorization": f"Bearer {key}"})
    path = f"/api/v1/accounts/{account}/entitlements"
    for role, (prefix, headers) in made.items():
        for _ in range(3):
            answer = client.client.get(f"{path}/crm.read", headers=headers)
            assert answer.json()["reason"] == "not_paid", role
        hits = keys.hits
        assert client.client.get(f"{path}/crm.read", headers=headers).status_code == 200
        assert keys.hits == hits + 1  # from memory
        with client.context.session() as db:
            revoke_api_key(db, prefix=prefix, actor="test", clock=client.context.clock)
        refused = client.client.get(f"{path}/crm.read", headers=headers)
        assert refused.status_code == 401, (role, refused.text)
        batch = client.client.post(path, json={"checks": [{"action": "crm.read"}]},
                                   headers=headers)  # fmt: skip
        assert batch.status_code == 401
    # The other keys still work, and the kept entitlements were not forgotten for it.
    assert reason(client, account, "crm.read") == "not_paid"
