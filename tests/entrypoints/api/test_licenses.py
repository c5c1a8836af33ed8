"""License files through the API and the worker, on SQLite and PostgreSQL: the worker (and
the procrastinate task) issues the file of a paid on-premise order, the API lists it,
serves it as text and verifies with the public key it publishes; issuing now is for vendor
keys; an account's key sees its own files only; production never creates a key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import procrastinate
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entitlements.license_files.models import LicenseFile
from podpiska.entitlements.license_files.signing import verify_license_text
from podpiska.entrypoints import queue
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.licenses import issue_licenses
from podpiska.entrypoints.worker import InProcessWorker
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW

TODAY = date(2026, 11, 22)
MADE: list[Context] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while MADE:
        made = MADE.pop()
        if "sessions" in made.__dict__:
            made.sessions.kw["bind"].dispose()


# What production starts with: a random secret and a real gateway (never the sandbox).
PRODUCTION: dict[str, object] = {
    "env": "production",
    "secret_key": "k3J9-qX2vLm8ZpT4wR7yN1cB6dF0hGsA",
    "gateway": "yookassa",
    "yookassa_shop_id": "123456",
    "yookassa_secret_key": "live_not_a_real_key",
}


def make(db_url: str, tmp_path: Path, **settings: object) -> Context:
    values: dict[str, object] = {
        "env": "test",
        "database_url": db_url,
        "catalog": CRM_SHOP,
        "cache_dir": tmp_path / "cache",
        "mailbox_dir": tmp_path / "mail",
        "sandbox_dir": tmp_path / "sandbox",
        "log_format": "text",
        "license_key": tmp_path / "keys" / "license-signing.pem",
        **settings,
    }
    made = build_context(settings=Settings(**values), clock=FixedClock(NOON_IN_MOSCOW))  # type: ignore[arg-type]
    MADE.append(made)
    return made


@pytest.fixture
def context(db_url: str, tmp_path: Path) -> Context:
    made = make(db_url, tmp_path)
    with made.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=made.clock)
    return made


def key(context: Context, role: str = "vendor_admin", account: int | None = None) -> dict[str, str]:
    with context.session() as db:
        _, token = create_api_key(
            db, role=role, account_id=account, actor="test", clock=context.clock
        )
    return {"Authorization": f"Bearer {token}"}


def open_account(client: TestClient, auth: dict[str, str], n: int, edition: str) -> int:
    opened = client.post(
        "/api/v1/accounts",
        json={
            "name": f"ООО «Сервер {n}»",
            "admin_email": f"it{n}@example.ru",
            "inn": "7707083893",
            "edition": edition,
        },
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def order_and_pay(client: TestClient, auth: dict[str, str], account: int) -> int:
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers={**auth, "Idempotency-Key": f"order-{account}"},
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    paid = client.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["total"], "method": "bank_transfer"},
        headers={**auth, "Idempotency-Key": f"pay-{account}"},
    )
    assert paid.status_code == 201, paid.text
    return int(invoice["id"])


def test_a_paid_on_premise_order_gets_its_file_from_the_worker(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account = open_account(client, vendor, 1, "on_premise")
    cloud = open_account(client, vendor, 2, "cloud")
    invoice = order_and_pay(client, vendor, account)
    order_and_pay(client, vendor, cloud)
    none_yet = client.get(f"/api/v1/accounts/{account}/license", headers=vendor)
    assert none_yet.status_code == 404
    assert none_yet.json()["error"]["code"] == "license_not_found"

    tick = InProcessWorker(context).tick()

    assert tick.licenses == 1  # the cloud account gets none
    assert context.settings.license_key.exists()  # made on first use outside production
    assert context.settings.license_key.stat().st_mode & 0o777 == 0o600
    assert InProcessWorker(context).tick().licenses == 0
    listed = client.get(f"/api/v1/accounts/{account}/licenses", headers=vendor)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()
    assert item["serial"] == "LIC-2026-000001"
    assert item["invoice_id"] == invoice
    assert (item["plan"], item["users"]) == ("standard", 50)
    assert (item["paid_through"], item["grace_until"]) == ("2027-11-21", "2027-12-21")
    assert item["download_url"] == f"/api/v1/accounts/{account}/license"
    assert client.get(f"/api/v1/accounts/{cloud}/licenses", headers=vendor).json() == []

    got = client.get(f"/api/v1/accounts/{account}/license", headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == 'attachment; filename="LIC-2026-000001.lic"'
    assert got.headers["x-license-serial"] == "LIC-2026-000001"
    public = client.get("/api/v1/license/public-key")  # public: no API key needed
    assert public.status_code == 200, public.text
    assert public.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert public.headers["x-license-key-id"] == item["key_id"] == got.headers["x-license-key-id"]
    verdict = verify_license_text(got.text, public.text, TODAY)
    assert verdict.valid and not verdict.read_only
    assert verdict.license is not None and verdict.license.account_id == account

    # The e-mail about it went out with the tick.
    mail = sorted((context.settings.mailbox_dir).rglob("*.eml"))
    assert any("license.issued" in path.read_text(errors="replace") for path in mail)


def test_issuing_now_is_for_vendor_keys_and_paid_on_premise_accounts(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account = open_account(client, vendor, 1, "on_premise")
    cloud = open_account(client, vendor, 2, "cloud")
    unpaid = client.post(f"/api/v1/accounts/{account}/licenses", headers=vendor)
    assert unpaid.status_code == 404  # no subscription at all
    assert unpaid.json()["error"]["code"] == "no_subscription"
    invoice = order_and_pay(client, vendor, account)
    order_and_pay(client, vendor, cloud)

    own = key(context, "account_admin", account)
    forbidden = client.post(f"/api/v1/accounts/{account}/licenses", headers=own)
    assert forbidden.status_code == 403
    issued = client.post(
        f"/api/v1/accounts/{account}/licenses",
        headers={**vendor, "Idempotency-Key": "license-1", "Accept-Language": "en"},
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["serial"] == "LIC-2026-000001"
    assert body["invoice_id"] == invoice  # the worker's file for it, issued earlier
    assert body["actor"].startswith("apikey:")
    assert body["text"].startswith("Podpiska license file")
    replayed = client.post(
        f"/api/v1/accounts/{account}/licenses",
        headers={**vendor, "Idempotency-Key": "license-1"},
    )
    assert replayed.json()["serial"] == "LIC-2026-000001"  # replayed, not issued twice
    refused = client.post(
        f"/api/v1/accounts/{cloud}/licenses", headers={**vendor, "Accept-Language": "en"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "license_not_on_premise"
    assert "on-premise" in refused.json()["error"]["message"]
    assert client.post("/api/v1/accounts/999/licenses", headers=vendor).status_code == 404
    assert issue_licenses(context) == 0  # the paid order has its file already

    # An account's key reads its own files; another account's do not exist for it.
    assert client.get(f"/api/v1/accounts/{account}/licenses", headers=own).status_code == 200
    got = client.get(f"/api/v1/accounts/{account}/license", headers=own)
    assert got.status_code == 200
    assert got.text == body["text"]
    other = key(context, "account_admin", cloud)
    assert client.get(f"/api/v1/accounts/{account}/licenses", headers=other).status_code == 404
    assert client.get(f"/api/v1/accounts/{account}/license", headers=other).status_code == 404


def test_production_never_creates_the_key(db_url: str, tmp_path: Path) -> None:
    made = make(db_url, tmp_path, **PRODUCTION)
    with made.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=made.clock)
    client = TestClient(create_app(made))
    vendor = key(made)
    account = open_account(client, vendor, 1, "on_premise")
    order_and_pay(client, vendor, account)

    assert issue_licenses(made) == 0  # logged; the rest of the worker goes on
    refused = client.post(f"/api/v1/accounts/{account}/licenses", headers=vendor)
    assert refused.status_code == 503
    assert "production never creates one" in refused.json()["error"]["message"]
    assert client.get("/api/v1/license/public-key").status_code == 503
    assert not made.settings.license_key.exists()


@pytest.mark.postgres_only
def test_the_licenses_task_issues_them_on_postgresql(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account = open_account(client, vendor, 1, "on_premise")
    invoice = order_and_pay(client, vendor, account)
    app = queue.use_context(context)
    connector = procrastinate.PsycopgConnector(
        conninfo=queue.conninfo(context.settings.database_url)
    )
    with app.replace_connector(connector):
        with app.open():
            # What the periodic deferrer queues every minute (the tick's timestamp).
            app.configure_task("podpiska:issue_licenses", queue=queue.DOCUMENTS_QUEUE).defer(
                timestamp=0
            )
        queue.run_worker(context, one_shot=True, queues=[queue.DOCUMENTS_QUEUE])

    with context.session() as db, db.begin():
        issued = [(row.serial, row.invoice_id) for row in db.scalars(select(LicenseFile))]
    assert issued == [("LIC-2026-000001", invoice)]
