"""The back office's operations pages end to end in headless Chromium (screenshots in
test-artifacts/web/): a statement uploaded and an unmatched payment resolved by hand; the
entitlement tester and the pages at a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import GRACE_ACCOUNT, VENDOR_OPERATOR, WebServer, log_in
from tests.entrypoints.web.test_office_ops import AUTOPAY_INVOICE, HORIZONS_INVOICE, demo_statement

AUTOPAY_ACCOUNT = 5  # ООО «Автоплатёж», whose renewal invoice the unmatched payment pays


def test_an_operator_uploads_a_statement_and_resolves_an_unmatched_payment(
    page: Page, web: WebServer
) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    page.get_by_role("link", name="Выписки").click()
    expect(page.get_by_role("heading", name="Выписки", exact=True)).to_be_visible()
    page.get_by_test_id("statement-file").set_input_files(
        {"name": "vypiska.txt", "mimeType": "text/plain", "buffer": demo_statement()}
    )
    page.get_by_test_id("upload").click()

    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("vypiska.txt")
    expect(summary.locator('tr[data-outcome="paid"]')).to_contain_text("1")
    expect(summary.locator('tr[data-outcome="paid"]')).to_contain_text("22 743,00 ₽")
    expect(summary.locator('tr[data-outcome="unmatched"]')).to_contain_text("1 990,00 ₽")
    latest = page.get_by_test_id("latest-bank-payments")
    expect(latest.locator('tr[data-status="paid"]')).to_contain_text(HORIZONS_INVOICE)

    waiting = page.locator("article.bank-payment")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Оплата за услуги связи")
    waiting.get_by_test_id("find-invoice-q").fill(AUTOPAY_INVOICE)
    waiting.get_by_test_id("find-invoice").click()  # htmx: the choices under the payment
    choice = waiting.locator(f'tr[data-invoice="{AUTOPAY_INVOICE}"]')
    expect(choice).to_contain_text("ООО «Автоплатёж»")
    expect(choice).to_contain_text("ровно")
    choice.get_by_test_id("resolve").click()

    expect(page.locator(".flash-success")).to_contain_text(
        f"сопоставлен со счётом {AUTOPAY_INVOICE} (ООО «Автоплатёж»): оплачен"
    )
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    expect(latest.locator('tr[data-status="resolved"]')).to_contain_text(AUTOPAY_INVOICE)

    latest.locator('tr[data-status="resolved"]').get_by_role("link").click()
    expect(page.get_by_test_id("account-name")).to_have_text("ООО «Автоплатёж»")
    invoice = page.get_by_test_id("invoices").locator("tr", has_text=AUTOPAY_INVOICE)
    expect(invoice).to_contain_text("Оплачен")
    expect(
        page.get_by_test_id("timeline").locator('tr[data-action="bank_payment.resolved"]')
    ).to_contain_text(VENDOR_OPERATOR.email)


@pytest.mark.viewport(390, 844)
def test_the_entitlement_tester_and_the_operations_pages_at_a_phones_width(
    page: Page, web: WebServer
) -> None:
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url(f"/office/accounts/{GRACE_ACCOUNT}"))
    page.get_by_test_id("entitlement-action").select_option("crm.create_deal")
    page.get_by_test_id("entitlement-check").click()  # htmx: the answer alone
    answer = page.get_by_test_id("entitlement-answer")
    expect(answer).to_contain_text("Нет: создание сделок сейчас недоступно")
    expect(answer).to_contain_text("Портал в льготном периоде до 12.12.2026")
    expect(page).to_have_url(web.url(f"/office/accounts/{GRACE_ACCOUNT}"))  # no reload

    for path in (
        f"/office/accounts/{GRACE_ACCOUNT}",
        "/office/bank",
        "/office/deliveries",
        "/office/test-clocks",
    ):
        page.goto(web.url(path))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
