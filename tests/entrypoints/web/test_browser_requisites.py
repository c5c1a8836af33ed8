"""The buyer's requisites end to end in headless Chromium: a vendor administrator edits them
on the back office's account page, a wrong ОГРН is said under its field, the saved values
and the audit row show; at a laptop's 1366 px and a phone's 390 px with nothing wider than
the screen (screenshots in test-artifacts/web/), and the portal's settings at a phone's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    VENDOR_ADMIN,
    WebServer,
    log_in,
)
from tests.entrypoints.web.test_requisites import ADDRESS, CONTRACT, KPP, OGRN


def _fits(page: Page, width: int) -> None:
    wider = page.evaluate("document.documentElement.scrollWidth")
    assert wider <= width, f"{page.url} is {wider}px wide at {width}px"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_vendor_admin_edits_the_requisites_in_the_office(
    page: Page, web: WebServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, web, VENDOR_ADMIN)
    page.goto(web.url(f"/office/accounts/{CUSTOMER_ACCOUNT}"))
    shown = page.get_by_test_id("requisites")
    expect(shown.get_by_test_id("req-inn")).to_have_text("7707083893")
    expect(shown.get_by_test_id("req-kpp")).to_have_text("—")
    _fits(page, width)

    shown.get_by_text("Изменить реквизиты").click()
    shown.get_by_label("КПП").fill(KPP)
    shown.get_by_label("ОГРН / ОГРНИП").fill("1027700132194")  # a wrong check digit
    shown.get_by_label("Юридический адрес").fill(ADDRESS)
    shown.get_by_label("Идентификатор госконтракта").fill(CONTRACT)
    shown.get_by_test_id("requisites-save").click()

    shown = page.get_by_test_id("requisites")
    expect(shown.get_by_test_id("req-error-ogrn")).to_have_text(
        "ОГРН — 13 цифр (ОГРНИП — 15) с верной контрольной цифрой."
    )
    expect(shown.get_by_label("Юридический адрес")).to_have_value(ADDRESS)  # kept
    expect(shown.get_by_test_id("req-kpp")).to_have_text("—")  # nothing written
    _fits(page, width)

    shown.get_by_label("ОГРН / ОГРНИП").fill(OGRN)
    shown.get_by_test_id("requisites-save").click()
    expect(page.locator(".flash-success")).to_contain_text("Реквизиты сохранены.")
    shown = page.get_by_test_id("requisites")
    expect(shown.get_by_test_id("req-kpp")).to_have_text(KPP)
    expect(shown.get_by_test_id("req-ogrn")).to_have_text(OGRN)
    expect(shown.get_by_test_id("req-legal_address")).to_have_text(ADDRESS)
    expect(shown.get_by_test_id("req-state_contract_id")).to_have_text(CONTRACT)
    expect(
        page.get_by_test_id("timeline").locator('tr[data-action="account.requisites_changed"]')
    ).to_contain_text(VENDOR_ADMIN.email)
    shown.get_by_text("Изменить реквизиты").click()  # open, for the screenshot
    _fits(page, width)


@pytest.mark.viewport(390, 844)
def test_the_customer_sees_the_requisites_form_on_a_phone(page: Page, web: WebServer) -> None:
    log_in(page, web, CUSTOMER)
    page.goto(web.url(f"/portal/{CUSTOMER_ACCOUNT}/payment-methods"))
    shown = page.get_by_test_id("requisites")
    shown.get_by_text("Изменить реквизиты").click()
    shown.get_by_label("КПП").fill(KPP)
    shown.get_by_test_id("requisites-save").click()
    expect(page.locator(".flash-success")).to_contain_text("Реквизиты сохранены.")
    expect(page.get_by_test_id("requisites").get_by_test_id("req-kpp")).to_have_text(KPP)
    _fits(page, 390)
