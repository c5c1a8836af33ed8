"""The back office's payments and the month's revenue in headless Chromium (screenshots in
test-artifacts/web/): the menu's link, a filter, the card's mask, the revenue tables, at a
laptop's and at a phone's width with no horizontal overflow of the page (the tables scroll
in their frame)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import VENDOR_OPERATOR, WebServer, log_in


def _the_payments(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    page.get_by_role("link", name="Платежи", exact=True).first.click()
    expect(page.get_by_role("heading", name="Платежи", exact=True)).to_be_visible()
    rows = page.get_by_test_id("payment-list").locator("tbody tr")
    expect(rows.filter(has_text="Mir •• 0004").first).to_be_visible()
    page.get_by_test_id("filter-method").select_option("card")
    page.get_by_test_id("filter-apply").click()
    expect(rows.first).to_contain_text("Карта")
    expect(page.get_by_test_id("revenue-total")).to_be_visible()
    expect(page.get_by_test_id("revenue-channel")).to_contain_text("Итого")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the payments page is {overflow}px wider than the window"


@pytest.mark.viewport(1366, 900)
def test_the_payments_list_at_a_laptops_width(page: Page, web: WebServer) -> None:
    _the_payments(page, web)


@pytest.mark.viewport(390, 844)
def test_the_payments_list_at_a_phones_width(page: Page, web: WebServer) -> None:
    _the_payments(page, web)
