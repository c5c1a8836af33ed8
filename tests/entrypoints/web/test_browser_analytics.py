"""End to end in headless Chromium: the dashboard draws its charts (Chart.js from
/static/vendor, our charts.js, no console error), and the tariff advisor answers on a
phone's screen. Screenshots in test-artifacts/web/."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    VENDOR_OPERATOR,
    WebServer,
    log_in,
)


def _collect_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        url = str(message.location.get("url", ""))
        if message.type == "error" and not url.endswith("/favicon.ico"):  # not ours to serve
            errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_the_dashboard_draws_its_charts(page: Page, web: WebServer) -> None:
    errors = _collect_errors(page)
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url("/office"))
    expect(page.get_by_role("heading", name="Дашборд", exact=True)).to_be_visible()
    for chart in ("chart-mrr", "chart-plans", "chart-cash"):
        canvas = page.get_by_test_id(chart)
        expect(canvas).to_be_visible()
        expect(canvas).to_have_attribute("data-drawn", "1")  # Chart.js drew it
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.evaluate("Object.keys(Chart.instances).length") == 3
    expect(page.get_by_test_id("mrr-table").locator("tbody tr")).to_have_count(12)
    page.get_by_test_id("grace-count").click()
    expect(page).to_have_url(web.url("/office/accounts?state=grace"))
    expect(page.locator("table[data-testid=accounts] tbody tr")).to_have_count(1)
    page.go_back()
    page.wait_for_load_state()
    assert errors == [], errors


@pytest.mark.viewport(390, 844)
def test_the_advisor_answers_on_a_phone(page: Page, web: WebServer) -> None:
    errors = _collect_errors(page)
    log_in(page, web, CUSTOMER)
    page.goto(web.url(f"/portal/{CUSTOMER_ACCOUNT}/advisor"))
    page.get_by_test_id("users").fill("13")
    page.get_by_test_id("disk").fill("50")
    page.get_by_test_id("orders").fill("400")
    page.get_by_test_id("advise").click()
    best = page.get_by_test_id("best")
    expect(best).to_contain_text("Стандартный")
    expect(page.get_by_test_id("best-month")).to_contain_text("4\xa0233,00")  # Marketplace in
    expect(page.get_by_test_id("guidance").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("budget")).to_contain_text("06.05.2027")  # after the paid term
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    assert errors == [], errors
