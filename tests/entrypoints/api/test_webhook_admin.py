"""Webhook endpoints' paging, deletion and test delivery through the API, on SQLite and
PostgreSQL: a page at a time by id; a deleted endpoint receives nothing more (its pending
deliveries are given up, events fanned out later make none for it) and answers 404; a test
delivery reaches the webhook sender port signed with the endpoint's secret, and a failing
endpoint is reported (status, error), not answered with a 500."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.app import create_app
from podpiska.core.records import emit
from podpiska.entrypoints.context import Context
from podpiska.notifications.fanout import fan_out
from podpiska.notifications.models import Delivery
from podpiska.notifications.signatures import verify_signature
from podpiska.ports import DeliveryFailed, WebhookRequest, WebhookResponse
from tests.entrypoints.api.test_bank_review import key, open_account


@dataclass
class FakeWebhooks:
    """The webhook sender port: records the requests, answers `status` (or fails)."""

    status: int = 200
    fail: bool = False
    requests: list[WebhookRequest] = field(default_factory=list)

    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        self.requests.append(request)
        if self.fail:
            raise DeliveryFailed("connection refused")
        return WebhookResponse(self.status, "nope" if self.status >= 300 else "ok")


@pytest.fixture
def sender() -> FakeWebhooks:
    return FakeWebhooks()


@pytest.fixture
def context(db_contexts: Callable[..., Context], sender: FakeWebhooks) -> Context:
    made = db_contexts()
    made.__dict__["ports"] = replace(made.ports, webhooks=sender)
    return made


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def _add(client: TestClient, auth: dict[str, str], url: str) -> dict[str, object]:
    added = client.post("/api/v1/webhook-endpoints", json={"url": url}, headers=auth)
    assert added.status_code == 201, added.text
    body: dict[str, object] = added.json()
    return body


def _event(context: Context) -> None:
    now = context.clock.now()
    with context.session() as db, db.begin():
        emit(
            db,
            "invoice.paid",
            account_id=None,
            subscription_id=None,
            occurred_on=now.date(),
            at=now,
            invoice_id=1,
        )
    with context.session() as db:
        fan_out(db, clock=context.clock)


def _webhook_targets(context: Context) -> list[tuple[str, str]]:
    with context.session() as db, db.begin():
        rows = db.execute(
            select(Delivery.target, Delivery.status)
            .where(Delivery.channel == "webhook")
            .order_by(Delivery.id)
        )
        return [(target, status) for target, status in rows]


def test_endpoints_are_paged_by_id(client: TestClient, context: Context) -> None:
    auth = key(context)
    ids = [_add(client, auth, f"https://crm.example/{n}")["id"] for n in range(5)]
    first = client.get("/api/v1/webhook-endpoints?limit=2", headers=auth).json()
    assert [e["id"] for e in first["data"]] == ids[:2]
    assert (first["has_more"], first["next_after"]) == (True, ids[1])
    rest = client.get(
        f"/api/v1/webhook-endpoints?limit=3&after={first['next_after']}", headers=auth
    ).json()
    assert [e["id"] for e in rest["data"]] == ids[2:]
    assert rest["has_more"] is False
    assert all("secret" not in e for e in first["data"] + rest["data"])
    bad = client.get("/api/v1/webhook-endpoints?limit=0", headers=auth)
    assert bad.status_code == 422
    account = open_account(client, auth, 1)
    theirs = key(context, role="account_admin", account=account)
    assert client.get("/api/v1/webhook-endpoints", headers=theirs).status_code == 403
    path = f"/api/v1/webhook-endpoints/{ids[0]}"
    assert client.post(path + "/test", headers=theirs).status_code == 403
    assert client.delete(path, headers=theirs).status_code == 403


def test_a_deleted_endpoint_receives_nothing_more(client: TestClient, context: Context) -> None:
    auth = key(context)
    gone = _add(client, auth, "https://crm.example/gone")
    kept = _add(client, auth, "https://crm.example/kept")
    _event(context)  # one pending delivery to each
    assert sorted(_webhook_targets(context)) == [
        (str(gone["id"]), "pending"),
        (str(kept["id"]), "pending"),
    ]

    deleted = client.delete(f"/api/v1/webhook-endpoints/{gone['id']}", headers=auth)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": gone["id"], "deleted": True, "pending_deliveries_given_up": 1}
    # The history stays; the pending one is given up, never sent.
    assert sorted(_webhook_targets(context)) == [
        (str(gone["id"]), "dead"),
        (str(kept["id"]), "pending"),
    ]

    _event(context)  # fanned out after the delete: no delivery for the deleted endpoint
    targets = [target for target, _ in _webhook_targets(context)]
    assert targets.count(str(gone["id"])) == 1
    assert targets.count(str(kept["id"])) == 2

    path = f"/api/v1/webhook-endpoints/{gone['id']}"
    assert client.delete(path, headers=auth).status_code == 404
    assert client.patch(path, json={"active": True}, headers=auth).status_code == 404
    assert client.post(path + "/test", headers=auth).status_code == 404
    listed = client.get("/api/v1/webhook-endpoints", headers=auth).json()["data"]
    assert [e["id"] for e in listed] == [kept["id"]]
    operator = key(context, role="vendor_operator")
    refused = client.delete(f"/api/v1/webhook-endpoints/{kept['id']}", headers=operator)
    assert refused.status_code == 403


def test_a_test_delivery_is_signed_and_reports_the_outcome(
    client: TestClient, context: Context, sender: FakeWebhooks
) -> None:
    auth = key(context)
    added = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://crm.example/t", "secret": "whsec_test_secret"},
        headers=auth,
    ).json()
    path = f"/api/v1/webhook-endpoints/{added['id']}/test"

    ok = client.post(path, headers=auth)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["delivered"], body["status_code"], body["error"]) == (True, 200, None)
    assert body["duration_ms"] >= 0
    [sent] = sender.requests
    assert sent.url == "https://crm.example/t"
    assert sent.headers["Podpiska-Event"] == "webhook.test"
    assert sent.headers["Podpiska-Delivery"] == body["delivery"]
    assert verify_signature(
        "whsec_test_secret",
        sent.headers["Podpiska-Timestamp"],
        sent.body,
        sent.headers["Podpiska-Signature"],
        now=context.clock.now(),
    )
    assert not verify_signature(
        "whsec_other",
        sent.headers["Podpiska-Timestamp"],
        sent.body,
        sent.headers["Podpiska-Signature"],
        now=context.clock.now(),
    )
    assert _webhook_targets(context) == []  # nothing queued

    sender.status = 500
    failing = client.post(path, headers=auth)
    assert failing.status_code == 200, failing.text
    assert (failing.json()["delivered"], failing.json()["status_code"]) == (False, 500)
    assert failing.json()["error"].startswith("webhook: HTTP 500")

    sender.fail = True
    unreachable = client.post(path, headers=auth).json()
    assert (unreachable["delivered"], unreachable["status_code"]) == (False, None)
    assert "connection refused" in unreachable["error"]
    assert len(sender.requests) == 3
