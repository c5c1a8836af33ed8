"""Mid-term changes through the API, on SQLite and PostgreSQL: a preview and its commit
give the same lines; the change waits for its money; a stale preview answers 409."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.subscriptions.catalogs import load_catalog_document

PROJECT = Path(__file__).resolve().parents[3]
MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 22, 10, 0, tzinfo=MSK)


class Api:
    def __init__(self, db_url: str, tmp_path: Path, catalog: str) -> None:
        settings = Settings(
            env="test",
            database_url=db_url,
            catalog=PROJECT / "catalogs" / catalog,
            cache_dir=tmp_path / "cache",
            mailbox_dir=tmp_path / "mail",
        )
        self.clock = FixedClock(START)
        self.context = build_context(settings=settings, clock=self.clock)
        with self.context.session() as db:
            load_catalog_document(db, path=settings.catalog, actor="test", clock=self.clock)
            _, key = create_api_key(db, role="vendor_admin", actor="test", clock=self.clock)
        self.client = TestClient(create_app(self.context))
        self.auth = {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.auth)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def active(self, plan: str, months: int, users: int | None = None) -> tuple[int, int]:
        body = {"name": "ООО «Ромашка»", "admin_email": "admin@romashka.ru"}
        account = self.post("/accounts", body, 201)["id"]  # fmt: skip
        wanted: dict[str, Any] = {"plan": plan, "months": months}
        if users is not None:
            wanted["users"] = users
        order = self.post(f"/accounts/{account}/subscriptions", wanted, 201)
        invoice = order["invoice"]
        self.post(
            f"/invoices/{invoice['id']}/payments",
            {"amount": invoice["total"], "method": "bank_transfer"},
            201,
        )
        return account, order["subscription"]["id"]


def lines_sum(body: dict[str, Any]) -> Decimal:
    return sum((Decimal(line["amount"]) for line in body["lines"]), Decimal(0))


def test_an_upgrade_previews_commits_and_applies_when_paid(db_url: str, tmp_path: Path) -> None:
    api = Api(db_url, tmp_path, "crm-shop.yaml")
    account, sub = api.active("standard", 12)  # 43 092,00 ₽ for 22.11.2026 — 22.11.2027
    api.clock.instant = START + timedelta(days=242)  # 123 days left of 365
    preview = api.post(f"/subscriptions/{sub}/changes", {"kind": "plan", "plan": "professional"})
    assert [(line["code"], line["amount"]) for line in preview["lines"]] == [
        ("standard", "-14521.41"),
        ("professional", "29079.22"),
    ]
    assert preview["lines"][0]["explain"] == "−(43 092,00 ₽ × 123/365 дн.) = −14 521,41 ₽"
    assert preview["lines"][1]["explain"] == (
        "86 292,00 ₽ (12 мес. − 10 %) × 123/365 дн. = 29 079,22 ₽"
    )
    assert preview["amount_due"] == "14557.81" == str(lines_sum(preview))
    assert preview["paid_through"] == "2027-11-21"

    done = api.post(
        f"/subscriptions/{sub}/changes",
        {"kind": "plan", "plan": "professional", "preview": False, "token": preview["token"]},
    )
    assert done["change"]["status"] == "pending"
    assert [line["amount"] for line in done["change"]["lines"]] == ["-14521.41", "29079.22"]
    invoice = done["invoice"]
    assert invoice["total"] == "14557.81" == str(lines_sum(invoice))
    assert done["subscription"]["plan"] == "standard"  # nothing changes before the money
    explained = api.client.get(f"/api/v1/invoices/{invoice['id']}/explain", headers=api.auth)
    assert "123/365 дн." in explained.json()["text"]

    paid = api.post(
        f"/invoices/{invoice['id']}/payments", {"amount": "14557.81", "method": "card"}, 201
    )
    assert paid["subscription"]["plan"] == "professional"
    assert paid["subscription"]["paid_through"] == "2027-11-21"
    rest = api.client.get(f"/api/v1/accounts/{account}/entitlements/users.add", headers=api.auth)
    assert rest.json()["allowed"] is True
    from podpiska.payments.ledger_verify import verify

    with api.context.session() as db:
        assert verify(db).ok


def test_a_stale_preview_is_refused_with_409(db_url: str, tmp_path: Path) -> None:
    api = Api(db_url, tmp_path, "crm-shop.yaml")
    _, sub = api.active("standard", 12)
    api.clock.instant = datetime(2027, 3, 1, 23, 58, tzinfo=MSK)
    preview = api.post(f"/subscriptions/{sub}/changes", {"kind": "plan", "plan": "professional"})
    api.clock.instant = datetime(2027, 3, 2, 0, 3, tzinfo=MSK)  # past midnight: a day less
    stale = api.client.post(
        f"/api/v1/subscriptions/{sub}/changes",
        headers=api.auth,
        json={"kind": "plan", "plan": "professional", "preview": False, "token": preview["token"]},
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "change_stale"
    forged = api.client.post(
        f"/api/v1/subscriptions/{sub}/changes",
        headers=api.auth,
        json={
            "kind": "plan",
            "plan": "professional",
            "preview": False,
            "token": preview["token"][:-2] + "00",
        },
    )
    assert forged.status_code == 422
    assert forged.json()["error"]["code"] == "change_token_invalid"


def test_seats_on_shorten_term_move_the_end_without_charge(db_url: str, tmp_path: Path) -> None:
    api = Api(db_url, tmp_path, "site-platform.yaml")
    _, sub = api.active("business", 12)  # 10 users: 35 598,00 ₽
    api.clock.instant = START + timedelta(days=242)
    preview = api.post(f"/subscriptions/{sub}/changes", {"kind": "seats", "seats": 15})
    assert preview["amount_due"] == "0.00"
    # 35 598 × 123/365 = 11 996,04 left; 54 978 ÷ 365 = 150,62 a day → 79 days
    assert preview["ends_on"] == "2027-10-09"
    done = api.post(
        f"/subscriptions/{sub}/changes",
        {"kind": "seats", "seats": 15, "preview": False, "token": preview["token"]},
    )
    assert done["change"]["status"] == "applied"
    assert done["invoice"] is None
    assert (done["subscription"]["seats"], done["subscription"]["paid_through"]) == (
        15,
        "2027-10-08",
    )


def test_a_downgrade_waits_for_the_next_term_and_is_refused_over_the_limits(
    db_url: str, tmp_path: Path
) -> None:
    api = Api(db_url, tmp_path, "crm-shop.yaml")
    account, sub = api.active("standard", 12)
    for n in range(6):
        api.post(f"/accounts/{account}/users", {"email": f"u{n}@romashka.ru"}, 201)
    refused = api.client.post(
        f"/api/v1/subscriptions/{sub}/changes",
        headers=api.auth,
        json={"kind": "plan", "plan": "basic"},
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "downgrade_blocked"
    assert "заблокируйте 2 польз." in refused.json()["error"]["message"]
    users = api.client.get(f"/api/v1/accounts/{account}/users", headers=api.auth).json()
    for user in users[-2:]:
        api.post(f"/accounts/{account}/users/{user['id']}/block", {})
    preview = api.post(f"/subscriptions/{sub}/changes", {"kind": "plan", "plan": "basic"})
    assert preview["scheduled"] is True
    assert preview["effective_on"] == "2027-11-22"
    assert preview["lines"] == []
    done = api.post(
        f"/subscriptions/{sub}/changes",
        {"kind": "plan", "plan": "basic", "preview": False, "token": preview["token"]},
    )
    assert done["change"]["status"] == "scheduled"
    api.clock.instant = START + timedelta(days=340)
    renewal = api.post(f"/accounts/{account}/renewals", {"months": 12}, 201)
    assert renewal["plan"] == "basic"
    assert renewal["total"] == "21492.00"


@pytest.mark.parametrize("body", [{"kind": "seats"}, {"kind": "plan", "plan": "nope"}])
def test_bad_changes_are_422(db_url: str, tmp_path: Path, body: dict[str, Any]) -> None:
    api = Api(db_url, tmp_path, "crm-shop.yaml")
    _, sub = api.active("standard", 12)
    answer = api.client.post(f"/api/v1/subscriptions/{sub}/changes", json=body, headers=api.auth)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] in {"invalid_field", "unknown_plan"}
