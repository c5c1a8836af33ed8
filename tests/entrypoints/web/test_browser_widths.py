"""The pages changed for the newcomer's issue at a laptop's 1366 px and a phone's 390 px in
Chromium: nothing wider than the screen but the tables' own scrolling boxes (screenshots in
test-artifacts/web/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from podpiska.invoicing.models import Invoice
from tests.entrypoints.web.conftest import VENDOR_OPERATOR, WebServer, log_in
from tests.entrypoints.web.test_office_ops import AUTOPAY_INVOICE

AUTOPAY_ACCOUNT = 5


@pytest.mark.parametrize("width", [1366, 390])
def test_the_pay_page_and_the_account_page_fit_the_screen(
    page: Page, web: WebServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    with web.context.session() as db, db.begin():
        invoice_id = db.scalars(select(Invoice.id).where(Invoice.number == AUTOPAY_INVOICE)).one()
    log_in(page, web, VENDOR_OPERATOR)
    for path, testid in (
        (f"/portal/{AUTOPAY_ACCOUNT}/invoices/{invoice_id}/pay", "due"),
        (f"/office/accounts/{AUTOPAY_ACCOUNT}", "invoices"),
    ):
        page.goto(web.url(path))
        expect(page.get_by_test_id(testid)).to_be_visible()
        wider = page.evaluate("document.documentElement.scrollWidth")
        assert wider <= width, (path, wider)
