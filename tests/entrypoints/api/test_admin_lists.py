"""API keys and the web application's people through the API (SQLite and PostgreSQL):
paged by id, never a secret or a password's hash; a key made through the API works and
stops working when revoked; vendor_admin keys only (an account's key: 403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.people import create_person
from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from tests.entrypoints.api.test_bank_review import key, open_account


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    return db_contexts()


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def test_api_keys_are_listed_made_and_revoked(client: TestClient, context: Context) -> None:
    admin = key(context)
    account = open_account(client, admin, 1)
    made = client.post(
        "/api/v1/api-keys",
        json={"role": "account_admin", "account_id": account, "name": "CRM"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"].startswith(f"pk_{body['prefix']}_")
    assert (body["role"], body["account_id"], body["name"]) == ("account_admin", account, "CRM")
    own = {"Authorization": f"Bearer {body['key']}"}
    assert client.get(f"/api/v1/accounts/{account}", headers=own).status_code == 200

    for _ in range(2):
        more = client.post("/api/v1/api-keys", json={"role": "vendor_operator"}, headers=admin)
        assert more.status_code == 201, more.text
    first = client.get("/api/v1/api-keys?limit=2", headers=admin).json()
    rest = client.get(f"/api/v1/api-keys?after={first['next_after']}", headers=admin).json()
    assert first["has_more"] is True and rest["has_more"] is False
    rows = first["data"] + rest["data"]
    assert len(rows) == 4  # the test's admin key, the account's, two operators'
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    text = str(rows)
    assert body["key"].split("_", 2)[2] not in text
    assert all("key" not in r and "secret_hash" not in r for r in rows)

    revoked = client.post(f"/api/v1/api-keys/{body['prefix']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None and "key" not in revoked.json()
    assert client.get(f"/api/v1/accounts/{account}", headers=own).status_code == 401
    assert client.post("/api/v1/api-keys/abc123/revoke", headers=admin).status_code == 404

    unknown = client.post(
        "/api/v1/api-keys", json={"role": "account_admin", "account_id": 999999}, headers=admin
    )
    assert unknown.status_code == 404
    wrong = client.post("/api/v1/api-keys", json={"role": "root"}, headers=admin)
    assert wrong.status_code == 422

    theirs = key(context, role="account_admin", account=account)
    operator = key(context, role="vendor_operator")
    for caller in (theirs, operator):
        assert client.get("/api/v1/api-keys", headers=caller).status_code == 403
        denied = client.post("/api/v1/api-keys", json={"role": "vendor_admin"}, headers=caller)
        assert denied.status_code == 403


def test_people_are_paged_and_filtered(client: TestClient, context: Context) -> None:
    admin = key(context)
    one = open_account(client, admin, 1)
    two = open_account(client, admin, 2)
    with context.session() as db:
        for email, role, account in (
            ("boss@vendor.ru", "vendor_admin", None),
            ("it@one.ru", "account_admin", one),
            ("Acc@Two.ru", "account_admin", two),
            ("ops@vendor.ru", "vendor_operator", None),
        ):
            create_person(
                db, email=email, role=role, account_id=account, actor="test", clock=context.clock
            )
    every = client.get("/api/v1/people?limit=3", headers=admin).json()
    assert [p["email"] for p in every["data"]] == ["boss@vendor.ru", "it@one.ru", "acc@two.ru"]
    assert every["has_more"] is True
    assert all("password" not in str(p) and "hash" not in str(p) for p in every["data"])
    customers = client.get("/api/v1/people?role=account_admin", headers=admin).json()
    assert [p["account_id"] for p in customers["data"]] == [one, two]
    of_two = client.get(f"/api/v1/people?account_id={two}", headers=admin).json()["data"]
    assert [p["email"] for p in of_two] == ["acc@two.ru"]
    found = client.get("/api/v1/people?email=ACC@two.ru", headers=admin).json()["data"]
    assert [p["account_id"] for p in found] == [two]
    assert client.get("/api/v1/people?role=root", headers=admin).status_code == 422
    theirs = key(context, role="account_admin", account=one)
    assert client.get("/api/v1/people", headers=theirs).status_code == 403


def test_a_key_remembers_when_it_was_last_used_to_the_minute(
    client: TestClient, context: Context
) -> None:
    admin = key(context)
    account = open_account(client, admin, 1)
    made = client.post(
        "/api/v1/api-keys", json={"role": "account_admin", "account_id": account}, headers=admin
    ).json()
    own = {"Authorization": f"Bearer {made['key']}"}

    def last_used() -> str | None:
        rows = client.get("/api/v1/api-keys", headers=admin).json()["data"]
        found: str | None = next(r["last_used_at"] for r in rows if r["prefix"] == made["prefix"])
        return found

    assert made["last_used_at"] is None and last_used() is None  # made, never used
    clock = context.clock
    assert isinstance(clock, FixedClock)
    first = clock.instant
    assert client.get(f"/api/v1/accounts/{account}", headers=own).status_code == 200
    assert _at(last_used()) == first
    clock.instant = first + timedelta(seconds=30)  # within the minute: not written again
    entitled = client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=own)
    assert entitled.status_code == 200, entitled.text
    assert _at(last_used()) == first
    clock.instant = first + timedelta(minutes=2)  # the entitlement route marks it too
    for _ in range(2):  # the second answer comes from memory (the kept key), still marked
        client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=own)
    assert _at(last_used()) == first + timedelta(minutes=2)
    clock.instant = first + timedelta(minutes=4)
    assert client.get("/api/v1/accounts/999999", headers=own).status_code == 404  # still used
    assert _at(last_used()) == first + timedelta(minutes=4)
    wrong = {"Authorization": f"Bearer {made['key']}x"}  # a wrong secret is not a use
    clock.instant = first + timedelta(minutes=6)
    assert client.get(f"/api/v1/accounts/{account}", headers=wrong).status_code == 401
    assert _at(last_used()) == first + timedelta(minutes=4)


def _at(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)
