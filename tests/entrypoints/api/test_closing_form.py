"""The closing form through the real stack (API, the daily run, WeasyPrint), on SQLite and
PostgreSQL: a planned order is certified month by month and never again by a whole-term
act; an invoice paid before revision 0012 (plan `act`) keeps its act; an account whose
`closing_form` is "act" gets its month as an act, in the form recorded on the closing when
it was made, whatever the account chooses later."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.app import create_app
from podpiska.entrypoints.context import Context
from podpiska.invoicing.document_rows import create_documents
from podpiska.invoicing.models import Closing, Document, Invoice, ServicePlan
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api import test_upd
from tests.entrypoints.api.test_documents import cli, key, open_and_order, pdf_text
from tests.helpers import move_to

context = test_upd.context  # the fixture: the real adapters, the CRM catalog, noon 22.11.2026


def _pay(client: TestClient, vendor: dict[str, str], invoice: int, n: int) -> None:
    paid = client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": "43092.00", "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": f"pay-{n}"},
    )
    assert paid.status_code == 201, paid.text


def _live_to(context: Context, day: date) -> None:
    clock = context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, day, hour=3)
    with context.session() as db:
        run_lifecycle(db, at=day, clock=clock)


def _closings(context: Context, account: int) -> list[Closing]:
    with context.session() as db, db.begin():
        return list(
            db.scalars(select(Closing).where(Closing.account_id == account).order_by(Closing.id))
        )


def test_a_planned_order_gets_no_whole_term_act_and_a_legacy_invoice_keeps_its_own(
    context: Context,
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    planned, planned_invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    _pay(client, vendor, planned_invoice, 1)
    legacy, legacy_invoice = open_and_order(client, vendor, "ООО «Василёк»", 2)
    _pay(client, vendor, legacy_invoice, 2)
    with context.session() as db, db.begin():  # paid before revision 0012: closed by its act
        db.add(
            ServicePlan(
                invoice_id=legacy_invoice,
                account_id=legacy,
                by="act",
                planned_at=context.clock.now(),
            )
        )
    _live_to(context, date(2027, 11, 25))  # past the end of the 12 months (21.11.2027)

    with context.session() as db:
        create_documents(db, clock=context.clock)  # the worker
        with db.begin():
            acts = dict(
                db.execute(
                    select(Document.source_id, Document.number).where(Document.kind == "act")
                ).all()
            )
    assert planned_invoice not in acts  # certified by its 13 monthly УПД instead
    assert len(_closings(context, planned)) == 13
    assert sum((c.total for c in _closings(context, planned)), Decimal(0)) == Decimal("43092.00")
    assert _closings(context, legacy) == []
    assert acts[legacy_invoice].endswith("-000001")

    refused = client.get(f"/api/v1/invoices/{planned_invoice}/act.pdf", headers=vendor)
    assert refused.status_code == 404
    error = refused.json()["error"]
    assert error["code"] == "document_not_found"
    assert "услуги закрываются ежемесячными УПД/актами" in error["message"]
    kept = client.get(f"/api/v1/invoices/{legacy_invoice}/act.pdf", headers=vendor)
    assert kept.status_code == 200, kept.text


def test_an_account_that_chose_acts_gets_its_month_as_an_act_kept_as_issued(
    context: Context, tmp_path: Path
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    chose = client.patch(
        f"/api/v1/accounts/{account}", json={"closing_form": "act"}, headers=vendor
    )
    assert chose.status_code == 200, chose.text
    _pay(client, vendor, invoice, 1)
    _live_to(context, date(2026, 11, 30))
    [closing] = _closings(context, account)
    assert (closing.number, closing.form, closing.total) == (
        "UPD-2026-000001",
        "act",
        Decimal("1062.54"),
    )

    got = client.get(f"/api/v1/upds/{closing.id}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    text = pdf_text(got.content, tmp_path)
    assert "Акт об оказании услуг № UPD-2026-000001 от 30.11.2026" in text
    assert "22.11.2026 – 30.11.2026" in text  # the period
    assert "1 062,54" in text  # the total = the closing's
    assert "В том числе НДС 22 %" in text
    assert "Статус" not in text  # not the УПД's form
    # Its ФНС file is still the счёт-фактура and document of shipment (СЧФДОП) of the sale.
    xml = client.get(
        f"/api/v1/upds/{closing.id}/xml?recipient={test_upd.BUYER_EDO_ID}", headers=vendor
    )
    assert xml.status_code == 200, xml.text
    root = etree.fromstring(xml.content)
    assert root.find(".//Документ").get("Функция") == "СЧФДОП"  # type: ignore[union-attr]
    info = root.find(".//СвСчФакт")
    assert info is not None and info.get("НомерДок") == "UPD-2026-000001"

    listed = client.get(f"/api/v1/accounts/{account}/documents", headers=vendor).json()
    [row] = [item for item in listed["items"] if item["kind"] == "upd"]
    assert (row["number"], row["form"], row["total"]) == ("UPD-2026-000001", "act", "1062.54")

    # The choice changes later: the issued act stays as it was, byte for byte; the next
    # month's closing is made in the new form.
    back = client.patch(f"/api/v1/accounts/{account}", json={"closing_form": "upd"}, headers=vendor)
    assert back.status_code == 200, back.text
    again = client.get(f"/api/v1/upds/{closing.id}/pdf", headers=vendor)
    assert again.content == got.content
    _live_to(context, date(2026, 12, 31))
    first, december = _closings(context, account)
    assert (first.form, december.form) == ("act", "upd")
    december_pdf = client.get(f"/api/v1/upds/{december.id}/pdf", headers=vendor)
    assert "Статус: 1" in pdf_text(december_pdf.content, tmp_path)
    assert client.get(f"/api/v1/upds/{closing.id}/pdf", headers=vendor).content == got.content

    bad = client.patch(f"/api/v1/accounts/{account}", json={"closing_form": "акт"}, headers=vendor)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_field"


def test_an_act_form_closing_with_vat_has_its_invoice_factura_stored_once(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    chose = client.patch(
        f"/api/v1/accounts/{account}",
        json={"closing_form": "act", "kpp": "500101001"},
        headers=vendor,
    )
    assert chose.status_code == 200, chose.text
    _pay(client, vendor, invoice, 1)
    _live_to(context, date(2026, 11, 30))
    [closing] = _closings(context, account)
    assert (closing.form, closing.total, closing.vat) == (
        "act",
        Decimal("1062.54"),
        Decimal("191.61"),
    )
    with context.session() as db, db.begin():  # made by the run with its closing
        [row] = db.scalars(
            select(Document).where(
                Document.kind == "invoice_factura", Document.source_id == closing.id
            )
        ).all()
        assert (row.number, row.issued_on, row.pdf) == (closing.number, closing.issued_on, None)

    url = f"/api/v1/upds/{closing.id}/invoice-factura/pdf"
    got = client.get(url, headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert 'filename="SF-UPD-2026-000001.pdf"' in got.headers["content-disposition"]
    text = pdf_text(got.content, tmp_path)
    assert "Счёт-фактура № UPD-2026-000001 от 30.11.2026 (1)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "ИНН/КПП покупателя: 7707083893/500101001 (6б)" in text
    assert "Документ об отгрузке № п/п 1 Акт об оказании услуг № UPD-2026-000001 от" in text
    assert "30.11.2026 (5а)" in text
    # Строка 5 as the УПД prints it: the payment whose advance the closing offsets.
    assert "К платёжно-расчётному документу № payment:1 от 22.11.2026 (5)" in text
    assert "Всего к оплате (9) 870,93 X 191,61 1 062,54" in text  # the closing's
    assert "22 %" in text
    assert "Главный бухгалтер или иное уполномоченное лицо" in text
    assert "Статус" not in text and "[10]" not in text  # no status box, no transfer part
    act = client.get(f"/api/v1/upds/{closing.id}/pdf", headers=vendor)
    assert "Акт об оказании услуг № UPD-2026-000001" in pdf_text(act.content, tmp_path)
    again = client.get(url, headers=vendor)
    assert again.content == got.content  # stored once
    assert again.headers["etag"] == got.headers["etag"]

    listed = client.get(f"/api/v1/accounts/{account}/documents", headers=vendor).json()
    kinds = [(item["kind"], item["source_id"]) for item in listed["items"]]
    assert kinds.index(("upd", closing.id)) + 1 == kinds.index(("invoice_factura", closing.id))
    [factura] = [item for item in listed["items"] if item["kind"] == "invoice_factura"]
    assert (factura["number"], factura["date"], factura["total"], factura["pdf"]) == (
        "UPD-2026-000001",
        "2026-11-30",
        "1062.54",
        url,
    )
    own = client.get(url, headers=key(context, "account_admin", account))
    assert own.status_code == 200 and own.content == got.content
    code, out, err = cli(
        context,
        capsys,
        "document",
        "get",
        "invoice-factura",
        "UPD-2026-000001",
        "-o",
        str(tmp_path),
    )
    assert code == 0, out + err
    assert (tmp_path / "SF-UPD-2026-000001.pdf").read_bytes() == got.content

    # A УПД-form closing is a счёт-фактура itself (status 1): none apart.
    back = client.patch(f"/api/v1/accounts/{account}", json={"closing_form": "upd"}, headers=vendor)
    assert back.status_code == 200, back.text
    _live_to(context, date(2026, 12, 31))
    _, december = _closings(context, account)
    refused = client.get(f"/api/v1/upds/{december.id}/invoice-factura/pdf", headers=vendor)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "document_not_found"
    assert "счёт-фактура — сам УПД" in refused.json()["error"]["message"]
    unknown = client.get("/api/v1/upds/999999/invoice-factura/pdf", headers=vendor)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_an_exempt_act_form_closing_has_no_invoice_factura(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    chose = client.patch(
        f"/api/v1/accounts/{account}", json={"closing_form": "act"}, headers=vendor
    )
    assert chose.status_code == 200, chose.text
    _pay(client, vendor, invoice, 1)
    with context.session() as db, db.begin():  # an exempt product (пп. 26 п. 2 ст. 149)
        paid = db.get(Invoice, invoice)
        assert paid is not None
        paid.vat_mode, paid.vat_amount, paid.vat_rate = "exempt", Decimal(0), None
    _live_to(context, date(2026, 11, 30))
    [closing] = _closings(context, account)
    assert (closing.form, closing.vat) == ("act", Decimal(0))
    with context.session() as db:
        create_documents(db, clock=context.clock)  # the worker
        with db.begin():
            assert (
                db.scalars(select(Document).where(Document.kind == "invoice_factura")).all() == []
            )
    refused = client.get(f"/api/v1/upds/{closing.id}/invoice-factura/pdf", headers=vendor)
    assert refused.status_code == 404
    assert "документ без НДС" in refused.json()["error"]["message"]
    listed = client.get(f"/api/v1/accounts/{account}/documents", headers=vendor).json()
    assert "invoice_factura" not in {item["kind"] for item in listed["items"]}
