"""The portal's billing pages end to end in headless Chromium (screenshots in
test-artifacts/web/): a customer renews and pays by the sandbox's test card, another by SBP
on a phone, and a customer previews and confirms adding users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from podpiska.app import create_app
from podpiska.invoicing.models import Payment
from tests.entrypoints.web.conftest import ARTIFACTS, WebServer, _free_port, _Uvicorn, log_in
from tests.entrypoints.web.test_portal_billing import (
    PETROV,
    PETROV_ADMIN,
    SITES_ADMIN,
    add_admin,
    site_platform_context,
    subscription_of,
)
from tests.seeded_demo import dispose


@pytest.fixture
def sites_web(db_url: str, tmp_path: Path) -> Iterator[WebServer]:
    """uvicorn on a database whose catalog sells extra users (site-platform)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    context = site_platform_context(db_url, tmp_path, public_url=base)
    server = _Uvicorn(create_app(context), port)
    server.start_and_wait()
    try:
        yield WebServer(base, context)
    finally:
        server.stop()
        dispose(context)


def test_a_customer_renews_and_pays_by_sandbox_card(page: Page, web: WebServer) -> None:
    add_admin(web.context, PETROV, PETROV_ADMIN)
    log_in(page, web, PETROV_ADMIN)
    page.get_by_role("link", name="Продление").click()
    expect(page.get_by_role("heading", name="Продление подписки")).to_be_visible()
    expect(page.get_by_test_id("paid-through")).to_contain_text("27 ноября 2026")
    expect(page.get_by_test_id("monthly-12")).to_contain_text("1 791,00")  # 1 990 − 10 %
    page.get_by_test_id("offer-12").click()
    page.get_by_test_id("renew-submit").click()
    expect(page.get_by_test_id("due")).to_contain_text("21 492,00")
    expect(page.get_by_test_id("invoice-lines")).to_contain_text("− 10 % за 12 мес.")
    page.get_by_test_id("pay-card-submit").click()
    # the sandbox's own checkout page, then back: no webhook needed, the result page asks
    page.wait_for_url("**/sandbox/checkout/**")
    page.get_by_label("Номер карты").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Оплатить").click()
    result = page.get_by_test_id("payment-result")
    expect(result).to_have_attribute("data-result", "paid")
    expect(page.get_by_test_id("paid-through")).to_contain_text("27 ноября 2027")
    page.get_by_role("link", name="Моя подписка").first.click()
    expect(page.get_by_test_id("paid-through")).to_contain_text("27 ноября 2027")
    assert str(subscription_of(web.context, PETROV).ends_on) == "2027-11-28"


def test_a_customer_previews_and_confirms_adding_users(page: Page, sites_web: WebServer) -> None:
    log_in(page, sites_web, SITES_ADMIN)
    page.get_by_role("link", name="Смена тарифа").click()
    expect(page.get_by_role("heading", name="Смена тарифа или числа пользователей")).to_be_visible()
    page.get_by_test_id("seats").fill("15")
    page.get_by_test_id("preview-seats").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("15 польз.: оплаченный период пересчитан в дни")
    expect(page.get_by_test_id("amount-due")).to_contain_text("0,00")
    expect(page.get_by_test_id("new-paid-through")).to_contain_text("19 июля 2027")
    page.get_by_test_id("change-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Изменение применено")
    expect(page.locator("hgroup")).to_contain_text("оплачено 15 пользователей")
    expect(page.locator("hgroup")).to_contain_text("оплачено по 19 июля 2027")
    assert subscription_of(sites_web.context, 1).seats == 15


@pytest.mark.viewport(390, 844)
def test_the_billing_pages_at_a_phones_width(page: Page, web: WebServer) -> None:
    add_admin(web.context, PETROV, PETROV_ADMIN)
    log_in(page, web, PETROV_ADMIN)
    for path in ("renew", "change", "payment-methods", "documents"):
        page.goto(web.url(f"/portal/{PETROV}/{path}"))
        expect(page.locator("h1")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path}: the page is {overflow}px wider than the phone"
    page.goto(web.url(f"/portal/{PETROV}/renew"))
    page.get_by_test_id("offer-3").click()
    page.get_by_test_id("renew-submit").click()
    expect(page.get_by_test_id("pay-card")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the payment page is {overflow}px wider than the phone"


@pytest.mark.viewport(390, 844)
def test_a_customer_pays_by_sbp_on_a_phone(page: Page, web: WebServer) -> None:
    add_admin(web.context, PETROV, PETROV_ADMIN)
    log_in(page, web, PETROV_ADMIN)
    page.goto(web.url(f"/portal/{PETROV}/renew"))
    page.get_by_test_id("offer-12").click()
    page.get_by_test_id("renew-submit").click()
    sbp = page.get_by_test_id("pay-sbp")
    expect(sbp).to_contain_text("Через СБП")
    expect(sbp.get_by_role("checkbox")).to_have_count(0)  # SBP is not kept for autopay
    expect(page.get_by_test_id("save-method-yoo_money")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the payment page is {overflow}px wider than the phone"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pay_page_at_390px.png"), full_page=True)
    invoice_id = int(page.url.split("/")[-2])
    page.get_by_test_id("pay-sbp-submit").click()
    # the sandbox's SBP page (the bank app's confirmation), then back to the result page
    page.wait_for_url("**/sandbox/checkout/**")
    expect(page.get_by_text("Подтвердите платёж в приложении (СБП).")).to_be_visible()
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.get_by_test_id("payment-result")).to_have_attribute("data-result", "paid")
    expect(page.get_by_test_id("paid-through")).to_contain_text("27 ноября 2027")
    expect(page.get_by_test_id("paid-by")).to_have_text("СБП")
    assert str(subscription_of(web.context, PETROV).ends_on) == "2027-11-28"
    with web.context.session() as db, db.begin():
        paid = select(Payment.method).where(Payment.invoice_id == invoice_id)
        assert db.scalars(paid).all() == ["sbp"]
