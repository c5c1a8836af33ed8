"""The УПД of the month-end run through the API, with the real adapters (WeasyPrint, lxml):
a 12-month order paid on 22.11.2026, the daily run to 30.11.2026, then its PDF and its ФНС
XML file; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.invoicing.document_lookup import account_documents
from podpiska.invoicing.models import Advance, AdvanceOffset, Closing, Correction, ServicePeriod
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.lifecycle import run_lifecycle
from tests.entrypoints.api.test_documents import cli, key, open_and_order, pdf_text
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW
from tests.helpers import move_to

EDO_ID = "2BM-7707083893-773601001-201511240000000000001"
BUYER_EDO_ID = "2BM-7728168971-772801001-201601010000000000002"


@pytest.fixture
def context(db_url: str, tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        sandbox_dir=tmp_path / "sandbox",
        log_format="text",
        vendor_name="ООО «Облачные решения»",
        vendor_edo_id=EDO_ID,
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    with made.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=made.clock)
    yield made
    if "sessions" in made.__dict__:
        made.sessions.kw["bind"].dispose()


def _month_end(context: Context, client: TestClient, vendor: dict[str, str]) -> tuple[int, int]:
    """An account with a 12-month order paid on 22.11.2026, lived to 30.11.2026: its closing."""
    account, invoice = open_and_order(client, vendor, "ООО «Ромашка»", 1)
    paid = client.post(
        f"/api/v1/invoices/{invoice}/payments",
        json={"amount": "43092.00", "method": "bank_transfer"},
        headers={**vendor, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    clock = context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 11, 30), hour=3)
    with context.session() as db:
        run_lifecycle(db, at=date(2026, 11, 30), clock=clock)
        with db.begin():
            closing = db.scalars(select(Closing).where(Closing.account_id == account)).one()
            lines = list(
                db.scalars(select(ServicePeriod).where(ServicePeriod.closing_id == closing.id))
            )
            assert sum((line.amount for line in lines), Decimal(0)) == closing.total
            return account, closing.id


def test_upd_downloads_as_pdf_and_xml(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    with context.session() as db, db.begin():
        closing = db.get(Closing, closing_id)
        assert closing is not None
        number, total = closing.number, closing.total
    # 9 days of 365 of 43 092,00 ₽ (docs/documents.md, the rule of service by period).
    assert (number, total) == ("UPD-2026-000001", Decimal("1062.54"))

    got = client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="UPD-2026-000001.pdf"'
    text = pdf_text(got.content, tmp_path)
    assert "UPD-2026-000001" in text
    assert "30.11.2026" in text
    assert "Статус: 1" in text
    assert "7707083893" in text  # the buyer's ИНН
    assert "1 062,54" in text  # the line's amount = the closing's total
    assert "К платежно-расчетному документу № payment:1 от 22.11.2026" in text  # prepaid
    again = client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor)
    assert again.content == got.content  # stored once

    xml = client.get(f"/api/v1/upds/{closing_id}/xml?recipient={BUYER_EDO_ID}", headers=vendor)
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/xml")
    disposition = xml.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="ON_NSCHFDOPPR_{BUYER_EDO_ID}_{EDO_ID}_')
    assert disposition.endswith('.xml"')
    root = etree.fromstring(xml.content)
    invoice = root.find(".//СвСчФакт")
    assert invoice is not None
    assert (invoice.get("НомерДок"), invoice.get("ДатаДок")) == ("UPD-2026-000001", "30.11.2026")
    totals = root.find(".//ВсегоОпл")
    assert totals is not None
    assert Decimal(totals.get("СтТовУчНалВсего") or "") == total
    line = root.find(".//СведТов")
    assert line is not None
    assert line.get("НаимТов", "").endswith(", 22.11.2026–30.11.2026")  # part of a month
    assert (line.get("ОКЕИ_Тов"), line.get("КолТов")) == ("876", "1")
    assert Decimal(line.get("СтТовУчНал") or "") == total
    payment = root.find(".//СвПРД")
    assert payment is not None and payment.get("ДатаПРД") == "22.11.2026"

    with context.session() as db:  # the portal's list of the account's documents has it
        listed = [
            (r.kind, r.source_id, r.number) for r in account_documents(db, account_id=account)
        ]
    assert ("upd", closing_id, "UPD-2026-000001") in listed

    # An account's own key sees its УПД; another account's key does not.
    own = key(context, "account_admin", account)
    assert client.get(f"/api/v1/upds/{closing_id}/pdf", headers=own).status_code == 200
    other, _ = open_and_order(client, vendor, "ООО «Василёк»", 2)
    stranger = client.get(
        f"/api/v1/upds/{closing_id}/pdf", headers=key(context, "account_admin", other)
    )
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "not_found"


def test_missing_upd_and_edo_ids_answer_with_a_code(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    for path in ("/api/v1/upds/999/pdf", f"/api/v1/upds/999/xml?recipient={BUYER_EDO_ID}"):
        missing = client.get(path, headers=vendor)
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["code"] == "not_found"
    _, closing_id = _month_end(context, client, vendor)
    no_recipient = client.get(f"/api/v1/upds/{closing_id}/xml", headers=vendor)
    assert no_recipient.status_code == 409, no_recipient.text
    assert no_recipient.json()["error"]["code"] == "buyer_edo_id_missing"
    message = no_recipient.json()["error"]["message"]
    assert "recipient" in message and "edo_id" in message and "ЭДО" in message
    bad = client.get(f"/api/v1/upds/{closing_id}/xml?recipient=no%20spaces", headers=vendor)
    assert bad.status_code == 422, bad.text


def test_document_get_writes_the_upd(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    _, closing_id = _month_end(context, client, key(context))
    for reference in ("UPD-2026-000001", str(closing_id)):
        code, out, err = cli(
            context, capsys, "document", "get", "upd", reference, "-o", str(tmp_path)
        )
        assert code == 0, err
        target = tmp_path / "UPD-2026-000001.pdf"
        assert out.startswith(f"UPD-2026-000001: {target} (")
        assert "UPD-2026-000001 от 30.11.2026" in pdf_text(target.read_bytes(), tmp_path)
    code, _, err = cli(context, capsys, "document", "get", "upd", "UPD-2026-000009")
    assert code == 2
    assert "UPD-2026-000009" in err


def test_the_advance_invoice_of_the_prepayment_downloads_as_pdf_and_xml(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    with context.session() as db, db.begin():
        advance = db.scalars(select(Advance).where(Advance.account_id == account)).one()
        advance_id, number = advance.id, advance.number
        offset = db.scalars(
            select(AdvanceOffset).where(AdvanceOffset.closing_id == closing_id)
        ).one()
    # The whole 43 092,00 ₽ paid before any day was rendered, VAT 22/122 (by hand:
    # 43 092 × 22 / 122 = 7 770,688… → 7 770,69); the УПД of November offsets 1 062,54.
    assert (number, advance.amount, advance.vat) == (
        "AV-2026-000001",
        Decimal("43092.00"),
        Decimal("7770.69"),
    )
    assert offset.amount == Decimal("1062.54")

    got = client.get(f"/api/v1/advances/{advance_id}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == 'attachment; filename="AV-2026-000001.pdf"'
    text = pdf_text(got.content, tmp_path)
    assert "AV-2026-000001" in text and "22.11.2026" in text
    assert "22/122" in text and "7 770,69" in text and "43 092,00" in text
    assert "Предварительная оплата" in text
    assert "payment:1" in text  # the payment document

    xml = client.get(f"/api/v1/advances/{advance_id}/xml?recipient={BUYER_EDO_ID}", headers=vendor)
    assert xml.status_code == 200, xml.text
    root = etree.fromstring(xml.content)
    document = root.find(".//Документ")
    assert document is not None and document.get("Функция") == "СЧФ"
    invoice = root.find(".//СвСчФакт")
    assert invoice is not None
    assert (invoice.get("НомерДок"), invoice.get("ДатаДок")) == ("AV-2026-000001", "22.11.2026")

    # The УПД names the payment whose advance it offsets; the portal lists the advance.
    upd = pdf_text(client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor).content, tmp_path)
    assert "payment:1 от 22.11.2026" in upd
    with context.session() as db:
        kinds = {row.kind for row in account_documents(db, account_id=account)}
    assert {"upd", "advance", "invoice"} <= kinds

    assert client.get("/api/v1/advances/999/pdf", headers=vendor).status_code == 404
    assert client.get("/api/v1/advances/999/xml", headers=vendor).status_code == 404
    code, out, err = cli(
        context, capsys, "document", "get", "advance", "AV-2026-000001", "-o", str(tmp_path)
    )
    assert code == 0, out + err
    assert (tmp_path / "AV-2026-000001.pdf").read_bytes() == got.content


def test_a_credit_note_after_a_upd_makes_a_ukd_that_downloads_as_pdf_and_xml(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    with context.session() as db, db.begin():
        invoice_id = db.scalars(
            select(Advance.invoice_id).where(Advance.account_id == account)
        ).one()
    clock = context.clock
    assert isinstance(clock, FixedClock)
    move_to(clock, date(2026, 12, 10))
    noted = client.post(
        f"/api/v1/invoices/{invoice_id}/credit-notes",
        json={"reason": "отказ от услуг"},
        headers={**vendor, "Idempotency-Key": "note-1"},
    )
    assert noted.status_code == 201, noted.text
    move_to(clock, date(2026, 12, 10), hour=23)
    with context.session() as db:
        run_lifecycle(db, at=date(2026, 12, 10), clock=clock)
        with db.begin():
            correction = db.scalars(select(Correction)).one()
            correction_id = correction.id
    # November's УПД (1 062,54 ₽) is corrected in full, on the note's day.
    assert (correction.number, correction.closing_id, correction.decrease) == (
        "UKD-2026-000001",
        closing_id,
        Decimal("1062.54"),
    )
    got = client.get(f"/api/v1/corrections/{correction_id}/pdf", headers=vendor)
    assert got.status_code == 200, got.text
    text = pdf_text(got.content, tmp_path)
    assert "UKD-2026-000001" in text and "UPD-2026-000001" in text
    assert "1 062,54" in text and "10.12.2026" in text
    xml = client.get(
        f"/api/v1/corrections/{correction_id}/xml?recipient={BUYER_EDO_ID}", headers=vendor
    )
    assert xml.status_code == 200, xml.text
    document = etree.fromstring(xml.content).find(".//Документ")
    assert document is not None and document.get("Функция") in ("КСЧФДИС", "ДИС")
    assert client.get("/api/v1/corrections/999/pdf", headers=vendor).status_code == 404
    with context.session() as db:
        kinds = {row.kind for row in account_documents(db, account_id=account)}
    assert "correction" in kinds

    # December's EDO files: the УКД, its decrease negative in the manifest.
    client.patch(f"/api/v1/accounts/{account}", json={"edo_id": BUYER_EDO_ID}, headers=vendor)
    archive, manifest = _zip(
        client.get("/api/v1/accounting/edo-export?month=2026-12", headers=vendor)
    )
    ukd = [m for m in manifest if m["kind"] == "correction"]
    assert [(m["number"], m["issued_on"], m["total"]) for m in ukd] == [
        ("UKD-2026-000001", "2026-12-10", "-1062.54")
    ]
    assert ukd[0]["xml"].startswith(f"ON_NKORSCHFDOPPR_{BUYER_EDO_ID}_{EDO_ID}_")
    assert etree.fromstring(archive.read(ukd[0]["xml"])).get("ИдФайл") == ukd[0]["xml"][:-4]
    assert archive.read(ukd[0]["pdf"]).startswith(b"%PDF")


def test_an_accounts_documents_are_listed_with_their_links(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    got = client.get(f"/api/v1/accounts/{account}/documents", headers=vendor)
    assert got.status_code == 200, got.text
    items = {(i["kind"], i["number"]): i for i in got.json()["items"]}
    upd = items[("upd", "UPD-2026-000001")]
    assert (upd["date"], upd["total"], upd["pdf"], upd["xml"]) == (
        "2026-11-30",
        "1062.54",
        f"/api/v1/upds/{closing_id}/pdf",
        f"/api/v1/upds/{closing_id}/xml",
    )
    advance = items[("advance", "AV-2026-000001")]
    assert (advance["date"], advance["total"]) == ("2026-11-22", "43092.00")
    assert client.get(advance["pdf"], headers=vendor).status_code == 200
    assert ("invoice", "2026-000001") in items
    assert client.get("/api/v1/accounts/999/documents", headers=vendor).status_code == 404


def test_the_xml_download_defaults_to_the_accounts_edo_id(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _month_end(context, client, vendor)
    with context.session() as db, db.begin():
        advance_id = db.scalars(select(Advance.id).where(Advance.account_id == account)).one()
    patched = client.patch(
        f"/api/v1/accounts/{account}", json={"edo_id": BUYER_EDO_ID}, headers=vendor
    )
    assert patched.status_code == 200, patched.text
    for path in (f"/api/v1/upds/{closing_id}/xml", f"/api/v1/advances/{advance_id}/xml"):
        xml = client.get(path, headers=vendor)
        assert xml.status_code == 200, xml.text
        assert (
            f'filename="ON_NSCHFDOPPR_{BUYER_EDO_ID}_{EDO_ID}_'
            in xml.headers["content-disposition"]
        )
        assert (
            etree.fromstring(xml.content)
            .get("ИдФайл", "")
            .startswith(f"ON_NSCHFDOPPR_{BUYER_EDO_ID}_{EDO_ID}_")
        )
    # `?recipient=` still wins over the stored id
    given = "2AE-1234567890"
    xml = client.get(f"/api/v1/upds/{closing_id}/xml?recipient={given}", headers=vendor)
    assert f"ON_NSCHFDOPPR_{given}_{EDO_ID}_" in xml.headers["content-disposition"]


def _zip(response: Any) -> tuple[zipfile.ZipFile, list[dict[str, str]]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = archive.read("manifest.csv").decode("utf-8-sig")
    return archive, list(csv.DictReader(io.StringIO(manifest), delimiter=";"))


def test_a_months_edo_files_export_as_one_zip(
    context: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, _ = _month_end(context, client, vendor)
    client.patch(f"/api/v1/accounts/{account}", json={"edo_id": BUYER_EDO_ID}, headers=vendor)

    got = client.get("/api/v1/accounting/edo-export?month=2026-11", headers=vendor)
    assert got.headers["content-disposition"] == 'attachment; filename="edo-2026-11.zip"'
    archive, manifest = _zip(got)
    assert [(m["number"], m["kind"], m["issued_on"], m["total"]) for m in manifest] == [
        ("AV-2026-000001", "advance", "2026-11-22", "43092.00"),
        ("UPD-2026-000001", "upd", "2026-11-30", "1062.54"),
    ]
    names = set(archive.namelist())
    assert len(names) == 5  # two XML files, two PDFs, the manifest
    for line in manifest:
        assert line["account_id"] == str(account) and line["note"] == ""
        assert line["xml"].startswith(f"ON_NSCHFDOPPR_{BUYER_EDO_ID}_{EDO_ID}_")
        assert line["pdf"] == line["xml"].removesuffix(".xml") + ".pdf"
        assert {line["xml"], line["pdf"]} <= names
        root = etree.fromstring(archive.read(line["xml"]))
        assert root.get("ИдФайл") == line["xml"].removesuffix(".xml")
        assert root.find(".//СвСчФакт").get("НомерДок") == line["number"]  # type: ignore[union-attr]
        assert archive.read(line["pdf"]).startswith(b"%PDF")

    # The buyer without an EDO id: the PDFs only, and the manifest says why.
    client.patch(f"/api/v1/accounts/{account}", json={"edo_id": None}, headers=vendor)
    archive, manifest = _zip(
        client.get(
            f"/api/v1/accounting/edo-export?month=2026-11&account_id={account}", headers=vendor
        )
    )
    assert sorted(archive.namelist()) == [
        "AV-2026-000001.pdf",
        "UPD-2026-000001.pdf",
        "manifest.csv",
    ]
    assert all(m["xml"] == "" and "участника ЭДО" in m["note"] for m in manifest)

    # Another month, another account: an empty ZIP with its manifest's header only.
    other, _ = open_and_order(client, vendor, "ООО «Василёк»", 2)
    for query in ("month=2026-10", f"month=2026-11&account_id={other}"):
        archive, manifest = _zip(
            client.get(f"/api/v1/accounting/edo-export?{query}", headers=vendor)
        )
        assert archive.namelist() == ["manifest.csv"] and manifest == []

    for month in ("2026-13", "2026-1", "ноябрь", "2026-11-01"):
        bad = client.get(f"/api/v1/accounting/edo-export?month={month}", headers=vendor)
        assert bad.status_code == 422, bad.text
        assert bad.json()["error"]["details"]["field"] == "month"
    operator = client.get(
        "/api/v1/accounting/edo-export?month=2026-11", headers=key(context, "vendor_operator")
    )
    assert operator.status_code == 403
    own = key(context, "account_admin", account)
    assert client.get("/api/v1/accounting/edo-export?month=2026-11", headers=own).status_code == 403
    missing = client.get(
        "/api/v1/accounting/edo-export?month=2026-11&account_id=9999", headers=vendor
    )
    assert missing.status_code == 404

    # The CLI: the same ZIP into a file; a bad month is one line and exit code 2.
    client.patch(f"/api/v1/accounts/{account}", json={"edo_id": BUYER_EDO_ID}, headers=vendor)
    out = tmp_path / "edo.zip"
    code, said, err = cli(context, capsys, "edo-export", "--month", "2026-11", "--out", str(out))
    assert code == 0, err
    assert said.startswith(f"{out}: 2 documents, 2 XML files")
    with zipfile.ZipFile(out) as written:
        assert len(written.namelist()) == 5
    code, said, err = cli(
        context, capsys, "edo-export", "--month", "2026-13", "--out", str(tmp_path / "x.zip")
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "2026-13" in err
    assert not (tmp_path / "x.zip").exists()
