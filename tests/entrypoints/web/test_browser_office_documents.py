"""The month's documents in Chromium at a laptop's 1366 px and a phone's 390 px: the
filters applied by the form, the rows and the sums shown (a credit note's and an
исправление's too), nothing wider than the screen but the tables' own scrolling boxes
(screenshots in test-artifacts/web/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from podpiska.core.domain.scope import Scope
from podpiska.entrypoints.documents import fetch_pdf, reissue_document
from podpiska.invoicing.models import Closing, Invoice
from podpiska.subscriptions.credit_notes import issue_credit_note
from tests.entrypoints.web.conftest import VENDOR_ADMIN, VENDOR_OPERATOR, WebServer, log_in
from tests.entrypoints.web.test_office_money_actions import FIRST_ORDER

ADMIN = f"web:{VENDOR_ADMIN.email}"


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


@pytest.mark.parametrize("width", [1366, 390])
def test_the_month_shows_a_credit_note_and_a_correction(
    page: Page, web: WebServer, width: int
) -> None:
    """A credit note (its PDF not made yet) and a УПД's исправление in the demo's November:
    their rows with what they refer to and their PDFs, their own lines in the sums."""
    ctx = web.context
    with ctx.session() as db:
        with db.begin():
            closing = db.scalars(select(Closing).order_by(Closing.id)).first()
            invoice = db.scalars(select(Invoice).where(Invoice.number == FIRST_ORDER)).one()
            assert closing is not None, "the demo has a УПД"
            closing_id, upd_number, invoice_id = closing.id, closing.number, invoice.id
        note_number = issue_credit_note(
            db, invoice_id=invoice_id, reason="ошибка в тарифе", actor=ADMIN, clock=ctx.clock
        ).number
        fetch_pdf(ctx, db, kind="upd", source_id=closing_id, scope=Scope.vendor())
        reissue_document(
            ctx, db, kind="upd", source_id=closing_id, reason="неверный адрес", actor=ADMIN
        )
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, web, VENDOR_OPERATOR)
    page.goto(web.url("/office/documents"))
    expect(page.get_by_test_id("month")).to_have_text("ноябрь 2026")
    listed = page.get_by_test_id("documents")
    page.get_by_test_id("filter-kind").select_option("credit_note")
    page.get_by_test_id("apply-filters").click()
    page.wait_for_load_state()
    expect(listed.locator("tbody tr")).to_have_count(1)
    expect(listed.locator("tbody tr")).to_have_attribute("data-number", note_number)

    page.goto(web.url("/office/documents"))  # the whole month: the screenshot's
    credit = listed.locator(f'tr[data-kind="credit_note"][data-number="{note_number}"]')
    expect(credit).to_contain_text("Корректировочный документ")
    expect(credit).to_contain_text(f"к счёту № {FIRST_ORDER}")
    expect(credit.get_by_test_id("pdf")).to_be_visible()
    fix = listed.locator(f'tr[data-kind="upd_fix"][data-number="{upd_number}-FIX-1"]')
    expect(fix).to_contain_text(f"Исправление № 1 к УПД № {upd_number}")
    expect(fix.get_by_test_id("pdf")).to_be_visible()
    totals = page.get_by_test_id("totals")
    expect(totals.locator('tr[data-kind="credit_note"]')).to_contain_text(
        "Корректировочный документ"
    )
    expect(totals.locator('tr[data-kind="upd_fix"]')).to_contain_text("Исправление УПД")
    expect(page.get_by_test_id("totals-note")).to_be_visible()
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= width, wider
    if width >= 1366:  # a laptop sees every column, the files too, without scrolling
        box = page.evaluate(
            "[...document.querySelectorAll('.table-wrap')].map(w => w.scrollWidth - w.clientWidth)"
        )
        assert max(box) <= 0, box
