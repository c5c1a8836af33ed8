"""The account's timeline in headless Chromium (screenshots in test-artifacts/web/): the
lines in words, the raw JSON opening on a click, "Older" swapping in the next page, at a
laptop's and at a phone's width with no horizontal overflow of the page; and the invoices'
list, filtered, then sorted by a click on the amount's header (once up, once down, the
filter kept, the header's arrow and aria-sort saying so)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import CUSTOMER_ACCOUNT, VENDOR_OPERATOR, WebServer, log_in


def _the_timeline(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url(f"/office/accounts/{CUSTOMER_ACCOUNT}#timeline"))
    timeline = page.get_by_test_id("timeline")
    paid = timeline.locator('tr[data-event="invoice.paid"]')
    expect(paid).to_contain_text("Оплачен счёт 2026-000001 картой Mir •• 0004")
    raw = paid.get_by_test_id("timeline-raw")
    expect(raw.locator("pre")).to_be_hidden()
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_be_visible()
    expect(raw.locator("pre")).to_contain_text('"type": "invoice.paid"')
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the account page is {overflow}px wider than the window"

    shown = timeline.locator("tbody tr").count()
    assert shown > 1
    older = page.get_by_test_id("timeline-older")
    if older.count():  # the demo's account has more than a page of events
        older.click()  # htmx: the next page in place of this one
        expect(page.get_by_test_id("timeline-newest")).to_be_visible()
        expect(page).to_have_url(web.url(f"/office/accounts/{CUSTOMER_ACCOUNT}#timeline"))


@pytest.mark.viewport(1366, 900)
def test_the_account_timeline_at_a_laptops_width(page: Page, web: WebServer) -> None:
    _the_timeline(page, web)


@pytest.mark.viewport(390, 844)
def test_the_account_timeline_at_a_phones_width(page: Page, web: WebServer) -> None:
    _the_timeline(page, web)
    page.goto(web.url(f"/office/accounts/{CUSTOMER_ACCOUNT}/timeline?limit=5"))
    expect(page.get_by_test_id("timeline").locator("tbody tr").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the timeline's page is {overflow}px wider than the phone"


def _the_invoices(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    page.get_by_role("link", name="Счета", exact=True).first.click()
    expect(page.get_by_role("heading", name="Счета", exact=True)).to_be_visible()
    page.get_by_test_id("filter-status").select_option("paid")
    page.get_by_test_id("filter-apply").click()
    rows = page.get_by_test_id("invoice-list").locator("tbody tr")
    expect(rows.first).to_contain_text("Оплачен")
    header = page.get_by_test_id("invoice-list").locator(
        "th", has=page.get_by_test_id("sort-total")
    )
    expect(header).not_to_have_attribute("aria-sort", re.compile(".*"))
    for direction, arrow in (("ascending", "▲"), ("descending", "▼")):
        page.get_by_test_id("sort-total").click()
        expect(header).to_have_attribute("aria-sort", direction)
        expect(header).to_contain_text(arrow)
        expect(page.get_by_test_id("filter-status")).to_have_value("paid")
        expect(rows.first).to_contain_text("Оплачен")
    assert re.search(r"status=paid&sort=-total$", page.url), page.url
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the invoices page is {overflow}px wider than the window"


@pytest.mark.viewport(1366, 900)
def test_the_invoices_list_at_a_laptops_width(page: Page, web: WebServer) -> None:
    _the_invoices(page, web)


@pytest.mark.viewport(390, 844)
def test_the_invoices_list_at_a_phones_width(page: Page, web: WebServer) -> None:
    _the_invoices(page, web)
