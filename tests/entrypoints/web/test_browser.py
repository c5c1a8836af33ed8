"""End to end in a real headless Chromium: each test leaves a screenshot in
test-artifacts/web/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    GRACE_ACCOUNT,
    VENDOR_OPERATOR,
    WebServer,
    log_in,
)


def test_a_customer_logs_in_and_sees_the_subscription(page: Page, web: WebServer) -> None:
    page.goto(web.url("/"))
    expect(page).to_have_url(web.url("/login"))
    log_in(page, web, CUSTOMER)
    expect(page).to_have_url(web.url(f"/portal/{CUSTOMER_ACCOUNT}"))
    expect(page.get_by_role("heading", name="Моя подписка")).to_be_visible()
    expect(page.get_by_test_id("plan")).to_contain_text("Тариф «Стандартный»")
    expect(page.get_by_test_id("subscription")).to_contain_text("Активна")
    expect(page.get_by_test_id("paid-through")).to_contain_text("2027")
    expect(page.get_by_test_id("days-left")).to_contain_text("дн")
    expect(page.get_by_test_id("users")).to_contain_text("13 из 50")
    expect(page.get_by_test_id("nothing-restricted")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text(CUSTOMER.email)


def test_the_portal_in_english_and_a_logout(page: Page, web: WebServer) -> None:
    log_in(page, web, CUSTOMER)
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_role("heading", name="My subscription")).to_be_visible()
    expect(page.get_by_test_id("subscription")).to_contain_text("Active")
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(web.url("/login"))
    page.goto(web.url(f"/portal/{CUSTOMER_ACCOUNT}"))
    expect(page).to_have_url(web.url(f"/login?next=%2Fportal%2F{CUSTOMER_ACCOUNT}"))


def test_a_customer_cannot_open_another_accounts_page(page: Page, web: WebServer) -> None:
    log_in(page, web, CUSTOMER)
    answer = page.goto(web.url(f"/portal/{GRACE_ACCOUNT}"))
    assert answer is not None and answer.status == 404
    expect(page.get_by_test_id("error")).to_contain_text("Не найдено")
    expect(page.locator("body")).not_to_contain_text("Вектор")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, web: WebServer) -> None:
    log_in(page, web, CUSTOMER)
    page.goto(web.url("/profile"))
    page.locator('input[name="current_password"]').fill(CUSTOMER.password)
    page.locator('input[name="new_password"]').fill("a brand new password")
    page.evaluate(
        'document.querySelector(\'form[action="/profile/password"] '
        "input[name=csrf_token]').remove()"
    )
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Сменить пароль").click()
    answer = navigation.value
    assert answer is not None and answer.status == 403
    expect(page.get_by_test_id("error")).to_contain_text("ничего не изменено")
    # nothing changed: the old password still logs in
    page.context.clear_cookies()
    log_in(page, web, CUSTOMER)
    expect(page).to_have_url(web.url(f"/portal/{CUSTOMER_ACCOUNT}"))


def test_the_back_office_lists_accounts_with_a_filter(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    expect(page).to_have_url(web.url("/office"))  # the dashboard first
    page.goto(web.url("/office/accounts"))
    rows = page.locator("table[data-testid=accounts] tbody tr")
    expect(rows).to_have_count(7)
    page.get_by_test_id("filter-state").select_option("grace")  # htmx updates the table
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ООО «Вектор»")
    expect(page).to_have_url(web.url("/office/accounts?q=&state=grace&plan=&edition=&due_before="))
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("account-name")).to_have_text("ООО «Вектор»")
    expect(page.get_by_test_id("subscription")).to_contain_text("Льготный период")
    expect(page.get_by_test_id("invoices")).to_contain_text("Оплачен")


@pytest.mark.viewport(390, 844)
def test_the_portal_at_a_phones_width(page: Page, web: WebServer) -> None:
    log_in(page, web, CUSTOMER)
    expect(page.get_by_test_id("plan")).to_be_visible()
    expect(page.get_by_test_id("logout")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


def test_what_is_restricted_in_grace_and_why(page: Page, web: WebServer) -> None:
    """The portal of an account in grace (seen by the vendor's operator): the state in
    plain words and each restricted action with the entitlement check's reason."""
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url(f"/portal/{GRACE_ACCOUNT}"))
    expect(page.get_by_test_id("subscription")).to_contain_text("Льготный период")
    expect(page.get_by_test_id("grace-until")).to_contain_text("12 декабря 2026")
    restricted = page.locator('[data-testid=restrictions] li[data-action="crm.create_deal"]')
    expect(restricted).to_contain_text("Портал в льготном периоде до 12.12.2026")
