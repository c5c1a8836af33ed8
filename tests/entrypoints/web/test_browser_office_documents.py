"""The month's documents in Chromium at a laptop's 1366 px and a phone's 390 px: the
filters applied by the form, the rows and the sums shown, nothing wider than the screen but
the tables' own scrolling boxes (screenshots in test-artifacts/web/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import VENDOR_OPERATOR, WebServer, log_in


@pytest.mark.parametrize("width", [1366, 390])
def test_the_month_of_documents_fits_the_screen(page: Page, web: WebServer, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url("/office/documents"))
    expect(page.get_by_test_id("month")).to_have_text("ноябрь 2026")
    page.get_by_test_id("filter-month").fill("2026-10")
    page.get_by_test_id("filter-kind").select_option("upd")
    page.get_by_test_id("apply-filters").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("month")).to_have_text("октябрь 2026")
    rows = page.locator('[data-testid="documents"] tbody tr[data-kind="upd"]')
    expect(rows.first).to_be_visible()
    assert page.locator('[data-testid="documents"] tbody tr[data-kind="advance"]').count() == 0
    expect(page.get_by_test_id("totals").locator('tr[data-kind="upd"]')).to_contain_text("УПД")
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= width, wider
