"""Schemathesis over every operation of the API's OpenAPI, on PostgreSQL (the stricter
backend: NUL bytes, bigint ranges), with a vendor's key and with an account's key: no
answer is a 5xx. Bounded and derandomized, so it is part of every test run and never flaky:
the same examples each time, a few per operation, valid (positive) and invalid (negative)
ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from podpiska.accounts import accounts
from podpiska.accounts.apikeys import create_api_key
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.subscriptions import billing

EXAMPLES_PER_OPERATION = 6
# Operations whose body is not JSON (a 1C statement as bytes) or that stand for an outside
# party (the gateway's webhook, checked by its own signature) are fuzzed like the rest.


def _world(context: Context) -> tuple[dict[str, str], dict[str, str]]:
    """A vendor key, and an account with an order and the account's own key."""
    with context.session() as db:
        _, vendor = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
        account = accounts.open_account(
            db, name="ООО «Ромашка»", admin_email="a@romashka.ru", actor="t", clock=context.clock
        )
        billing.order_subscription(
            db, account_id=account.id, plan="standard", months=12, actor="t", clock=context.clock
        )
        _, own = create_api_key(
            db, role="account_admin", account_id=account.id, actor="t", clock=context.clock
        )
    return {"Authorization": f"Bearer {vendor}"}, {"Authorization": f"Bearer {own}"}


@pytest.mark.postgres_only
def test_no_operation_answers_a_server_error(db_contexts: Callable[..., Context]) -> None:
    context = db_contexts(load_catalog=True)
    vendor, own = _world(context)
    app = create_app(context)
    client = TestClient(app, raise_server_exceptions=False)
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for auth in (vendor, own):
                _fuzz(client, operation, mode, auth, failures)
    assert not failures, "\n".join(failures)


def _fuzz(
    client: TestClient, operation: Any, mode: GenerationMode, auth: dict[str, str],
    failures: list[str],
) -> None:  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **auth}
        method = kwargs.pop("method")
        url = kwargs.pop("url")
        kwargs.pop("cookies", None)
        response = client.request(method, url, **_httpx(kwargs))
        if response.status_code >= 500:
            failures.append(
                f"{operation.label} [{mode.value}] -> {response.status_code}: "
                f"{kwargs!r:.300} {response.text[:300]}"
            )

    try:
        run()
    except hypothesis.errors.Unsatisfiable:  # nothing invalid to send (no parameters, no body)
        assert mode is GenerationMode.NEGATIVE, operation.label


def _httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments as httpx's TestClient takes them."""
    out: dict[str, Any] = {"headers": kwargs.get("headers"), "params": kwargs.get("params")}
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    if "data" in kwargs and kwargs["data"] is not None:
        out["content"] = kwargs["data"]
    return out
