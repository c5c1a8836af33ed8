"""The account page's documents in Chromium at a laptop's 1366 px and a phone's 390 px
(screenshots in test-artifacts/web/): a УПД's исправление listed under it, sent again from
its own form; nothing wider than the screen but the table's own scrolling box."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.documents import fetch_pdf, reissue_document
from podpiska.invoicing.models import Closing
from tests.entrypoints.web.conftest import VENDOR_ADMIN, VENDOR_OPERATOR, WebServer, log_in

ADMIN = f"web:{VENDOR_ADMIN.email}"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_correction_is_resent_from_the_account_page(
    page: Page, web: WebServer, width: int
) -> None:
    ctx = web.context
    with ctx.session() as db:
        with db.begin():
            closing = db.scalars(select(Closing).order_by(Closing.id)).first()
            assert closing is not None, "the demo has a УПД"
            closing_id, account_id, number = closing.id, closing.account_id, closing.number
        fetch_pdf(ctx, db, kind="upd", source_id=closing_id, scope=Scope.vendor())
        reissue_document(
            ctx, db, kind="upd", source_id=closing_id, reason="неверный адрес", actor=ADMIN
        )
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url(f"/office/accounts/{account_id}#documents"))
    row = page.locator('[data-testid="account-documents"] tr[data-kind="upd_fix"][data-fix="1"]')
    expect(row).to_contain_text("Исправление УПД № 1")
    expect(row).to_contain_text("неверный адрес")
    row.get_by_text("Отправить повторно").click()
    row.get_by_test_id("document-resend-email").fill("buh@example.ru")
    row.get_by_test_id("document-resend-submit").click()
    expect(page.locator(".flash-success")).to_contain_text("buh@example.ru")
    expect(page.locator(f'tr[data-kind="upd"][data-number="{number}"]').first).to_be_visible()
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= width, wider
