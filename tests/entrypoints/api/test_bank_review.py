"""The review queue's outcomes through the API and the CLI, on SQLite and PostgreSQL: a
payment put on an account's credit (`POST /bank-payments/{id}/credit`, `podpiska bank
credit`), set aside as not ours (`.../dismiss`, `bank dismiss`) and taken back
(`.../reopen`, `bank reopen`): vendor keys only, 422 for bad input and 409 for a payment
no longer in the queue, each with its code and a human sentence; exit code 2 with one line
in the CLI."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.apikeys import create_api_key
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.payments import ledger_verify
from tests.entrypoints.cli.test_admin import bad_input, ok
from tests.payments.bank.test_domain import document, statement


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    return db_contexts(load_catalog=True)


def key(context: Context, role: str = "vendor_admin", account: int | None = None) -> dict[str, str]:
    with context.session() as db:
        _, token = create_api_key(
            db, role=role, account_id=account, actor="test", clock=context.clock
        )
    return {"Authorization": f"Bearer {token}"}


def open_account(client: TestClient, auth: dict[str, str], n: int) -> int:
    opened = client.post(
        "/api/v1/accounts",
        json={"name": f"ООО «Клиент {n}»", "admin_email": f"it{n}@example.ru"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def import_queue(client: TestClient, auth: dict[str, str], *amounts: str) -> list[dict[str, Any]]:
    """A statement whose payments name no invoice: they wait in the review queue."""
    text = statement(*(document(str(800 + i), a, f"Аванс {i}") for i, a in enumerate(amounts)))
    imported = client.post(
        "/api/v1/bank-statements?source=day.txt", content=text.encode("cp1251"), headers=auth
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["counts"] == {"unmatched": len(amounts)}
    queue = client.get("/api/v1/bank-payments", headers=auth)
    assert queue.status_code == 200
    result: list[dict[str, Any]] = queue.json()["data"]
    return result


def error_of(answer: Any) -> tuple[int, str, str]:
    error = answer.json()["error"]
    return answer.status_code, error["code"], error["message"]


def test_credit_dismiss_and_reopen_through_the_api(context: Context) -> None:
    client = TestClient(create_app(context))
    admin = key(context)
    operator = key(context, "vendor_operator")
    account = open_account(client, admin, 1)
    first, second = import_queue(client, admin, "1500.00", "700.00")

    credited = client.post(
        f"/api/v1/bank-payments/{first['id']}/credit",
        json={"account_id": account},
        headers=operator,
    )
    assert credited.status_code == 200, credited.text
    body = credited.json()
    assert (body["status"], body["account_id"], body["amount"]) == ("credited", account, "1500.00")
    assert body["resolved_by"].startswith("apikey:") and body["resolved_at"]
    credit = client.get(f"/api/v1/accounts/{account}/credit", headers=admin).json()
    assert Decimal(credit["balance"]) == Decimal("1500.00")

    blank = client.post(
        f"/api/v1/bank-payments/{second['id']}/dismiss",
        json={"reason": "   "},
        headers={**admin, "Accept-Language": "en"},
    )
    assert error_of(blank) == (
        422,
        "bank_payment_reason_required",
        f"Say why bank payment {second['id']} is not ours: the reason cannot be blank.",
    )
    long = client.post(
        f"/api/v1/bank-payments/{second['id']}/dismiss", json={"reason": "x" * 501}, headers=admin
    )
    assert error_of(long)[:2] == (422, "bank_payment_reason_too_long")
    assert "500" in error_of(long)[2]
    missing = client.post(f"/api/v1/bank-payments/{second['id']}/dismiss", json={}, headers=admin)
    assert missing.status_code == 422

    dismissed = client.post(
        f"/api/v1/bank-payments/{second['id']}/dismiss",
        json={"reason": " оплата за чужой сервис "},
        headers=admin,
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["reason"]) == (
        "dismissed",
        "оплата за чужой сервис",
    )
    assert client.get("/api/v1/bank-payments", headers=admin).json()["data"] == []

    # no longer in the queue: 409 with the code and a sentence
    for path, payload in (
        (f"{first['id']}/credit", {"account_id": account}),
        (f"{first['id']}/dismiss", {"reason": "x"}),
        (f"{second['id']}/credit", {"account_id": account}),
        (f"{second['id']}/resolve", {"invoice_id": 1}),
    ):
        again = client.post(f"/api/v1/bank-payments/{path}", json=payload, headers=admin)
        status, code, message = error_of(again)
        assert (status, code) == (409, "bank_payment_resolved"), path
        assert "уже разобран" in message
    not_dismissed = client.post(f"/api/v1/bank-payments/{first['id']}/reopen", headers=admin)
    assert error_of(not_dismissed)[:2] == (409, "bank_payment_not_dismissed")

    reopened = client.post(f"/api/v1/bank-payments/{second['id']}/reopen", headers=operator)
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["reason"]) == ("unmatched", None)
    assert [p["id"] for p in client.get("/api/v1/bank-payments", headers=admin).json()["data"]] == [
        second["id"]
    ]
    # the listing by status: what was done, newest first
    credited_list = client.get("/api/v1/bank-payments?status=credited", headers=admin).json()[
        "data"
    ]
    assert [(p["id"], p["status"], p["account_id"]) for p in credited_list] == [
        (first["id"], "credited", account)
    ]
    everything = client.get("/api/v1/bank-payments?status=all", headers=admin).json()["data"]
    assert [p["id"] for p in everything] == [second["id"], first["id"]]
    for query in ("status=nonsense", "limit=0", "limit=1001"):
        bad = client.get(f"/api/v1/bank-payments?{query}", headers=admin)
        assert error_of(bad)[:2] == (422, "invalid_field"), query
    unknown = client.post(
        f"/api/v1/bank-payments/{second['id']}/credit", json={"account_id": 999}, headers=admin
    )
    assert error_of(unknown)[:2] == (404, "not_found")
    with context.session() as db:
        assert ledger_verify.verify(db).ok


def test_other_roles_may_not_deal_with_the_queue(context: Context) -> None:
    client = TestClient(create_app(context))
    admin = key(context)
    account = open_account(client, admin, 1)
    (waiting,) = import_queue(client, admin, "1500.00")
    own = key(context, "account_admin", account)
    for path, payload in (
        ("credit", {"account_id": account}),
        ("dismiss", {"reason": "не наш"}),
        ("reopen", None),
    ):
        refused = client.post(
            f"/api/v1/bank-payments/{waiting['id']}/{path}", json=payload, headers=own
        )
        assert refused.status_code == 403, path
        anonymous = client.post(f"/api/v1/bank-payments/{waiting['id']}/{path}", json=payload)
        assert anonymous.status_code == 401, path
    assert [p["id"] for p in client.get("/api/v1/bank-payments", headers=admin).json()["data"]] == [
        waiting["id"]
    ]


def test_the_cli_credits_dismisses_and_reopens(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    admin = key(context)
    account = open_account(client, admin, 1)
    first, second = import_queue(client, admin, "1500.00", "700.00")

    out = ok(context, capsys, "bank", "credit", str(first["id"]), "--account", str(account))
    assert f"to the credit of account {account}" in out and "1500.00" in out
    blank = bad_input(context, capsys, "bank", "dismiss", str(second["id"]), "--reason", "  ")
    assert "причина не может быть пустой" in blank
    out = ok(context, capsys, "bank", "dismiss", str(second["id"]), "--reason", "не наш платёж")
    assert "not ours (не наш платёж)" in out
    assert "nothing to review" in ok(context, capsys, "bank", "review")
    twice = bad_input(context, capsys, "bank", "credit", str(second["id"]), "--account", "1")
    assert "уже разобран" in twice
    out = ok(context, capsys, "bank", "reopen", str(second["id"]))
    assert "back in the review queue" in out
    assert "Аванс 1" in ok(context, capsys, "bank", "review")
    assert "не отмечен" in bad_input(context, capsys, "bank", "reopen", str(first["id"]))
