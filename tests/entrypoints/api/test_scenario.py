"""The license's whole life through the API, on SQLite and on PostgreSQL:
order → pay → reminders at 30, 7 and 0 days → grace (creating a deal refused, reading
allowed) → suspension → a renewal that bills the overdue period → active again."""

from __future__ import annotations

from datetime import datetime
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
from podpiska.entrypoints.context import Context
from podpiska.subscriptions.catalogs import load_catalog_document

PROJECT = Path(__file__).resolve().parents[3]
MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 22, 10, 0, tzinfo=MSK)


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> tuple[TestClient, Context, dict[str, str]]:
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
    return client, context, {"Authorization": f"Bearer {key}"}


def lines_sum_to_total(invoice: dict[str, Any]) -> None:
    total = sum((Decimal(line["amount"]) for line in invoice["lines"]), Decimal(0))
    assert total == Decimal(invoice["total"])
    assert Decimal(invoice["subtotal"]) - Decimal(invoice["discount"]) == Decimal(invoice["total"])


def event_types(client: TestClient, auth: dict[str, str], account: int) -> list[tuple[str, Any]]:
    body = client.get(f"/api/v1/accounts/{account}/events?limit=1000", headers=auth).json()
    return [(e["type"], e["occurred_on"]) for e in body["data"]]


def test_the_life_of_a_license(api: tuple[TestClient, Context, dict[str, str]]) -> None:
    client, context, auth = api
    clock = client.post(
        "/api/v1/test-clocks", json={"name": "scenario", "now": START.isoformat()}, headers=auth
    )
    assert clock.status_code == 201, clock.text
    clock_id = clock.json()["id"]

    opened = client.post(
        "/api/v1/accounts",
        json={
            "name": "ООО «Ромашка»",
            "admin_email": "admin@romashka.ru",
            "inn": "7707083893",
            "kpp": "770701001",
            "test_clock_id": clock_id,
        },
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()["id"]

    # Order: a quote becomes an issued invoice; pending until paid.
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers={**auth, "Idempotency-Key": "order-1"},
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    assert invoice["number"] == "TEST-2026-000001"  # a test clock's own numbering
    assert invoice["total"] == "43092.00"
    assert invoice["vat"] == {"mode": "included", "rate": "22", "amount": "7770.69"}
    lines_sum_to_total(invoice)
    assert ordered.json()["subscription"]["status"] == "pending"
    refused = client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=auth)
    assert refused.json()["allowed"] is False
    assert refused.json()["reason"] == "not_paid"

    # A partial payment activates nothing; the rest does.
    part = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": "40000.00", "method": "bank_transfer"},
        headers=auth,
    )
    assert part.status_code == 201, part.text
    assert part.json()["subscription"]["status"] == "pending"
    assert part.json()["invoice"]["amount_due"] == "3092.00"
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": "3092.00", "method": "bank_transfer"},
        headers=auth,
    )
    sub = paid.json()["subscription"]
    assert sub["status"] == "active"
    assert (sub["starts_on"], sub["ends_on"], sub["paid_through"]) == (
        "2026-11-22",
        "2027-11-22",
        "2027-11-21",
    )
    assert (
        client.get(f"/api/v1/accounts/{account}/entitlements/crm.create_deal", headers=auth).json()[
            "allowed"
        ]
        is True
    )

    # Reminders 30, 7 and 0 days before the end, each on its day.
    def advance_to(day: str) -> dict[str, Any]:
        moved = client.post(
            f"/api/v1/test-clocks/{clock_id}/advance",
            json={"to": f"{day}T10:00:00+03:00"},
            headers=auth,
        )
        assert moved.status_code == 200, moved.text
        result: dict[str, Any] = moved.json()
        return result

    assert advance_to("2027-10-21")["counts"]["reminders"] == 0
    assert advance_to("2027-10-22")["counts"]["reminders"] == 1
    advance_to("2027-11-21")
    reminders = [
        day for kind, day in event_types(client, auth, account) if kind == "subscription.reminder"
    ]
    assert reminders == ["2027-10-22", "2027-11-14", "2027-11-21"]

    # The term ends: grace, read-only.
    assert advance_to("2027-11-22")["counts"]["grace"] == 1
    deal = client.get(f"/api/v1/accounts/{account}/entitlements/crm.create_deal", headers=auth)
    assert deal.json()["allowed"] is False
    assert deal.json()["reason"] == "grace_restricted"
    assert deal.json()["message"] == (
        "Портал в льготном периоде до 21.12.2027: создание сделок недоступно. Продлите подписку."
    )
    assert (
        client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=auth).json()[
            "allowed"
        ]
        is True
    )

    # Grace is over: suspended; only billing.
    assert advance_to("2027-12-21")["counts"]["suspended"] == 0
    assert advance_to("2027-12-22")["counts"]["suspended"] == 1
    assert (
        client.get(f"/api/v1/accounts/{account}/subscription", headers=auth).json()["status"]
        == "suspended"
    )
    read = client.get(f"/api/v1/accounts/{account}/entitlements/crm.read", headers=auth).json()
    assert (read["allowed"], read["reason"]) == (False, "suspended")
    assert (
        client.get(f"/api/v1/accounts/{account}/entitlements/billing.pay", headers=auth).json()[
            "allowed"
        ]
        is True
    )

    # Restoration: the new term starts at the old end, so the overdue month is paid for.
    renewal = client.post(f"/api/v1/accounts/{account}/renewals", json={"months": 12}, headers=auth)
    assert renewal.status_code == 201, renewal.text
    renewal_invoice = renewal.json()
    assert (renewal_invoice["term_starts_on"], renewal_invoice["term_ends_on"]) == (
        "2027-11-22",
        "2028-11-22",
    )
    assert renewal_invoice["number"] == "TEST-2027-000001"  # per year, without gaps
    lines_sum_to_total(renewal_invoice)
    restored = client.post(
        f"/api/v1/invoices/{renewal_invoice['id']}/payments",
        json={"amount": renewal_invoice["total"], "method": "manual"},
        headers=auth,
    ).json()["subscription"]
    assert restored["status"] == "active"
    assert restored["paid_through"] == "2028-11-21"
    kinds = [kind for kind, _ in event_types(client, auth, account)]
    assert kinds[-1] == "subscription.restored"
    assert "subscription.grace_started" in kinds and "subscription.suspended" in kinds

    # The test clock never touched the real invoice numbers.
    real = client.post("/api/v1/accounts", json={"name": "ООО «Живой»",
                       "admin_email": "live@example.ru"}, headers=auth).json()["id"]  # fmt: skip
    first = client.post(
        f"/api/v1/accounts/{real}/subscriptions", json={"plan": "basic", "months": 1}, headers=auth
    )
    assert first.json()["invoice"]["number"] == "2026-000001"

    # The books balance and agree with the documents after all that.
    from podpiska.payments.ledger_verify import verify

    with context.session() as db:
        report = verify(db)
    assert report.ok, report.unbalanced + report.mismatches
    assert report.transactions >= 6


