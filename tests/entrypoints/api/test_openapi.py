"""The OpenAPI document as a client generator reads it: every operation answers a typed
success (a schema for JSON, a media type for a file) and documents its refusals with the
one shape the API answers (`ErrorOut`); FastAPI's `HTTPValidationError` is gone; every
event type Podpiska emits has its webhook, and the bodies really sent match it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.domain.events import EVENT_TYPES
from podpiska.core.models import OutboxEvent
from podpiska.entrypoints.api.schemas.webhooks import PAYLOADS, envelope_of
from podpiska.notifications.messages import webhook_body
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription
from tests.core.domain.test_events import _emitted

PROJECT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
METHODS = {"get", "put", "post", "delete", "patch"}
ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp / 'unused.db'}",
        cache_dir=tmp / "cache",
        mailbox_dir=tmp / "mail",
    )
    client = TestClient(create_app(build_context(settings=settings)))
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_the_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert len(operations(document)) > 60


def test_every_operation_answers_a_typed_success(document: dict[str, Any]) -> None:
    untyped = []
    for method, path, op in operations(document):
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert ok, (method, path)
        for status, answer in ok.items():
            content = answer.get("content")
            if not content:
                untyped.append((method, path, status, "no content"))
                continue
            for media, shape in content.items():
                if media != "application/json":
                    continue  # a file: its media type is its type
                schema = shape.get("schema", {})
                typed = "$ref" in schema or (
                    schema.get("type") == "array" and "$ref" in schema.get("items", {})
                )
                typed = typed or any("$ref" in s for s in schema.get("anyOf", []))
                if not typed:
                    untyped.append((method, path, status, schema))
    assert untyped == []


def test_every_operation_documents_its_refusals_as_error_out(document: dict[str, Any]) -> None:
    missing: list[tuple[Any, ...]] = []
    for method, path, op in operations(document):
        refusals = {s: r for s, r in op["responses"].items() if s.startswith("4")}
        if "422" not in refusals or ("_id}" in path and "404" not in refusals):
            missing.append((method, path, sorted(refusals)))
        for status, answer in refusals.items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ERROR_REF or not answer["description"].startswith("Codes:"):
                missing.append((method, path, status, answer))
    assert missing == []


def test_no_fastapi_validation_error_is_left(document: dict[str, Any]) -> None:
    text = str(document)
    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"error"}


def test_every_emitted_event_type_has_its_webhook(document: dict[str, Any]) -> None:
    exact, prefixes = _emitted()
    emitted = {kind for kind in exact if "." in kind} | {
        kind for kind in EVENT_TYPES if any(kind.startswith(p) for p in prefixes)
    }
    assert emitted <= set(EVENT_TYPES)  # the registry is complete (test_events.py)
    assert set(PAYLOADS) == set(EVENT_TYPES)
    assert set(document["webhooks"]) == set(EVENT_TYPES)
    schemas = document["components"]["schemas"]
    for kind in EVENT_TYPES:
        body = document["webhooks"][kind]["post"]["requestBody"]["content"]["application/json"]
        envelope = schemas[body["schema"]["$ref"].rsplit("/", 1)[-1]]
        assert envelope["properties"]["type"]["const"] == kind
        data = envelope["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
        assert data == PAYLOADS[kind].__name__, kind
        assert schemas[data]["properties"], kind


def test_the_webhook_bodies_sent_match_their_schema(db_url: str, tmp_path: Path) -> None:
    """An account's life through the API; every event it wrote, made into the webhook body
    the worker would send, is read by its type's model."""
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=PROJECT / "catalogs" / "crm-shop.yaml",
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
    )
    context = build_context(settings=settings, clock=FixedClock(START))
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test", clock=context.clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    client = TestClient(create_app(context))
    auth = {"Authorization": f"Bearer {key}"}
    account = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Ромашка»", "admin_email": "a@romashka.ru", "inn": "7707083893"},
        headers=auth,
    ).json()["id"]
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers=auth,
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    for amount in ("40000.00", "3092.00"):
        paid = client.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            json={"amount": amount, "method": "bank_transfer"},
            headers=auth,
        )
        assert paid.status_code == 201, paid.text
    cancelled = client.post(
        f"/api/v1/accounts/{account}/subscription/cancel", json={"undo": False}, headers=auth
    )
    assert cancelled.status_code == 200, cancelled.text
    with context.session() as db, db.begin():
        events = db.scalars(select(OutboxEvent).where(OutboxEvent.account_id == account)).all()
        seen = set()
        for event in events:
            if event.type not in PAYLOADS:
                continue  # recorded for the feed only (user.added...): never a webhook
            sub = db.get(Subscription, event.subscription_id) if event.subscription_id else None
            envelope = envelope_of(event.type).model_validate_json(webhook_body(event, sub))
            assert isinstance(envelope.data, PAYLOADS[event.type])  # type: ignore[attr-defined]
            seen.add(event.type)
    assert {
        "subscription.ordered",
        "invoice.issued",
        "invoice.partially_paid",
        "invoice.paid",
        "subscription.activated",
        "subscription.cancel_scheduled",
    } <= seen
