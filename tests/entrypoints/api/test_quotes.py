"""`POST /api/v1/quotes` and the API's common behaviour: one error shape, languages,
offline docs, and no traceback ever."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podpiska.app import create_app
from podpiska.entrypoints.api.routers import quotes as quotes_module
from podpiska.entrypoints.cli.main import run
from podpiska.entrypoints.context import Context
from tests.entrypoints.conftest import CRM_SHOP, SITE_PLATFORM, make_context

URL = "/api/v1/quotes"


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def error_of(response: Any, status: int = 422) -> dict[str, Any]:
    """The `error` object of a response, after checking the one error shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert "Traceback" not in response.text
    return error


def has_cyrillic(text: str) -> bool:
    return re.search("[а-яё]", text.lower()) is not None


# --- the same answer as the CLI -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "argv"),
    [
        ({"plan": "standard", "months": 12}, ["--plan", "standard", "--months", "12"]),
        (
            {"plan": "basic", "months": 6, "add_ons": ["marketplace"],
             "promotions": ["MARKETPLACE50"]},
            ["--plan", "basic", "--months", "6", "--addon", "marketplace",
             "--promo", "MARKETPLACE50"],
        ),
        (
            {"plan": "business", "months": 12, "users": 37, "add_ons": ["api_access"],
             "at": "2027-03-01"},
            ["--plan", "business", "--months", "12", "--users", "37", "--addon", "api_access",
             "--at", "2027-03-01"],
        ),
    ],
    ids=["standard-12", "add-on-promo", "per-user-2027"],
)  # fmt: skip
def test_the_api_answers_exactly_what_the_cli_prints(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    argv: list[str],
) -> None:
    catalog = SITE_PLATFORM if body["plan"] == "business" else CRM_SHOP
    context = make_context(tmp_path / "cache", catalog=catalog)
    assert run(context, ["quote", *argv, "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    with TestClient(create_app(context)) as client:
        response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == from_cli


def test_standard_for_twelve_months(client: TestClient) -> None:
    response = client.post(URL, json={"plan": "standard", "months": 12})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "currency",
        "catalog_version",
        "lines",
        "subtotal",
        "discount",
        "total",
        "vat",
    }
    assert data["total"] == "43092.00"
    assert data["vat"] == {"mode": "included", "rate": "22", "amount": "7770.69"}
    assert data["lines"][0]["explain"] == "3 990,00 ₽ × 12 мес. − 10 % за 12 мес. = 43 092,00 ₽"
    assert sum(Decimal(line["amount"]) for line in data["lines"]) == Decimal(data["total"])


def test_the_quote_is_priced_on_the_clocks_day(client: TestClient) -> None:
    # The fixed clock is at 2026-11-22; the promotion ends 2027-06-30.
    ok = client.post(
        URL,
        json={
            "plan": "basic",
            "months": 1,
            "add_ons": ["marketplace"],
            "promotions": ["MARKETPLACE50"],
        },
    )
    assert ok.status_code == 200
    late = client.post(
        URL,
        json={
            "plan": "basic",
            "months": 1,
            "add_ons": ["marketplace"],
            "promotions": ["MARKETPLACE50"],
            "at": "2027-07-01",
        },
    )
    assert error_of(late)["code"] == "promotion_not_active"


# --- errors: 422 with code, message, details ------------------------------------------------


def test_unknown_plan(client: TestClient) -> None:
    error = error_of(client.post(URL, json={"plan": "gold", "months": 12}))
    assert error["code"] == "unknown_plan"
    assert error["details"] == {
        "plan": "gold",
        "allowed": ["basic", "standard", "professional", "enterprise"],
    }
    assert "gold" in error["message"]
    assert has_cyrillic(error["message"])  # Russian by default


def test_period_not_offered(client: TestClient) -> None:
    error = error_of(client.post(URL, json={"plan": "basic", "months": 5}))
    assert error["code"] == "period_not_offered"
    assert error["details"] == {"months": 5, "allowed": [1, 3, 6, 12, 24]}
    assert "1, 3, 6, 12, 24" in error["message"]


def test_too_many_users_suggests_a_plan(client: TestClient) -> None:
    error = error_of(client.post(URL, json={"plan": "basic", "months": 12, "users": 6}))
    assert error["code"] == "too_many_users"
    assert error["details"]["suggested_plan"] == "standard"
    assert error["details"]["max_users"] == 5
    assert error["details"]["users"] == 6


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"plan": "basic", "months": 12, "users": 0}, "invalid_users"),
        ({"plan": "basic", "months": 0}, "invalid_months"),
        ({"plan": "basic", "months": 12, "add_ons": ["crm_plus"]}, "unknown_add_on"),
        ({"plan": "basic", "months": 12, "add_ons": ["marketplace", "marketplace"]},
         "duplicate_add_on"),
        ({"plan": "basic", "months": 12, "promotions": ["FREE"]}, "unknown_promotion"),
        ({"plan": "basic", "months": 12, "promotions": ["MARKETPLACE50"]},
         "promotion_not_applicable"),
        ({"plan": "basic", "months": 12, "add_ons": ["marketplace"],
          "promotions": ["MARKETPLACE50"], "bought_before": ["market_plus"]},
         "promotion_not_eligible"),
        ({"plan": "basic", "months": 12, "at": "2025-12-31"}, "no_catalog_version"),
    ],
    ids=[
        "users-0", "months-0", "unknown-add-on", "add-on-twice", "unknown-promo",
        "promo-without-its-add-on", "promo-not-eligible", "before-the-catalog",
    ],
)  # fmt: skip
def test_business_errors(client: TestClient, body: dict[str, Any], code: str) -> None:
    assert error_of(client.post(URL, json=body))["code"] == code


