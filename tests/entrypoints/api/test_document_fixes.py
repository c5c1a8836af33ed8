"""Исправленные documents through the API and the CLI, with the real adapters (WeasyPrint,
lxml): a УПД issued with the buyer's address A, the address changed to B, the УПД reissued
as «Исправление № 1» with B and the same number, date and money; the original unchanged;
on SQLite and PostgreSQL (the parallel reissues on PostgreSQL only)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from podpiska.adapters.clock import FixedClock
from podpiska.adapters.mail import read_message
from podpiska.app import build_context, create_app
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.worker import deliver_outbox
from podpiska.invoicing.models import Advance, Closing, Document, DocumentFix
from tests.entrypoints.api import test_upd
from tests.entrypoints.api.test_documents import attachments, cli, key, pdf_text
from tests.entrypoints.api.test_upd import BUYER_EDO_ID, _month_end

context = test_upd.context  # the УПД tests' context: real adapters, an EDO id

ADDRESS_A = "420111, г. Казань, ул. Баумана, д. 2"
ADDRESS_B = "190000, г. Санкт-Петербург, Невский пр., д. 1"
SELLER_B = "125009, г. Москва, ул. Тверская, д. 7"


def _issued(context: Context, client: TestClient, vendor: dict[str, str]) -> tuple[int, int]:
    """The УПД of an account whose address was A when it was made (and downloaded)."""
    account, closing_id = _month_end(context, client, vendor)
    patched = client.patch(
        f"/api/v1/accounts/{account}", json={"legal_address": ADDRESS_A}, headers=vendor
    )
    assert patched.status_code == 200, patched.text
    assert client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor).status_code == 200
    return account, closing_id


def _reissue(
    client: TestClient, vendor: dict[str, str], closing_id: int, reason: Any, n: str
) -> Any:
    return client.post(
        f"/api/v1/upds/{closing_id}/fixes",
        json={"reason": reason},
        headers={**vendor, "Idempotency-Key": f"fix-{n}"},
    )


def _fixes(context: Context) -> tuple[int, int, int]:
    with context.session() as db, db.begin():
        return (
            int(db.scalar(select(func.count()).select_from(DocumentFix)) or 0),
            int(db.scalar(select(func.count()).where(Document.kind == "upd_fix")) or 0),
            int(db.scalar(select(func.count()).where(AuditEntry.action == "upd.reissued")) or 0),
        )


def test_a_wrong_address_is_fixed_by_an_ispravlenie(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _issued(context, client, vendor)
    original = client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor).content
    assert ADDRESS_A in pdf_text(original, tmp_path)
    original_xml = client.get(
        f"/api/v1/upds/{closing_id}/xml?recipient={BUYER_EDO_ID}", headers=vendor
    )
    assert original_xml.status_code == 200, original_xml.text

    patched = client.patch(
        f"/api/v1/accounts/{account}", json={"legal_address": ADDRESS_B}, headers=vendor
    )
    assert patched.status_code == 200, patched.text
    again = client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor)
    assert again.content == original  # the issued document never changes

    made = _reissue(client, vendor, closing_id, "адрес покупателя указан неверно", "1")
    assert made.status_code == 201, made.text
    fix = made.json()
    assert fix["fix_no"] == 1
    assert fix["number"] == "UPD-2026-000001-FIX-1"
    assert fix["pdf"] == f"/api/v1/upds/{closing_id}/fixes/1/pdf"
    day = date.fromisoformat(fix["date"])
    assert day == date(2026, 11, 30)  # the account's day on the clock

    got = client.get(fix["pdf"], headers=vendor)
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == (
        'attachment; filename="UPD-2026-000001-FIX-1.pdf"'
    )
    text = pdf_text(got.content, tmp_path)
    assert f"Исправление № 1 от {day:%d.%m.%Y}" in text
    assert ADDRESS_B in text and ADDRESS_A not in text
    assert "UPD-2026-000001 от 30.11.2026" in text  # the same number and date
    assert "1 062,54" in text  # the same money
    assert client.get(fix["pdf"], headers=vendor).content == got.content  # stored once
    assert client.get(f"/api/v1/upds/{closing_id}/pdf", headers=vendor).content == original

    xml = client.get(f"{fix['xml']}?recipient={BUYER_EDO_ID}", headers=vendor)
    assert xml.status_code == 200, xml.text
    root = etree.fromstring(xml.content)
    info = root.find(".//СвСчФакт")
    assert info is not None
    assert (info.get("НомерДок"), info.get("ДатаДок")) == ("UPD-2026-000001", "30.11.2026")
    correction = info.find("ИспрДок")
    assert correction is not None
    assert (correction.get("НомИспр"), correction.get("ДатаИспр")) == ("1", f"{day:%d.%m.%Y}")
    totals = root.find(".//ВсегоОпл")
    assert totals is not None and Decimal(totals.get("СтТовУчНалВсего") or "") == Decimal("1062.54")
    name = xml.headers["content-disposition"]
    assert name != original_xml.headers["content-disposition"]  # a file of its own
    assert etree.fromstring(original_xml.content).find(".//ИспрДок") is None

    second = _reissue(client, vendor, closing_id, "КПП покупателя указан неверно", "2")
    assert second.status_code == 201, second.text
    assert second.json()["fix_no"] == 2
    assert "Исправление № 2" in pdf_text(
        client.get(second.json()["pdf"], headers=vendor).content, tmp_path
    )

    listed = client.get(f"/api/v1/accounts/{account}/documents", headers=vendor).json()
    [upd] = [item for item in listed["items"] if item["kind"] == "upd"]
    assert [(f["fix_no"], f["pdf"]) for f in upd["fixes"]] == [
        (1, f"/api/v1/upds/{closing_id}/fixes/1/pdf"),
        (2, f"/api/v1/upds/{closing_id}/fixes/2/pdf"),
    ]
    with context.session() as db, db.begin():
        closing = db.get(Closing, closing_id)
        assert closing is not None and closing.total == Decimal("1062.54")
    assert _fixes(context) == (2, 2, 2)

    # The buyer gets each corrected copy by e-mail, with its PDF.
    deliver_outbox(context)
    mails = [
        message
        for message in map(read_message, sorted((tmp_path / "mail").glob("*.eml")))
        if message["X-Podpiska-Event"] == "upd.reissued"
    ]
    assert sorted(str(name) for m in mails for name, _, _ in attachments(m)) == [
        "UPD-2026-000001-FIX-1.pdf",
        "UPD-2026-000001-FIX-2.pdf",
    ]


def test_a_bad_reissue_answers_with_a_code_and_writes_nothing(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _issued(context, client, vendor)
    for n, reason in enumerate(("", "   ", "x" * 501, "две\nстроки", None)):
        answer = _reissue(client, vendor, closing_id, reason, f"bad-{n}")
        assert answer.status_code == 422, (reason, answer.text)
        assert "error" in answer.json()
    assert _reissue(client, vendor, closing_id, " ", "blank").json()["error"]["code"] == (
        "document_fix_reason_required"
    )
    missing = _reissue(client, vendor, 999_999, "адрес", "missing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    own = key(context, "account_admin", account)
    assert _reissue(client, own, closing_id, "адрес", "own").status_code == 403
    assert client.get(f"/api/v1/upds/{closing_id}/fixes/1/pdf", headers=vendor).status_code == (404)
    assert _fixes(context) == (0, 0, 0)


def test_the_cli_reissues_a_upd(
    context: Context,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    _issued(context, client, vendor)
    code, out, err = cli(
        context, capsys, "document", "reissue", "upd", "UPD-2026-000001", "--reason", "адрес"
    )
    assert code == 0, err
    assert out.startswith("Исправление № 1 от 30.11.2026 of upd UPD-2026-000001: ")
    code, _, err = cli(context, capsys, "document", "reissue", "act", "1", "--reason", "x")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = cli(
        context, capsys, "document", "reissue", "upd", "UPD-2026-000001", "--reason", " "
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert _fixes(context) == (1, 1, 1)


@pytest.mark.postgres_only
def test_twenty_parallel_reissues_are_numbered_without_gaps(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    _, closing_id = _issued(context, client, vendor)
    barrier = threading.Barrier(20, timeout=60)

    def click(n: int) -> Any:
        barrier.wait()
        return _reissue(client, vendor, closing_id, f"исправление {n}", f"parallel-{n}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(click, range(20)))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    assert sorted(a.json()["fix_no"] for a in answers) == list(range(1, 21))
    assert _fixes(context) == (20, 20, 20)


def test_an_advance_invoice_is_reissued_with_its_money(context: Context, tmp_path: Path) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, _ = _issued(context, client, vendor)
    with context.session() as db, db.begin():
        advance_id = db.scalars(select(Advance.id).where(Advance.account_id == account)).one()
    unrendered = client.post(
        f"/api/v1/advances/{advance_id}/fixes",
        json={"reason": "адрес"},
        headers={**vendor, "Idempotency-Key": "av-early"},
    )
    assert unrendered.status_code == 409, unrendered.text
    assert unrendered.json()["error"]["code"] == "document_not_rendered"
    original = client.get(f"/api/v1/advances/{advance_id}/pdf", headers=vendor).content
    client.patch(f"/api/v1/accounts/{account}", json={"legal_address": ADDRESS_B}, headers=vendor)

    made = client.post(
        f"/api/v1/advances/{advance_id}/fixes",
        json={"reason": "адрес покупателя указан неверно"},
        headers={**vendor, "Idempotency-Key": "av-1"},
    )
    assert made.status_code == 201, made.text
    fix = made.json()
    assert (fix["kind"], fix["fix_no"], fix["number"]) == ("advance", 1, "AV-2026-000001-FIX-1")
    text = pdf_text(client.get(fix["pdf"], headers=vendor).content, tmp_path)
    assert "Исправление № 1 от 30.11.2026" in text and ADDRESS_B in text
    assert "AV-2026-000001" in text and "7 770,69" in text and "43 092,00" in text
    assert client.get(f"/api/v1/advances/{advance_id}/pdf", headers=vendor).content == original
    xml = client.get(f"{fix['xml']}?recipient={BUYER_EDO_ID}", headers=vendor)
    assert xml.status_code == 200, xml.text
    correction = etree.fromstring(xml.content).find(".//ИспрДок")
    assert correction is not None and correction.get("НомИспр") == "1"


def _address(xml: bytes, who: str) -> str | None:
    """The address of the seller (СвПрод) or the buyer (СвПокуп) in a ФНС XML file."""
    found = etree.fromstring(xml).find(f".//{who}//АдрИнф")
    return None if found is None else found.get("АдрТекст")


def _moved(context: Context, **settings: Any) -> Context:
    """A second process on the same database and the same day, with other settings."""
    clock = context.clock
    assert isinstance(clock, FixedClock)
    return build_context(
        settings=context.settings.model_copy(update=settings), clock=FixedClock(clock.instant)
    )


def test_the_originals_xml_keeps_the_requisites_it_was_issued_with(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _issued(context, client, vendor)
    xml_url = f"/api/v1/upds/{closing_id}/xml?recipient={BUYER_EDO_ID}"
    before = client.get(xml_url, headers=vendor).content
    seller_address = _address(before, "СвПрод")
    assert seller_address == context.settings.vendor_address
    assert _address(before, "СвПокуп") == ADDRESS_A

    # The buyer moves, and so does the seller (another process with other settings).
    patched = client.patch(
        f"/api/v1/accounts/{account}",
        json={"legal_address": ADDRESS_B, "edo_id": BUYER_EDO_ID},
        headers=vendor,
    )
    assert patched.status_code == 200, patched.text
    moved = _moved(context, vendor_address=SELLER_B)
    try:
        later = TestClient(create_app(moved))
        after = later.get(xml_url, headers=vendor)
        assert after.status_code == 200, after.text
        assert _address(after.content, "СвПокуп") == ADDRESS_A
        assert _address(after.content, "СвПрод") == seller_address

        # The month's EDO files: the original as it was issued.
        archive, manifest = test_upd._zip(
            later.get("/api/v1/accounting/edo-export?month=2026-11", headers=vendor)
        )
        [upd] = [line for line in manifest if line["kind"] == "upd"]
        exported = archive.read(upd["xml"])
        assert _address(exported, "СвПокуп") == ADDRESS_A
        assert _address(exported, "СвПрод") == seller_address

        # The исправление shows today's requisites, and keeps them once made.
        made = _reissue(later, vendor, closing_id, "адрес покупателя указан неверно", "1")
        assert made.status_code == 201, made.text
        fix_xml = f"{made.json()['xml']}?recipient={BUYER_EDO_ID}"
        fixed = later.get(fix_xml, headers=vendor).content
        assert _address(fixed, "СвПокуп") == ADDRESS_B
        assert _address(fixed, "СвПрод") == SELLER_B
    finally:
        if "sessions" in moved.__dict__:
            moved.sessions.kw["bind"].dispose()
    client.patch(
        f"/api/v1/accounts/{account}", json={"legal_address": "ул. Третья, д. 3"}, headers=vendor
    )
    again = client.get(fix_xml, headers=vendor).content  # the first settings again
    assert (_address(again, "СвПокуп"), _address(again, "СвПрод")) == (ADDRESS_B, SELLER_B)
    assert _address(client.get(xml_url, headers=vendor).content, "СвПокуп") == ADDRESS_A


def test_a_document_rendered_before_0016_is_frozen_at_its_first_xml(context: Context) -> None:
    client = TestClient(create_app(context))
    vendor = key(context)
    account, closing_id = _issued(context, client, vendor)
    with context.session() as db, db.begin():  # as revision 0016 leaves an older row
        document = db.scalars(
            select(Document).where(Document.kind == "upd", Document.source_id == closing_id)
        ).one()
        assert document.parties is not None and document.parties["buyer"]["address"] == ADDRESS_A
        document.parties = None
    client.patch(f"/api/v1/accounts/{account}", json={"legal_address": ADDRESS_B}, headers=vendor)
    xml_url = f"/api/v1/upds/{closing_id}/xml?recipient={BUYER_EDO_ID}"
    first = client.get(xml_url, headers=vendor).content
    assert _address(first, "СвПокуп") == ADDRESS_B  # the old requisites are lost: today's
    client.patch(
        f"/api/v1/accounts/{account}", json={"legal_address": "ул. Третья, д. 3"}, headers=vendor
    )
    assert _address(client.get(xml_url, headers=vendor).content, "СвПокуп") == ADDRESS_B
