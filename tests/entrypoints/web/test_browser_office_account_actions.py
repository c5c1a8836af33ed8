"""The account page's actions end to end in headless Chromium (screenshots in
test-artifacts/web/): a vendor_admin records a bank payment by hand against the account's
open renewal invoice and extends the term as a gift at 1366 px; the account page with its
actions at a phone's width has no horizontal overflow; an order issued after its quote and
a closing document sent again, each at 1366 px with its page at 390 px too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from podpiska.accounts.accounts import open_account
from podpiska.invoicing.models import Closing, Invoice
from tests.entrypoints.web.conftest import (
    ARTIFACTS,
    VENDOR_ADMIN,
    VENDOR_OPERATOR,
    WebServer,
    log_in,
)
from tests.entrypoints.web.test_browser_office import AUTOPAY_ACCOUNT
from tests.entrypoints.web.test_office_ops import AUTOPAY_INVOICE


@pytest.mark.viewport(1366, 900)
def test_a_vendor_admin_records_a_bank_payment_on_the_account_page(
    page: Page, web: WebServer
) -> None:
    with web.context.session() as db, db.begin():
        invoice = db.scalars(select(Invoice).where(Invoice.number == AUTOPAY_INVOICE)).one()
        due = str(invoice.total - invoice.amount_paid)
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{AUTOPAY_ACCOUNT}"))
    section = page.get_by_test_id("bank-payment")
    section.locator("summary").click()
    section.get_by_test_id("bank-payment-amount").fill(due)
    section.get_by_test_id("bank-payment-day").fill("2026-11-21")
    section.get_by_test_id("bank-payment-reference").fill("п/п 518")
    expect(section.get_by_test_id("bank-payment-invoice")).to_contain_text(AUTOPAY_INVOICE)
    section.get_by_test_id("bank-payment-invoice").select_option(str(invoice.id))
    section.get_by_test_id("bank-payment-submit").click()

    expect(page.locator(".flash-success")).to_contain_text("внесён по счёту")
    row = page.get_by_test_id("invoices").locator("tr", has_text=AUTOPAY_INVOICE)
    expect(row).to_contain_text("Оплачен")
    expect(
        page.get_by_test_id("timeline").locator('tr[data-action="bank_payment.recorded"]')
    ).to_contain_text(VENDOR_ADMIN.email)


@pytest.mark.viewport(1366, 900)
def test_a_vendor_admin_extends_the_term_on_the_account_page(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url("/office/accounts/1"))
    section = page.get_by_test_id("extension")
    section.locator("summary").click()
    section.get_by_test_id("extension-days").fill("14")
    section.get_by_test_id("extension-reason").fill("Сбой сервиса")
    section.get_by_test_id("extension-submit").click()
    expect(page.locator(".flash-success")).to_contain_text("Срок продлён на 14 дн.")
    expect(page.get_by_test_id("invoices")).to_contain_text("Продление в подарок")


@pytest.mark.viewport(390, 844)
def test_the_account_page_with_its_actions_fits_a_phone(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{AUTOPAY_ACCOUNT}"))
    actions = page.get_by_test_id("account-actions")
    expect(actions).to_be_visible()
    for testid in ("bank-payment", "extension"):
        found = page.get_by_test_id(testid)
        if found.count():
            found.locator("summary").click()
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= 390, wider
    page.goto(web.url(f"/office/accounts/{AUTOPAY_ACCOUNT}/users"))
    expect(page.get_by_test_id("account-users")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.viewport(1366, 900)
def test_a_vendor_admin_changes_the_plan_with_its_preview(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url("/office/accounts/1"))
    page.get_by_test_id("change-link").click()
    expect(page.get_by_test_id("change-form")).to_be_visible()
    page.get_by_test_id("change-kind-plan").check()
    page.get_by_test_id("change-plan").select_option("professional")
    page.get_by_test_id("change-preview").click()
    result = page.get_by_test_id("change-preview-result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("change-lines").locator("tbody tr")).not_to_have_count(0)
    due = page.get_by_test_id("change-due").inner_text()
    assert "₽" in due
    page.get_by_test_id("change-commit").click()
    expect(page.locator(".flash-success")).to_contain_text("Изменение сделано")
    expect(page.locator(".flash-success")).to_contain_text(due.strip())


def _at_a_phone(page: Page, name: str) -> None:
    """The page as it is now at a phone's 390 px: nothing wider than the screen, and its
    screenshot beside the test's own (taken at the end at 1366 px)."""
    page.set_viewport_size({"width": 390, "height": 844})
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= 390, wider
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}_390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.viewport(1366, 900)
def test_a_vendor_admin_issues_an_order_after_its_quote(page: Page, web: WebServer) -> None:
    with web.context.session() as db:
        account = open_account(
            db,
            name="ООО «Заказ из офиса»",
            admin_email="office@order.example",
            actor="test",
            clock=web.context.clock,
        ).id
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{account}"))
    page.get_by_test_id("order-link").click()
    form = page.get_by_test_id("order-form")
    form.get_by_test_id("order-plan").select_option("standard")
    form.get_by_test_id("order-months").select_option("12")
    form.get_by_test_id("order-users").fill("5")
    form.get_by_test_id("order-add-ons").locator('input[value="marketplace"]').check()
    form.get_by_test_id("order-preview").click()
    expect(page.get_by_test_id("order-lines")).to_contain_text("за 12 мес.")
    total = page.get_by_test_id("order-total").inner_text()
    _at_a_phone(page, "test_a_vendor_admin_issues_an_order_after_its_quote")
    page.get_by_test_id("order-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Оформлен заказ")
    expect(page.locator(".flash-success")).to_contain_text(total)
    expect(page.get_by_test_id("invoices")).to_contain_text(total)
    expect(page.get_by_test_id("order-link")).to_have_count(0)


@pytest.mark.viewport(1366, 900)
def test_an_operator_resends_a_closing_document(page: Page, web: WebServer) -> None:
    with web.context.session() as db, db.begin():
        closing = db.scalars(select(Closing).order_by(Closing.id)).first()
        assert closing is not None
        account, number = closing.account_id, closing.number
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url(f"/office/accounts/{account}#documents"))
    row = page.get_by_test_id("account-documents").locator(f'tr[data-number="{number}"]')
    row.get_by_test_id("document-resend").locator("summary").click()
    _at_a_phone(page, "test_an_operator_resends_a_closing_document")
    row = page.get_by_test_id("account-documents").locator(f'tr[data-number="{number}"]')
    row.get_by_test_id("document-resend-email").fill("buh@example.ru")
    row.get_by_test_id("document-resend-submit").click()
    expect(page.locator(".flash-success")).to_contain_text("buh@example.ru")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"Документ {number} (УПД)")
