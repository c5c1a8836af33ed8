"""Operations endpoints and the cross-cutting behaviour of every response, on SQLite and on
PostgreSQL: /healthz, /readyz (database reachable, migrations current), /metrics, the
X-Request-ID header, and the one error shape for unknown routes and missing keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")

MADE: list[Context] = []  # contexts built by this module's tests


def ops_context(url: str, tmp_path: Path) -> Context:
    settings = Settings(
        env="test",
        database_url=url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        log_format="text",
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    MADE.append(made)
    return made


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of the contexts a test made (their databases are
    dropped after the test)."""
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:  # the engine was built
            made.sessions.kw["bind"].dispose()


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> TestClient:
    return TestClient(create_app(ops_context(db_url, tmp_path)))


def assert_error(body: Any, code: str) -> str:
    """The one error shape: {"error": {"code", "message", "details"}}; returns the message."""
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["details"], dict)
    message: str = body["error"]["message"]
    assert message.strip()
    assert "Traceback" not in message
    return message


# --- liveness and readiness -----------------------------------------------------------------


def test_healthz_answers_ok(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ready": True, "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_is_not_ready_while_migrations_are_pending(
    empty_db_url: str, tmp_path: Path
) -> None:
    client = TestClient(create_app(ops_context(empty_db_url, tmp_path)))
    answer = client.get("/readyz")
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["ready"] is False
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("pending")
    assert "podpiska init" in body["checks"]["migrations"]
    # The process itself is alive all the same.
    assert client.get("/healthz").status_code == 200


def test_readyz_and_metrics_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/podpiska"  # nothing listens on port 1
    client = TestClient(create_app(ops_context(url, tmp_path)))
    ready = client.get("/readyz")
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["ready"] is False
    assert body["checks"]["database"].startswith("unreachable")
    assert "migrations" not in body["checks"]  # not asked when the database is away
    metrics = client.get("/metrics")
    assert metrics.status_code == 200  # metrics never fail because the database is away
    assert 'podpiska_outbox_backlog{stage="unknown"} -1.0' in metrics.text


# --- metrics --------------------------------------------------------------------------------


def vendor_client(db_url: str, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    context = ops_context(db_url, tmp_path)
    with context.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=context.clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return TestClient(create_app(context)), {"Authorization": f"Bearer {key}"}


def metric_lines(text: str, name: str) -> dict[str, float]:
    """{'{labels}': value} of one metric in the Prometheus text format."""
    found = re.findall(rf"^{name}(\{{.*\}}) (\S+)$", text, re.MULTILINE)
    return {labels: float(value) for labels, value in found}


def test_metrics_count_requests_and_the_outbox_backlog(db_url: str, tmp_path: Path) -> None:
    client, auth = vendor_client(db_url, tmp_path)
    opened = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Метрика»", "admin_email": "ops@metrika.example"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    ordered = client.post(
        f"/api/v1/accounts/{opened.json()['id']}/subscriptions",
        json={"plan": "basic", "months": 1},
        headers=auth,
    )
    assert ordered.status_code == 201, ordered.text
    assert client.get("/healthz").status_code == 200

    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert "# TYPE podpiska_http_requests_total counter" in text
    requests = metric_lines(text, "podpiska_http_requests_total")
    assert requests['{method="GET",route="/healthz",status="200"}'] >= 1, requests
    # Routes are counted by their template, never by the path with its ids.
    assert any(
        labels.startswith('{method="POST",route="')
        and labels.endswith('/accounts/{account_id}/subscriptions",status="201"}')
        for labels in requests
    ), requests
    assert not any(re.search(r"/accounts/\d", labels) for labels in requests), requests

    assert "# TYPE podpiska_outbox_backlog gauge" in text
    backlog = metric_lines(text, "podpiska_outbox_backlog")
    stages = {labels.split('"')[1]: value for labels, value in backlog.items()}
    assert {"events_waiting", "email_pending", "email_dead", "webhook_pending", "webhook_dead"} <= (
        set(stages)
    ), stages
    # Nothing has delivered the order's events (invoice issued, order taken) yet.
    assert stages["events_waiting"] >= 2
    assert stages["email_dead"] == 0
    assert stages["webhook_dead"] == 0


def test_metrics_label_a_route_by_its_full_template(db_url: str, tmp_path: Path) -> None:
    client, auth = vendor_client(db_url, tmp_path)
    assert client.get("/api/v1/accounts/999999", headers=auth).status_code == 404
    requests = metric_lines(client.get("/metrics").text, "podpiska_http_requests_total")
    assert '{method="GET",route="/api/v1/accounts/{account_id}",status="404"}' in requests, requests


# --- request ids ----------------------------------------------------------------------------


def test_every_response_has_a_request_id(client: TestClient) -> None:
    answers = [
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/metrics"),
        client.get("/no/such/route"),
        client.post("/api/v1/accounts", json={}),  # 401
        client.get("/api/v1/accounts/1", headers={"Authorization": "Bearer pk_nope_nope"}),
    ]
    ids = [answer.headers.get("X-Request-ID") for answer in answers]
    for rid in ids:
        assert rid is not None and REQUEST_ID.match(rid), ids
    assert len(set(ids)) == len(ids)  # a new one for each request


def test_a_given_request_id_is_echoed_back(client: TestClient) -> None:
    for path in ("/healthz", "/no/such/route"):
        answer = client.get(path, headers={"X-Request-ID": "req-from-the-balancer-42"})
        assert answer.headers["X-Request-ID"] == "req-from-the-balancer-42"
    posted = client.post("/api/v1/accounts", json={}, headers={"X-Request-ID": "abc"})
    assert posted.status_code == 401
    assert posted.headers["X-Request-ID"] == "abc"


# --- the error shape ------------------------------------------------------------------------


def test_an_unknown_route_answers_404_in_the_error_shape(client: TestClient) -> None:
    for path in ("/no/such/route", "/api/v1/nothing-here"):
        answer = client.get(path)
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert_error(answer.json(), "not_found")
    english = client.get("/no/such/route", headers={"Accept-Language": "en"})
    assert assert_error(english.json(), "not_found") == "Not found."
    russian = client.get("/no/such/route", headers={"Accept-Language": "ru"})
    assert assert_error(russian.json(), "not_found") == "Не найдено."


def test_a_post_without_a_key_answers_401_in_the_error_shape(client: TestClient) -> None:
    body = {"name": "ООО «Без ключа»", "admin_email": "a@example.ru"}
    for headers in (
        {},
        {"Idempotency-Key": "no-key-1"},  # authentication answers before idempotency
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer pk_000000000000_wrong"},
        {"Authorization": "Bearer not-a-podpiska-key"},
    ):
        answer = client.post("/api/v1/accounts", json=body, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert_error(answer.json(), "unauthorized")
    # Nothing was created by any of them: the same request with idempotency is still 401.
    again = client.post("/api/v1/accounts", json=body, headers={"Idempotency-Key": "no-key-1"})
    assert again.status_code == 401
    assert "Idempotent-Replayed" not in again.headers


def test_a_401_names_the_bearer_scheme(client: TestClient) -> None:
    answer = client.post("/api/v1/accounts", json={})
    assert answer.status_code == 401
    assert answer.headers.get("WWW-Authenticate", "").startswith("Bearer")