def test_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post(
        URL, content=b'{"plan": "basic", "months": ', headers={"content-type": "application/json"}
    )
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["details"]["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": "basic", "months": "twelve"}, "months"),
        ({"plan": 5, "months": 12}, "plan"),
        ({"plan": "basic", "months": 12.5}, "months"),
        ({"plan": "basic", "months": 12, "add_ons": "marketplace"}, "add_ons"),
        ({"plan": "basic", "months": 12, "users": [5]}, "users"),
        ({"plan": "basic", "months": 12, "at": "2026-13-01"}, "at"),
        ({"months": 12}, "plan"),
        ({"plan": "basic"}, "months"),
    ],
    ids=[
        "months-word", "plan-number", "months-fraction", "add-ons-string", "users-list",
        "at-month-13", "plan-missing", "months-missing",
    ],
)  # fmt: skip
def test_wrong_types_and_missing_fields(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    error = error_of(client.post(URL, json=body))
    assert error["code"] == "invalid_request"
    assert [e["field"] for e in error["details"]["errors"]] == [field]
    assert field in error["message"]


@pytest.mark.parametrize("body", [[1, 2], "standard", None], ids=["list", "string", "null"])
def test_a_body_that_is_not_an_object(client: TestClient, body: Any) -> None:
    assert error_of(client.post(URL, json=body))["code"] == "invalid_request"


def test_no_body_at_all(client: TestClient) -> None:
    assert error_of(client.post(URL))["code"] == "invalid_request"


def test_an_unknown_field_is_refused(client: TestClient) -> None:
    error = error_of(client.post(URL, json={"plan": "basic", "months": 12, "coupon": "X"}))
    assert error["code"] == "invalid_request"
    assert error["details"]["errors"][0]["field"] == "coupon"
    assert "coupon" in error["message"]


@pytest.mark.parametrize(
    "body",
    [{"plan": "basic", "months": True}, {"plan": "basic", "months": 12, "users": True}],
    ids=["months-true", "users-true"],
)
def test_a_boolean_is_not_a_number(client: TestClient, body: dict[str, Any]) -> None:
    assert error_of(client.post(URL, json=body))["code"] == "invalid_request"


# --- languages ------------------------------------------------------------------------------


def test_accept_language_en(client: TestClient) -> None:
    error = error_of(
        client.post(
            URL,
            json={"plan": "basic", "months": 12, "users": 6},
            headers={"Accept-Language": "en-US,en;q=0.9"},
        )
    )
    assert error["message"] == (
        "Plan 'basic' allows at most 5 users, got 6. Upgrade to Standard (standard)."
    )


def test_query_lang_en(client: TestClient) -> None:
    error = error_of(client.post(f"{URL}?lang=en", json={"plan": "basic", "months": 5}))
    assert error["message"] == (
        "A period of 5 months is not offered. Allowed periods (months): 1, 3, 6, 12, 24."
    )


def test_query_lang_wins_over_accept_language(client: TestClient) -> None:
    error = error_of(
        client.post(
            f"{URL}?lang=ru",
            json={"plan": "gold", "months": 12},
            headers={"Accept-Language": "en"},
        )
    )
    assert has_cyrillic(error["message"])


def test_the_first_language_we_speak_is_chosen(client: TestClient) -> None:
    error = error_of(
        client.post(
            URL,
            json={"plan": "gold", "months": 12},
            headers={"Accept-Language": "de-DE, fr;q=0.9, en;q=0.8"},
        )
    )
    assert error["message"].startswith("Unknown plan 'gold'")


def test_english_quote_lines(client: TestClient) -> None:
    response = client.post(f"{URL}?lang=en", json={"plan": "standard", "months": 12})
    assert response.status_code == 200
    line = response.json()["lines"][0]
    assert line["description"] == "Plan “Standard”"
    assert line["explain"] == "3,990.00 ₽ × 12 mo. − 10% for 12 months = 43,092.00 ₽"


def test_invalid_request_in_english(client: TestClient) -> None:
    error = error_of(client.post(f"{URL}?lang=en", json={"plan": "basic", "months": "x"}))
    assert error["message"].startswith("Invalid request: months")


# --- other routes ---------------------------------------------------------------------------


def test_an_unknown_route_is_404_with_the_error_shape(client: TestClient) -> None:
    error = error_of(client.get("/api/v1/nothing-here"), 404)
    assert error["code"] == "not_found"
    error = error_of(client.get("/nothing-here", headers={"Accept-Language": "en"}), 404)
    assert error["message"] == "Not found."


def test_a_wrong_method_is_405_with_the_error_shape(client: TestClient) -> None:
    assert error_of(client.get(URL), 405)["code"] == "method_not_allowed"


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    for cdn in ("cdn.", "unpkg", "jsdelivr", "cdnjs", "googleapis"):
        assert cdn not in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts, html
    for src in scripts:
        assert src.startswith("/"), f"{src} is not served by the API itself"
        asset = client.get(src)
        assert asset.status_code == 200, src
        assert "javascript" in asset.headers["content-type"]
        assert b"SwaggerUIBundle" in asset.content
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', html)
    for href in styles:
        assert client.get(href).status_code == 200, href


def test_openapi_lists_the_quotes_endpoint(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/quotes" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/quotes"]


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


# --- failures that are not the caller's -----------------------------------------------------


def test_an_unexpected_exception_is_a_500_without_a_traceback(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail /srv/podpiska/quoting.py line 42")

    monkeypatch.setattr(quotes_module, "quote_purchase", explode)
    client = TestClient(create_app(context), raise_server_exceptions=False)
    response = client.post(URL, json={"plan": "standard", "months": 12})
    error = error_of(response, 500)
    assert error["code"] == "internal_error"
    incident = error["details"]["incident"]
    assert incident in error["message"]
    for leak in ("Traceback", "RuntimeError", "secret internal detail", 'File "', ".py"):
        assert leak not in response.text


def test_a_broken_catalog_on_the_server_is_503(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        CRM_SHOP.read_text(encoding="utf-8").replace("monthly_price: 7990", "monthly_price: -5"),
        encoding="utf-8",
    )
    context = make_context(tmp_path / "cache", catalog=broken)
    with TestClient(create_app(context)) as client:
        error = error_of(client.post(URL, json={"plan": "basic", "months": 12}), 503)
    assert error["code"] == "catalog_unavailable"
    assert "versions[0].plans[2].monthly_price" in error["message"]
