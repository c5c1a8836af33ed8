"""`Idempotency-Key` is checked after authentication and scoped to the authenticated key:
a stranger who knows a key's public prefix gets 401 and nothing stored, never the stored
response (the issue's attack on `POST /webhook-endpoints`), and cannot claim a key before
the real caller; a claim left by a crashed request expires in minutes (clock-driven)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.apikeys import create_api_key, key_prefix
from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.core import idempotency
from podpiska.core.models import IdempotencyRecord
from podpiska.entrypoints.context import Context
from podpiska.notifications.models import WebhookEndpoint

HOOK = {"url": "https://crm.example/hook"}
RAW = json.dumps(HOOK).encode()


def _api(db_contexts: Callable[..., Context]) -> tuple[TestClient, Context, str, int]:
    context = db_contexts(load_catalog=True)
    with context.session() as db:
        row, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return TestClient(create_app(context)), context, key, row.id


def _count(context: Context, model: type[IdempotencyRecord] | type[WebhookEndpoint]) -> int:
    with context.session() as db, db.begin():
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_stranger_with_the_prefix_gets_401_and_no_stored_secret(
    db_contexts: Callable[..., Context],
) -> None:
    client, context, key, _ = _api(db_contexts)
    owner = {"Authorization": f"Bearer {key}", "Idempotency-Key": "wh-1"}
    first = client.post("/api/v1/webhook-endpoints", json=HOOK, headers=owner)
    assert first.status_code == 201, first.text
    assert first.json()["secret"]

    stranger = {"Authorization": f"Bearer pk_{key_prefix(key)}_nope", "Idempotency-Key": "wh-1"}
    attack = client.post("/api/v1/webhook-endpoints", json=HOOK, headers=stranger)
    assert attack.status_code == 401
    assert "secret" not in attack.text
    assert "Idempotent-Replayed" not in attack.headers
    assert first.json()["secret"] not in attack.text
    assert _count(context, IdempotencyRecord) == 1  # the failed one neither read nor wrote

    # The right key still gets its replay: the same body, nothing created twice.
    again = client.post("/api/v1/webhook-endpoints", json=HOOK, headers=owner)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(context, WebhookEndpoint) == 1


def test_a_stranger_cannot_claim_a_key_before_the_real_caller(
    db_contexts: Callable[..., Context],
) -> None:
    client, context, key, _ = _api(db_contexts)
    stranger = {"Authorization": f"Bearer pk_{key_prefix(key)}_nope", "Idempotency-Key": "wh-2"}
    for _ in range(2):
        assert (
            client.post("/api/v1/webhook-endpoints", json=HOOK, headers=stranger).status_code == 401
        )
    assert _count(context, IdempotencyRecord) == 0

    real = client.post(
        "/api/v1/webhook-endpoints",
        json=HOOK,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "wh-2"},
    )
    assert real.status_code == 201, real.text
    assert "Idempotent-Replayed" not in real.headers
    assert real.json()["secret"]


def test_stored_responses_belong_to_one_key(db_contexts: Callable[..., Context]) -> None:
    client, context, key, _ = _api(db_contexts)
    with context.session() as db:
        _, other = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    mine = client.post(
        "/api/v1/webhook-endpoints",
        json=HOOK,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same"},
    )
    theirs = client.post(
        "/api/v1/webhook-endpoints",
        json=HOOK,
        headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "same"},
    )
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["secret"] != mine.json()["secret"]
    assert _count(context, WebhookEndpoint) == 2


def test_a_claim_left_by_a_crashed_request_expires_in_minutes(
    db_contexts: Callable[..., Context],
) -> None:
    client, context, key, key_id = _api(db_contexts)
    clock = context.clock
    assert isinstance(clock, FixedClock)
    headers = {
        "Authorization": f"Bearer {key}",
        "Idempotency-Key": "crash-1",
        "Content-Type": "application/json",
    }
    with context.session() as db:  # a request claimed the key, then its process died
        claimed = idempotency.claim(
            db,
            api_key_id=key_id,
            key="crash-1",
            method="POST",
            path="/api/v1/webhook-endpoints",
            request_hash=idempotency.request_hash("POST", "/api/v1/webhook-endpoints", "", RAW),
            clock=clock,
        )
    assert isinstance(claimed, int)

    start = clock.instant
    clock.instant = start + timedelta(minutes=1)
    busy = client.post("/api/v1/webhook-endpoints", content=RAW, headers=headers)
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_in_progress"

    clock.instant = start + idempotency.CLAIM_EXPIRES_AFTER + timedelta(seconds=1)
    retried = client.post("/api/v1/webhook-endpoints", content=RAW, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    replayed = client.post("/api/v1/webhook-endpoints", content=RAW, headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == retried.json()
    assert _count(context, WebhookEndpoint) == 1

    # A stored response is kept a day; after that the key is new again.
    clock.instant += idempotency.KEEP_FOR + timedelta(seconds=1)
    later = client.post("/api/v1/webhook-endpoints", content=RAW, headers=headers)
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert _count(context, WebhookEndpoint) == 2
    assert _count(context, IdempotencyRecord) == 1


def test_the_worker_forgets_stored_responses_after_a_day(
    db_contexts: Callable[..., Context],
) -> None:
    """The table does not grow with every POST: the worker's housekeeping deletes what is
    past its 24 hours, once an hour, and keeps what is younger."""
    from podpiska.entrypoints.worker import InProcessWorker

    client, context, key, _ = _api(db_contexts)
    clock = context.clock
    assert isinstance(clock, FixedClock)
    for n in range(3):
        made = client.post(
            "/api/v1/webhook-endpoints",
            json=HOOK,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"old-{n}"},
        )
        assert made.status_code == 201
    clock.instant += idempotency.KEEP_FOR + timedelta(seconds=1)
    young = client.post(
        "/api/v1/webhook-endpoints",
        json=HOOK,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "young"},
    )
    assert young.status_code == 201
    assert _count(context, IdempotencyRecord) == 4

    worker = InProcessWorker(context)
    assert worker.tick().purged == 3
    assert _count(context, IdempotencyRecord) == 1
    assert worker.tick().purged == 0  # the next purge is an hour later
