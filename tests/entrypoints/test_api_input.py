"""Hostile and careless input through the API, on SQLite and PostgreSQL: amounts that are
not amounts, ids past 2^63, NUL bytes, lone surrogates, huge names, absurd dates, limits and
cursors, tokens. Every one answers 422/404/409 with the error shape, never a 500, and
nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.services.apikeys import create_api_key


@dataclass
class Api:
    client: TestClient
    context: Context
    vendor: dict[str, str]

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=self.vendor, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.vendor, **kw)

    def account(self, **fields: Any) -> int:
        body = {"name": "ООО «Ромашка»", "admin_email": "admin@romashka.ru", **fields}
        made = self.post("/accounts", body)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def ordered(self) -> tuple[int, dict[str, Any]]:
        account = self.account()
        done = self.post(f"/accounts/{account}/subscriptions", {"plan": "standard", "months": 12})
        assert done.status_code == 201, done.text
        return account, done.json()["invoice"]

    def account_key(self, account: int) -> dict[str, str]:
        with self.context.session() as db:
            _, key = create_api_key(
                db, role="account_admin", account_id=account, actor="test", clock=self.context.clock
            )
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(db_contexts: Callable[..., Context]) -> Api:
    context = db_contexts(load_catalog=True)
    with context.session() as db:
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return Api(TestClient(create_app(context)), context, {"Authorization": f"Bearer {key}"})


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def lines_sum_to_total(invoice: dict[str, Any]) -> None:
    total = sum((Decimal(line["amount"]) for line in invoice["lines"]), Decimal(0))
    assert total == Decimal(invoice["total"])


# --- item 3: amounts that are not amounts ----------------------------------------------------

NOT_AMOUNTS: list[Any] = [
    "39_90",
    "3_990.00",
    "３９９０",  # full-width digits
    "٣٩٩٠",  # Arabic-Indic digits
    " 3990 ",
    "1e3",
    "1E3",
    "1e400",
    "NaN",
    "Infinity",
    "-100.00",
    "100.001",
    "1.000,00",
    "1,000.00",
    "99999999999999",  # 14 digits
    "9" * 27,
    "",
    "+100",
    1e3,  # a JSON float
    1500.5,
    10**14,
    -5,
    True,
    None,
    ["100"],
]


def test_payments_of_what_is_not_an_amount_are_refused_and_nothing_is_booked(api: Api) -> None:
    _, invoice = api.ordered()
    for sent in NOT_AMOUNTS:
        answer = api.post(
            f"/invoices/{invoice['id']}/payments", {"amount": sent, "method": "manual"}
        )
        error = error_of(answer, 422)
        assert error["code"] == "invalid_amount", sent
        assert error["details"]["field"] == "amount"
        assert "1500.00" in error["message"]
    raw = '{"amount": 43092.0, "method": "manual"}'  # a JSON float, even an exact one
    answer = api.client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        content=raw,
        headers={**api.vendor, "Content-Type": "application/json"},
    )
    assert error_of(answer, 422)["code"] == "invalid_amount"
    answer = api.post(f"/invoices/{invoice['id']}/payments", {"amount": "0.00"})
    assert error_of(answer, 422)["code"] == "invalid_amount"  # the use-case's rule
    assert api.get(f"/invoices/{invoice['id']}").json()["amount_paid"] == "0.00"
    assert api.get(f"/invoices/{invoice['id']}/payments").json() == []


def test_amounts_in_the_accepted_forms_are_booked_exactly(api: Api) -> None:
    _, invoice = api.ordered()
    booked = Decimal(0)
    for sent, paid in [("100", "100.00"), ("100,5", "100.50"), ("0.05", "0.05"), (7, "7.00")]:
        answer = api.post(
            f"/invoices/{invoice['id']}/payments", {"amount": sent, "method": "manual"}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["payment"]["amount"] == paid
        booked += Decimal(paid)
        assert answer.json()["invoice"]["amount_paid"] == f"{booked:.2f}"
        lines_sum_to_total(answer.json()["invoice"])


def test_refunds_of_what_is_not_an_amount_are_refused(api: Api) -> None:
    account = api.account()
    for sent in ["1e3", "３９９０", " 100 ", "1_0", "1e400", 1e3, "9" * 27]:
        answer = api.post(f"/accounts/{account}/refunds", {"amount": sent})
        assert error_of(answer, 422)["code"] == "invalid_amount", sent
