"""The catalog through the API (SQLite and PostgreSQL): the version in force today by the
clock, every version with its start date, one version by its code; amounts as strings with
two decimals; readable by any key, an account's too (it is the public price list)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.api.test_bank_review import key, open_account
from tests.helpers import PROJECT

SITE_PLATFORM = PROJECT / "catalogs" / "site-platform.yaml"


@pytest.fixture
def context(db_contexts: Callable[..., Context]) -> Context:
    made = db_contexts(catalog=SITE_PLATFORM)
    with made.session() as db:
        load_catalog_document(db, path=SITE_PLATFORM, actor="test", clock=made.clock)
    return made


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def test_the_catalog_in_force_by_the_clock(client: TestClient, context: Context) -> None:
    account = open_account(client, key(context), 1)
    auth = key(context, role="account_admin", account=account)  # an account's key reads it

    today = client.get("/api/v1/catalog", headers=auth)
    assert today.status_code == 200, today.text
    body = today.json()
    assert (body["version"], body["effective_from"], body["in_force"]) == (
        "2026.1",
        "2026-01-01",
        True,
    )
    start = next(p for p in body["plans"] if p["code"] == "start")
    assert (start["monthly_price"], start["extra_user_price"]) == ("1490.00", "380.00")
    assert (start["users_included"], start["max_users"], start["disk_gb"]) == (3, 10, 10)
    assert start["name"] == {"ru": "Старт", "en": "Start"}
    assert start["vat"] == {"mode": "exempt", "rate": "0.00"}
    assert {p["months"]: p["discount_percent"] for p in body["periods"]} == {
        1: "0.00",
        3: "5.00",
        6: "10.00",
        12: "15.00",
    }

    listed = client.get("/api/v1/catalog/versions", headers=auth).json()
    assert listed["today"] == "2026-11-22"
    assert [(v["version"], v["in_force"], v["scheduled"]) for v in listed["data"]] == [
        ("2026.1", True, False),
        ("2027.1", False, True),
    ]
    later = client.get("/api/v1/catalog/versions/2027.1", headers=auth).json()
    assert (later["effective_from"], later["in_force"]) == ("2027-03-01", False)
    later_start = next(p for p in later["plans"] if p["code"] == "start")
    assert later_start["monthly_price"] == "1690.00"
    missing = client.get("/api/v1/catalog/versions/1999.1", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    # The version in force on a given day: the price a quote of that day used.
    on = client.get("/api/v1/catalog", params={"on": "2027-03-01"}, headers=auth).json()
    assert (on["version"], on["in_force"]) == ("2027.1", False)
    on = client.get("/api/v1/catalog", params={"on": "2027-02-28"}, headers=auth).json()
    assert (on["version"], on["in_force"]) == ("2026.1", True)
    early = client.get("/api/v1/catalog", params={"on": "1999-01-01"}, headers=auth)
    assert (early.status_code, early.json()["error"]["code"]) == (422, "no_catalog_version")
    for bad in ("2027-02-30", "tomorrow", "9" * 500):
        refused = client.get("/api/v1/catalog", params={"on": bad}, headers=auth)
        assert refused.status_code == 422, bad

    # The clock moves past the next version's start: it is the one in force.
    assert isinstance(context.clock, FixedClock)
    context.clock.instant = datetime(2027, 3, 1, 0, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    moved = client.get("/api/v1/catalog", headers=auth).json()
    assert (moved["version"], moved["in_force"]) == ("2027.1", True)
    assert client.get("/api/v1/catalog").status_code == 401  # a key is still needed
