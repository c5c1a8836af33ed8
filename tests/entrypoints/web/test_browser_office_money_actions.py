"""A credit note from the account page end to end in headless Chromium at 1366 px: the
paid invoice chosen, the preview with the exact amounts (screenshot in
test-artifacts/web/), then the note issued and named in the flash."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import ARTIFACTS, VENDOR_ADMIN, WebServer, log_in
from tests.entrypoints.web.test_office_money_actions import FIRST_ORDER


@pytest.mark.viewport(1366, 900)
def test_a_vendor_admin_issues_a_credit_note_with_its_preview(page: Page, web: WebServer) -> None:
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url("/office/accounts/1"))
    page.get_by_test_id("credit-note-link").click()
    form = page.get_by_test_id("credit-note-form")
    expect(form).to_be_visible()
    form.get_by_test_id("credit-note-invoice").select_option(label=f"{FIRST_ORDER}: 53 784,00 ₽")
    form.get_by_test_id("credit-note-reason").fill("Ошибка в тарифе")
    form.get_by_test_id("credit-note-preview").click()

    box = page.get_by_test_id("credit-note-preview-box")
    expect(box).to_contain_text(FIRST_ORDER)
    expect(box.get_by_test_id("credit-note-total")).to_have_text("-53 784,00 ₽")
    expect(box.get_by_test_id("credit-note-vat")).to_have_text("-9 698,75 ₽")
    expect(box.get_by_test_id("credit-note-money")).to_contain_text("поступит на остаток")
    expect(box.get_by_test_id("credit-note-ends-term")).to_contain_text("подписка отменяется")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "credit_note_preview_1366.png"), full_page=True)

    box.get_by_test_id("credit-note-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("CN-2026-")
    audited = page.get_by_test_id("timeline").locator('tr[data-action="credit_note.issued"]')
    expect(audited).to_contain_text(VENDOR_ADMIN.email)
