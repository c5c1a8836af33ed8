"""The sales ledger and the export to 1C through the API and the CLI, with the real
adapters (lxml): a 12-month order paid by bank transfer on 22.11.2026, the daily run to
31.12.2026; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.enterprise_data import DATA_NS, MESSAGE_NS
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Advance, Closing
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api.test_documents import cli, key, open_and_order
from tests.entrypoints.api.test_upd import context  # noqa: F401 (the fixture)
from tests.helpers import move_to

D = Decimal
NS = {"m": MESSAGE_NS, "d": DATA_NS}
PERIOD = {"from": "2026-11-01", "to": "2026-12-31"}


def _year_paid_and_run(made: Context, client: TestClient, vendor: dict[str, str]) -> None:
    _, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    paid = client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": "43092.00", "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    clock = made.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 12, 31), hour=3)
    with made.session() as db:
        run_lifecycle(db, at=date(2026, 12, 31), clock=clock)


def _documents(made: Context) -> tuple[Advance, list[Closing]]:
    with made.session() as db, db.begin():
        (advance,) = db.scalars(select(Advance))
        closings = list(db.scalars(select(Closing).order_by(Closing.issued_on)))
    return advance, closings


def test_the_sales_ledger_through_the_api_and_the_cli(
    context: Context,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    _year_paid_and_run(context, client, vendor)
    advance, closings = _documents(context)
    assert advance.amount == D("43092.00")
    assert advance.vat == D("7770.69")  # 43 092,00 × 22/122

    got = client.get("/api/v1/accounting/sales-ledger", params=PERIOD, headers=vendor)
    assert got.status_code == 200, got.text
    body = got.json()
    assert [(s["code"], s["number"], s["total"], s["vat_22"]) for s in body["sales"]] == [
        ("02", "AV-2026-000001", "43092.00", "7770.69"),
        ("01", "UPD-2026-000001", f"{closings[0].total}", f"{closings[0].vat}"),
        ("01", "UPD-2026-000002", f"{closings[1].total}", f"{closings[1].vat}"),
    ]
    assert body["sales"][1]["total"] == "1062.54"  # 9 days of 365 (docs/documents.md)
    assert body["sales"][0]["paid_on"] == "2026-11-22"
    totals = body["sales_totals"]
    assert D(totals["total"]) == sum(D(s["total"]) for s in body["sales"])
    assert D(totals["vat_22"]) == sum(D(s["vat_22"]) for s in body["sales"])
    assert [(p["code"], p["vat"]) for p in body["purchases"]] == [
        ("22", f"{closings[0].vat}"),
        ("22", f"{closings[1].vat}"),
    ]
    assert D(body["purchase_totals"]["vat"]) == closings[0].vat + closings[1].vat

    # Bad input: 422 with a code; an account's key or a plain vendor key may not read it.
    for params in ({"from": "2026-13-01", "to": "2026-12-31"}, {"from": "2026-12-31"}):
        bad = client.get("/api/v1/accounting/sales-ledger", params=params, headers=vendor)
        assert bad.status_code == 422, bad.text
    reversed_ = client.get(
        "/api/v1/accounting/sales-ledger",
        params={"from": "2026-12-31", "to": "2026-11-01"},
        headers=vendor,
    )
    assert reversed_.status_code == 422
    assert reversed_.json()["error"]["code"] == "invalid_field"
    operator = key(context, "vendor_operator")
    assert (
        client.get("/api/v1/accounting/sales-ledger", params=PERIOD, headers=operator).status_code
        == 403
    )

    # The CLI prints the same lines and totals as CSV.
    code, out, err = cli(
        context, capsys, "sales-ledger", "--from", "2026-11-01", "--to", "2026-12-31"
    )
    assert code == 0, err
    rows = [line.split(";") for line in out.splitlines()]
    assert rows[0][1] == "код вида операции"
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("продаж", "02", "AV-2026-000001"),
        ("продаж", "01", "UPD-2026-000001"),
        ("продаж", "01", "UPD-2026-000002"),
        ("продаж", "", "Всего"),
        ("покупок", "22", "AV-2026-000001"),
        ("покупок", "22", "AV-2026-000001"),
        ("покупок", "", "Всего"),
    ]
    assert rows[4][10] == totals["total"] and rows[4][12] == totals["vat_22"]
    assert rows[7][12] == body["purchase_totals"]["vat"]
    for argv in (
        ("--from", "2026-11-31", "--to", "2026-12-31"),
        ("--from", "2026-12-31", "--to", "2026-11-01"),
        ("--from", "2026-11-01", "--to", "2026-12-31", "--format", "pdf"),
    ):
        code, _, err = cli(context, capsys, "sales-ledger", *argv)
        assert code == 2
        assert len(err.strip().splitlines()) == 1


def test_the_export_to_1c_parses_back_with_every_document_and_amount(
    context: Context,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = TestClient(create_app(context))
    _year_paid_and_run(context, client, key(context))
    advance, closings = _documents(context)
    target = tmp_path / "1c.xml"
    code, out, err = cli(
        context,
        capsys,
        "export-1c",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--out",
        str(target),
    )
    assert code == 0, err
    assert out.startswith(f"{target}: 2 УПД, 1 advance invoices, 1 payments")
    root = etree.fromstring(target.read_bytes())
    assert root.tag == f"{{{MESSAGE_NS}}}Message"
    assert root.findtext("m:Header/m:Format", namespaces=NS) == DATA_NS
    assert root.findtext("m:Header/m:AvailableVersion", namespaces=NS) == "1.8"
    body = root.find("d:Body", NS)
    assert body is not None

    (party,) = body.findall("d:Справочник.Контрагенты", NS)
    assert party.findtext("d:КлючевыеСвойства/d:Наименование", namespaces=NS) == "ООО «Ромашка»"
    assert party.findtext("d:КлючевыеСвойства/d:ИНН", namespaces=NS) == "7707083893"

    sales = body.findall("d:Документ.РеализацияТоваровУслуг", NS)
    assert [s.findtext("d:КлючевыеСвойства/d:Номер", namespaces=NS) for s in sales] == [
        c.number for c in closings
    ]
    for sale, closing in zip(sales, closings, strict=True):
        assert sale.findtext("d:КлючевыеСвойства/d:Дата", namespaces=NS) == (
            f"{closing.issued_on.isoformat()}T23:59:59"
        )
        assert D(sale.findtext("d:Сумма", namespaces=NS) or "") == closing.total
        assert D(sale.findtext("d:СуммаНДС", namespaces=NS) or "") == closing.vat
        assert sale.findtext("d:Контрагент/d:ИНН", namespaces=NS) == "7707083893"
        rows = sale.findall("d:Услуги/d:Строка", NS)
        assert sum(D(r.findtext("d:Сумма", namespaces=NS) or "") for r in rows) == closing.total
        assert sum(D(r.findtext("d:СуммаНДС", namespaces=NS) or "") for r in rows) == closing.vat
        assert {r.findtext("d:СтавкаНДС", namespaces=NS) for r in rows} == {"НДС22"}

    (got_advance,) = body.findall("d:Документ.СчетФактураВыданныйАванс", NS)
    assert got_advance.findtext("d:КлючевыеСвойства/d:Номер", namespaces=NS) == advance.number
    assert D(got_advance.findtext("d:Сумма", namespaces=NS) or "") == advance.amount
    assert D(got_advance.findtext("d:СуммаНДС", namespaces=NS) or "") == advance.vat
    assert got_advance.findtext("d:СтавкаНДС", namespaces=NS) == "НДС22_122"

    (payment,) = body.findall("d:Документ.ПоступлениеБезналичныхДенежныхСредств", NS)
    assert D(payment.findtext("d:Сумма", namespaces=NS) or "") == D("43092.00")
    assert payment.findtext("d:КлючевыеСвойства/d:Дата", namespaces=NS) == "2026-11-22T23:59:59"
    assert D(payment.findtext("d:РасшифровкаПлатежа/d:Строка/d:СуммаНДС", namespaces=NS) or "") == (
        advance.vat
    )
    # The advance names the payment it was issued on, by the payment's own reference.
    assert got_advance.findtext("d:ДокументОснование/d:Ссылка", namespaces=NS) == (
        payment.findtext("d:КлючевыеСвойства/d:Ссылка", namespaces=NS)
    )

    # Exported twice, the file is the same: stable references (1C updates, never doubles).
    again = tmp_path / "again.xml"
    code, _, _ = cli(
        context,
        capsys,
        "export-1c",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--out",
        str(again),
    )
    assert code == 0 and again.read_bytes() == target.read_bytes()
    code, _, err = cli(
        context, capsys, "export-1c", "--from", "x", "--to", "2026-12-31", "--out", str(again)
    )
    assert code == 2 and "--from" in err
