"""Hostile and careless input through the API, on SQLite and PostgreSQL: amounts that are
not amounts, ids past 2^63, NUL bytes, lone surrogates, huge names, absurd dates, limits and
cursors, tokens. Every one answers 422/404/409 with the error shape, never a 500, and
nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.apikeys import create_api_key
from podpiska.app import create_app
from podpiska.entrypoints.context import Context


@dataclass
class Api:
    client: TestClient
    context: Context
    vendor: dict[str, str]

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        """JSON with \\u escapes, so a lone surrogate travels as a client would send it."""
        return self.client.post(
            f"/api/v1{path}",
            content=json.dumps(body),
            headers={**self.vendor, "Content-Type": "application/json"},
            **kw,
        )

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


# --- item 11: ids, text, dates, limits, tokens, renewal months -------------------------------

HUGE_IDS = [2**63, 2**64, 10**30]


def test_an_id_past_2_63_answers_422_on_every_route_with_an_id(api: Api) -> None:
    account, invoice = api.ordered()
    routes = [
        ("get", "/accounts/{id}"),
        ("get", "/accounts/{id}/subscription"),
        ("get", "/accounts/{id}/users"),
        ("get", "/accounts/{id}/events"),
        ("get", "/accounts/{id}/credit"),
        ("get", "/invoices/{id}"),
        ("get", "/invoices/{id}/pdf"),
        ("get", "/credit-notes/{id}/pdf"),
        ("get", "/test-clocks/{id}"),
        ("get", "/payment-attempts/{id}"),
        ("get", "/accounts/{id}/entitlements/crm.read"),
        ("post", "/test-clocks/{id}/advance"),
        ("post", "/invoices/{id}/payments"),
        ("post", "/subscriptions/{id}/changes"),
    ]
    for method, route in routes:
        for huge in HUGE_IDS:
            path = route.format(id=huge)
            if method == "get":
                answer = api.get(path)
            else:
                answer = api.post(path, {"amount": "1.00", "days": 1, "kind": "seats"})
            error = error_of(answer, 422)
            assert error["code"] == "invalid_request", (path, error)
        if method == "get":
            assert error_of(api.get(route.format(id=0)), 422)["code"] == "invalid_request"
    # in bodies too
    for body in ({"name": "x", "admin_email": "a@b.ru", "test_clock_id": 2**63},):
        assert error_of(api.post("/accounts", body), 422)["code"] == "invalid_request"
    assert api.get(f"/invoices/{invoice['id']}").status_code == 200
    assert api.get(f"/accounts/{account}").status_code == 200


def test_a_use_case_asked_for_an_id_past_2_63_answers_not_found(api: Api) -> None:
    from podpiska.subscriptions import billing

    with api.context.session() as db, pytest.raises(Exception) as caught:
        billing.get_invoice(db, 2**63)
    assert getattr(caught.value, "code", None) == "not_found"


@pytest.mark.parametrize(
    "bad",
    ["ООО\x00Ромашка", "ООО\nРомашка", "ООО \ud800", "Ж" * 100_000],
    ids=["nul", "newline", "surrogate", "huge"],
)
def test_names_with_nul_control_characters_surrogates_or_no_end_are_refused(
    api: Api, bad: str
) -> None:
    assert error_of(api.post("/accounts", {"name": bad, "admin_email": "a@b.ru"}), 422)
    assert error_of(api.post("/test-clocks", {"name": bad}), 422)
    _, invoice = api.ordered()
    paid = api.post(
        f"/invoices/{invoice['id']}/payments", {"amount": "1.00", "external_id": bad[:3000]}
    )
    assert error_of(paid, 422)
    assert api.get(f"/invoices/{invoice['id']}/payments").json() == []
    assert len(api.get("/accounts/1/users").json()) == 1  # only the one ordered above


def test_a_lone_surrogate_in_a_quote_is_refused(api: Api) -> None:
    for body in (
        {"plan": "standard\ud800", "months": 12},
        {"plan": "standard", "months": 12, "promotions": ["\udc00"]},
        {"plan": "standard", "months": 12, "add_ons": ["a\x00"]},
    ):
        assert error_of(api.post("/quotes", body), 422)["code"] == "invalid_request"


def test_list_limits_and_cursors_are_bounded(api: Api) -> None:
    account = api.account()
    for query in ("limit=-1", "limit=0", "limit=1001", "limit=99999999999999999999"):
        for listing in ("/apps", f"/accounts/{account}/events", "/bank-payments"):
            error = error_of(api.get(f"{listing}?{query}"), 422)
            assert (error["code"], error["details"]["field"]) == ("invalid_field", "limit")
    for query in ("after=%00", "after=a%00b", "after=" + "z" * 600):
        assert error_of(api.get(f"/apps?{query}"), 422)
    assert error_of(api.get(f"/accounts/{account}/events?after=-1"), 422)
    assert error_of(api.get(f"/accounts/{account}/events?after={2**63}"), 422)
    assert error_of(api.get("/migrations/a%00b/impact"), 422)["code"] == "invalid_field"
    assert api.get("/apps?limit=1").status_code == 200


def test_the_apps_list_use_case_bounds_its_limit(api: Api) -> None:
    from podpiska.catalog.apps import list_apps

    with api.context.session() as db:  # LIMIT -1 was every row on SQLite, an error on PG
        assert list_apps(db, limit=-1) == []
        assert list_apps(db, limit=10**12) == []


@pytest.mark.parametrize(
    "now",
    [0, "1970-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00",
     "9999-12-31T23:59:59-05:00", "2027-01-01T00:00:00", "2100-01-01T00:00:00+00:00"],
)  # fmt: skip
def test_a_test_clock_lives_between_2000_and_2100_with_its_offset(api: Api, now: Any) -> None:
    error = error_of(api.post("/test-clocks", {"name": "t", "now": now}), 422)
    assert error["code"] == "invalid_request"
    made = api.post("/test-clocks", {"name": "t", "now": "2027-01-01T00:00:00+03:00"})
    assert made.status_code == 201, made.text
    far = api.post(f"/test-clocks/{made.json()['id']}/advance", {"to": "9999-12-31T00:00:00+03:00"})
    assert error_of(far, 422)["code"] == "test_clock_advance_too_far"  # says the maximum


def test_a_change_token_with_a_non_ascii_character_is_an_invalid_token(api: Api) -> None:
    account, invoice = api.ordered()
    api.post(f"/invoices/{invoice['id']}/payments", {"amount": invoice["total"]})
    sub = api.get(f"/accounts/{account}/subscription").json()["id"]
    for token in ("abc.dé", "ё.ё", "\u2603", "x" * 10 + ".é"):
        body = {"kind": "seats", "seats": 60, "preview": False, "token": token}
        answer = api.post(f"/subscriptions/{sub}/changes", body)
        assert error_of(answer, 422)["code"] == "change_token_invalid", token


def test_renewal_months_are_checked_before_the_window(api: Api) -> None:
    clock = api.post("/test-clocks", {"name": "t", "now": "2026-11-22T12:00:00+03:00"}).json()
    account = api.account(test_clock_id=clock["id"])
    ordered = api.post(f"/accounts/{account}/subscriptions", {"plan": "standard", "months": 12})
    invoice = ordered.json()["invoice"]
    api.post(f"/invoices/{invoice['id']}/payments", {"amount": invoice["total"]})
    # outside the window: bad months are bad input (422), not "too early" (409)
    for months in (0, -1, 2**63):
        error = error_of(api.post(f"/accounts/{account}/renewals", {"months": months}), 422)
        assert error["code"] in {"invalid_months", "period_not_offered"}, months
    too_early = api.post(f"/accounts/{account}/renewals", {"months": 12})
    assert error_of(too_early, 409)["code"] == "renewal_too_early"
    # inside the window: 0 is not "the default period", no invoice is issued for it
    moved = api.post(f"/test-clocks/{clock['id']}/advance", {"to": "2027-11-15T12:00:00+03:00"})
    assert moved.status_code == 200, moved.text
    for months in (0, -1):
        error = error_of(api.post(f"/accounts/{account}/renewals", {"months": months}), 422)
        assert error["code"] == "invalid_months"
    assert api.get(f"/accounts/{account}/subscription").json()["renewal_invoice_id"] is None
    renewed = api.post(f"/accounts/{account}/renewals", {})
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["months"] == 12
    lines_sum_to_total(renewed.json())


def test_an_inn_or_kpp_in_other_digits_is_refused(api: Api) -> None:
    for fields in (
        {"inn": "７７０７０８３８９３"},
        {"inn": "7707083893", "kpp": "７７０７０１００１"},
        {"inn": "7707083893", "kpp": "٧٧٠٧٠١٠٠١"},
    ):
        body = {"name": "ООО «Ромашка»", "admin_email": "a@b.ru", **fields}
        assert error_of(api.post("/accounts", body), 422)["code"] == "invalid_field"
    body = {"name": "ООО «Ромашка»", "admin_email": "a@b.ru", "admin_phone": "+７ 999 123-45-67"}
    assert error_of(api.post("/accounts", body), 422)["code"] == "invalid_field"
    made = api.account(inn="7707083893", kpp="770701001", admin_phone="+7 999 123-45-67")
    assert api.get(f"/accounts/{made}").json()["kpp"] == "770701001"