def test_an_account_key_sees_only_its_account(
    api: tuple[TestClient, Context, dict[str, str]],
) -> None:
    client, context, auth = api
    first = client.post(
        "/api/v1/accounts", json={"name": "A", "admin_email": "a@a.ru"}, headers=auth
    ).json()["id"]
    second = client.post(
        "/api/v1/accounts", json={"name": "B", "admin_email": "b@b.ru"}, headers=auth
    ).json()["id"]
    with context.session() as db:
        _, key = create_api_key(
            db, role="account_admin", account_id=first, actor="test", clock=context.clock
        )
    own = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/accounts/{first}", headers=own).status_code == 200
    other = client.get(f"/api/v1/accounts/{second}", headers=own)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    assert (
        client.post(
            "/api/v1/accounts", json={"name": "C", "admin_email": "c@c.ru"}, headers=own
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/accounts/{first}").status_code == 401
    assert (
        client.get(
            f"/api/v1/accounts/{first}", headers={"Authorization": "Bearer pk_nope_nope"}
        ).status_code
        == 401
    )


def test_idempotency_key_replays_and_refuses_other_parameters(
    api: tuple[TestClient, Context, dict[str, str]],
) -> None:
    client, _, auth = api
    headers = {**auth, "Idempotency-Key": "open-7"}
    body = {"name": "ООО Тест", "admin_email": "t@t.ru"}
    first = client.post("/api/v1/accounts", json=body, headers=headers)
    again = client.post("/api/v1/accounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/accounts", json={**body, "name": "Другое"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"


def test_bad_input_is_422_and_changes_nothing(
    api: tuple[TestClient, Context, dict[str, str]],
) -> None:
    client, _, auth = api
    bad_inn = client.post(
        "/api/v1/accounts",
        json={"name": "X", "admin_email": "x@x.ru", "inn": "7707083894"},
        headers=auth,
    )
    assert bad_inn.status_code == 422
    assert bad_inn.json()["error"]["code"] == "invalid_field"
    account = client.post(
        "/api/v1/accounts", json={"name": "X", "admin_email": "x@x.ru"}, headers=auth
    ).json()["id"]
    assert account == 1  # the refused one wrote nothing
    period = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 7},
        headers=auth,
    )
    assert period.status_code == 422
    assert period.json()["error"]["code"] == "period_not_offered"
    assert client.get(f"/api/v1/accounts/{account}/subscription", headers=auth).status_code == 404
    ok = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "basic", "months": 1},
        headers=auth,
    )
    assert ok.status_code == 201
    assert ok.json()["invoice"]["number"] == "2026-000001"  # no number was burnt
    twice = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "basic", "months": 1},
        headers=auth,
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "subscription_exists"
    over = client.post(
        f"/api/v1/invoices/{ok.json()['invoice']['id']}/payments",
        json={"amount": "99999.00"},
        headers=auth,
    )
    # An overpayment pays the invoice and leaves the rest to the account's credit.
    assert over.status_code == 201, over.text
    assert over.json()["invoice"]["status"] == "paid"
    credit = client.get(f"/api/v1/accounts/{account}/credit", headers=auth).json()
    assert credit["balance"] == "98009.00"  # 99 999,00 − 1 990,00
