"""The account page's actions on an open invoice in headless Chromium (screenshots in
test-artifacts/web/): an administrator voids an order's invoice through its confirmation,
at a desktop's width; the actions at a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import VENDOR_ADMIN, WebServer, log_in
from tests.entrypoints.web.test_office_ops import AUTOPAY_INVOICE, HORIZONS_INVOICE

HORIZONS_ACCOUNT = 7  # ООО «Новые горизонты», its first order waiting for payment
AUTOPAY_ACCOUNT = 5  # ООО «Автоплатёж», its renewal waiting


def test_an_administrator_voids_an_order_invoice(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{HORIZONS_ACCOUNT}"))
    card = page.locator(f'article.invoice-actions[data-invoice="{HORIZONS_INVOICE}"]')
    expect(card).to_contain_text("22 743,00 ₽")
    card.get_by_text("Аннулировать", exact=True).click()
    card.locator('input[name="reason"]').fill("Заказ оформлен дважды")
    card.get_by_test_id("void").click()
    expect(page.get_by_test_id("void-effect")).to_contain_text("22 743,00 ₽")
    expect(page.get_by_test_id("void-effect")).to_contain_text("подписка")
    page.get_by_test_id("confirm-void").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Счёт {HORIZONS_INVOICE} аннулирован")
    expect(page.get_by_test_id("no-open-invoices")).to_be_visible()
    row = page.get_by_test_id("invoices").locator("tr", has_text=HORIZONS_INVOICE)
    expect(row).to_contain_text("Аннулирован")


@pytest.mark.viewport(390, 844)
def test_the_invoice_actions_at_a_phones_width(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{AUTOPAY_ACCOUNT}#invoice-actions"))
    card = page.locator(f'article.invoice-actions[data-invoice="{AUTOPAY_INVOICE}"]')
    expect(card.get_by_test_id("resend")).to_be_visible()
    expect(card.get_by_test_id("charge")).to_be_visible()
    card.get_by_text("Отметить оплаченным", exact=True).click()
    expect(card.locator('input[name="paid_on"]')).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    card.scroll_into_view_if_needed()
