"""The vendor's tax system prices every quote and invoice (docs/documents.md, "Pricing under
usn"): the normal catalog (`vat: {mode: included, rate: 22}`) sold by a `usn` vendor is
exempt — VAT 0, the price unchanged — from the quote through the order's invoice and its
PDF, the card payment's 54-FZ receipt and the УПД of the month-end run; the same flow on
`osno` keeps its 22 %. Through the API with the real adapters, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.sandbox import SandboxGateway
from podpiska.app import build_context, create_app, make_ports
from podpiska.config import Settings
from podpiska.core.domain.requisites import USN_VAT_NOTE
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Closing
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api.test_documents import key, pdf_text
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW
from tests.helpers import move_to

BASE = "http://testserver"


@dataclass(frozen=True)
class Expected:
    tax_system: str
    vat_mode: str
    vat_amount: str
    receipt_code: int  # 54-FZ: 1 "без НДС", 11 "22 %"
    upd_status: str
    printed: str  # the invoice PDF's VAT line


USN = Expected("usn", "exempt", "0.00", 1, "Статус: 2", "Без НДС —")
OSNO = Expected("osno", "included", "7770.69", 11, "Статус: 1", "В том числе НДС 22 %: 7 770,69")


@dataclass
class Env:
    context: Context
    client: TestClient
    sandbox_db: Path


@pytest.fixture(params=[USN, OSNO], ids=["usn", "osno"])
def env(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Env]:
    expected: Expected = request.param
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        sandbox_dir=tmp_path / "sandbox",
        log_format="text",
        public_url=BASE,
        vendor_tax_system=expected.tax_system,
    )
    sandbox = SandboxGateway(
        path=tmp_path / "sandbox.db",
        base_url=BASE,
        secret="sandbox-test-secret",
        notify_url=f"{BASE}/api/v1/gateway/sandbox/notifications",
    )
    # The real renderers (WeasyPrint), the sandbox posting its webhooks to the test client.
    ports = replace(make_ports(settings), gateway=sandbox)
    context = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW), ports=ports)
    with context.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=context.clock)
    client = TestClient(create_app(context))

    def post(url: str, body: bytes, headers: Any) -> int:
        return client.post(urlparse(url).path, content=body, headers=dict(headers)).status_code

    sandbox.post = post
    yield Env(context, client, tmp_path / "sandbox.db")
    client.close()
    if "sessions" in context.__dict__:
        context.sessions.kw["bind"].dispose()


def _sandbox_receipt(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as db:
        (row,) = db.execute("SELECT receipt FROM payments").fetchall()
    receipt: dict[str, Any] = json.loads(row[0])
    return receipt


def test_the_tax_system_prices_the_quote_the_invoice_the_receipt_and_the_upd(
    env: Env, tmp_path: Path
) -> None:
    expected = USN if env.context.settings.vendor_tax_system == "usn" else OSNO
    client, vendor = env.client, key(env.context)

    quoted = client.post("/api/v1/quotes", json={"plan": "standard", "months": 12})
    assert quoted.status_code == 200, quoted.text
    quote = quoted.json()
    assert quote["total"] == "43092.00"  # the catalog's price is what the buyer pays
    assert (quote["vat"]["mode"], quote["vat"]["amount"]) == (
        expected.vat_mode,
        expected.vat_amount,
    )

    opened = client.post(
        "/api/v1/accounts",
        json={"name": "ООО «Ромашка»", "admin_email": "buh@example.ru", "inn": "7707083893"},
        headers=vendor,
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()["id"]
    ordered = client.post(
        f"/api/v1/accounts/{account}/subscriptions",
        json={"plan": "standard", "months": 12},
        headers={**vendor, "Idempotency-Key": "order-1"},
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    assert invoice["total"] == "43092.00"
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])
    assert (invoice["vat"]["mode"], invoice["vat"]["amount"]) == (
        expected.vat_mode,
        expected.vat_amount,
    )
    assert {line["vat_mode"] for line in invoice["lines"]} == {expected.vat_mode}

    got = client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    text = pdf_text(got.content, tmp_path)
    assert expected.printed in text
    assert "43 092,00" in text
    if expected is USN:
        assert USN_VAT_NOTE in text
        assert "В том числе НДС" not in text
    else:
        assert USN_VAT_NOTE not in text
        assert "Без НДС" not in text

    # The card payment: its 54-FZ receipt carries the invoice's VAT code, items sum to it.
    made = client.post(
        f"/api/v1/invoices/{invoice['id']}/checkout",
        json={"method_type": "bank_card"},
        headers={**vendor, "Idempotency-Key": "checkout-1"},
    )
    assert made.status_code == 201, made.text
    page = urlparse(made.json()["confirmation_url"]).path
    assert client.get(page).status_code == 200
    paid = client.post(page, data={"card": "4242 4242 4242 4242"}, follow_redirects=False)
    assert paid.status_code == 303, paid.text
    sandbox = env.context.ports.gateway
    assert isinstance(sandbox, SandboxGateway)
    assert sandbox.deliver_notifications() == 1
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=vendor).json()["status"] == (
        "paid"
    )
    receipt = _sandbox_receipt(env.sandbox_db)
    assert {item["vat_code"] for item in receipt["items"]} == {expected.receipt_code}
    assert sum(Decimal(item["amount"]) for item in receipt["items"]) == Decimal("43092.00")

    # The month-end run: the УПД is status 2 (a primary document only) without VAT.
    clock = env.context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 11, 30), hour=3)
    with env.context.session() as db:
        run_lifecycle(db, at=date(2026, 11, 30), clock=clock)
        with db.begin():
            closing = db.scalars(select(Closing).where(Closing.account_id == account)).one()
            closing_id = closing.id
    upd = client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor)
    assert upd.status_code == 200, upd.text
    upd_text = pdf_text(upd.content, tmp_path)
    assert expected.upd_status in upd_text
    if expected is USN:
        assert "без НДС" in upd_text
        assert USN_VAT_NOTE in upd_text
