"""The portal's documents page links the account's акт сверки for the current year, as PDF
and XLSX, made by the same use-case as the API's; another account's is not served."""

from __future__ import annotations

from io import BytesIO

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.entrypoints.web.conftest import CUSTOMER, CUSTOMER_ACCOUNT, GRACE_ACCOUNT, client_log_in


def test_the_documents_page_links_this_years_reconciliation(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    page = client.get(f"/portal/{CUSTOMER_ACCOUNT}/documents")
    assert page.status_code == 200
    assert "Акт сверки за 2026 год" in page.text
    href = f"/portal/{CUSTOMER_ACCOUNT}/reconciliation.pdf?year=2026"
    assert f'href="{href}"' in page.text
    pdf = client.get(href)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "2026-01-01-2026-11-22.pdf" in pdf.headers["content-disposition"]  # up to today
    xlsx = client.get(f"/portal/{CUSTOMER_ACCOUNT}/reconciliation.xlsx?year=2026")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet is not None and sheet["B6"].value == "Сальдо начальное на 01.01.2026"
    assert client.get(f"/portal/{CUSTOMER_ACCOUNT}/reconciliation.doc?year=2026").status_code == 404
    assert client.get(f"/portal/{CUSTOMER_ACCOUNT}/reconciliation.pdf?year=1").status_code == 404
    other = client.get(f"/portal/{GRACE_ACCOUNT}/reconciliation.pdf?year=2026")
    assert other.status_code in (403, 404)
