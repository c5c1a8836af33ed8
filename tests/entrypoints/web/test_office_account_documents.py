"""The account page's documents in the back office (`office/_account_documents.html`,
`office/document_actions.py`, `office/documents.py`) through TestClient on SQLite and
PostgreSQL: a credit note opens its own PDF like the other documents; a УПД's исправление
is listed under it with its PDF and its resend form, sent again as the API's
`POST /api/v1/documents/upd_fix/{id}/resend` (`document.resent`, the person audited)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import CreditNote, DocumentFix
from tests.entrypoints.api.test_documents import pdf_text
from tests.entrypoints.web.conftest import (
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_document_resend import _a_closing, _resent
from tests.entrypoints.web.test_office_money_actions import _first_order
from tests.entrypoints.web.test_office_ops import _ctx


def test_a_credit_note_opens_its_pdf_from_the_account_page(
    client: TestClient, tmp_path: Path
) -> None:
    invoice = _first_order(client)
    client_log_in(client, VENDOR_ADMIN)
    page = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-note")
    form = {"csrf_token": csrf_of(page.text), "invoice_id": str(invoice.id), "reason": "ошибка"}
    done = client.post(f"/office/accounts/{CUSTOMER_ACCOUNT}/credit-notes", data=form)
    assert done.status_code == 303, done.text
    with _ctx(client).session() as db, db.begin():
        note = db.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice.id)).one()
        note_id, number = note.id, note.number
    client.cookies.clear()
    client_log_in(client, VENDOR_OPERATOR)  # reading a document: both roles
    shown = client.get(f"/office/accounts/{CUSTOMER_ACCOUNT}").text
    href = f"/office/documents/credit_note/{note_id}.pdf"
    assert f'href="{href}"' in shown
    pdf = client.get(href)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f'filename="{number}.pdf"' in pdf.headers["content-disposition"]
    assert number in pdf_text(pdf.content, tmp_path)
    assert client.get("/office/documents/credit_note/999999.pdf").status_code == 404


def test_a_correction_is_listed_with_its_pdf_and_resent(client: TestClient) -> None:
    closing, account = _a_closing(client)
    client_log_in(client, VENDOR_ADMIN)
    assert client.get(f"/office/documents/upd/{closing.id}.pdf").status_code == 200  # issued
    token = csrf_of(client.get(f"/office/accounts/{account.id}").text)
    made = client.post(
        f"/office/documents/upd/{closing.id}/reissue",
        data={"reason": "адрес покупателя указан неверно", "csrf_token": token},
    )
    assert made.status_code == 303
    with _ctx(client).session() as db, db.begin():
        fix = db.scalars(select(DocumentFix).where(DocumentFix.source_id == closing.id)).one()
        fix_id = fix.id
    client.cookies.clear()
    client_log_in(client, VENDOR_OPERATOR)  # money-neutral: an operator may resend
    page = client.get(f"/office/accounts/{account.id}")
    assert f'data-kind="upd_fix" data-number="{closing.number}" data-fix="1"' in page.text
    href = f"/office/documents/upd_fix/{fix_id}.pdf"
    assert f'href="{href}"' in page.text
    pdf = client.get(href)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"{closing.number}-FIX-1.pdf" in pdf.headers["content-disposition"]
    action = f"/office/documents/upd_fix/{fix_id}/resend"
    assert f'action="{action}"' in page.text
    back = f"/office/accounts/{account.id}#documents"
    form = {"csrf_token": csrf_of(page.text), "account_id": str(account.id), "back": back}
    done = client.post(action, data={**form, "email": "buh@example.ru"})
    assert done.status_code == 303 and done.headers["location"] == back
    assert "buh@example.ru" in client.get(back).text
    [(event, deliveries)] = _resent(client)
    assert (event.payload or {})["kind"] == "upd_fix" and event.account_id == account.id
    assert [(d.channel, d.target) for d in deliveries] == [("email", "buh@example.ru")]
    with _ctx(client).session() as db, db.begin():
        audited = db.scalars(select(AuditEntry).where(AuditEntry.action == "document.resent")).one()
        assert VENDOR_OPERATOR.email in audited.actor and audited.account_id == account.id
