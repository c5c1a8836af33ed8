"""The portal's billing pages through TestClient: renew and pay, change, payment settings
(two clicks), documents; who may see them, CSRF, and what each POST leaves in the database.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, func, select

from podpiska.accounts import accounts
from podpiska.accounts.models import Account
from podpiska.accounts.people import create_person
from podpiska.adapters.clock import FixedClock
from podpiska.adapters.sandbox import SandboxGateway
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.clocks import FixedTime
from podpiska.core.domain.scope import Scope
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.entrypoints.documents import fetch_pdf
from podpiska.invoicing.documents import INVOICE
from podpiska.invoicing.models import Invoice, InvoiceLine
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.subscriptions import billing, settlement
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription, SubscriptionChange
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    CUSTOMER_ACCOUNT,
    GRACE_ACCOUNT,
    PROJECT,
    Login,
    client_log_in,
    csrf_of,
)
from tests.seeded_demo import NOON_IN_MOSCOW, dispose

PETROV = 6  # ИП Петров П. П.: basic, 1 month, paid through 27.11.2026 (renewal window open)
PETROV_ADMIN = Login("admin@petrov.example", "petrov-admin-password")
VECTOR_ADMIN = Login("admin@vector.example", "vector-admin-password")
SITES_ADMIN = Login("admin@sites.example", "sites-admin-password")
TEST_CARD = "4242 4242 4242 4242"


def ctx_of(client: TestClient) -> Context:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    return ctx


def add_admin(ctx: Context, account_id: int, who: Login) -> None:
    with ctx.session() as db:
        create_person(
            db,
            email=who.email,
            role="account_admin",
            account_id=account_id,
            password=who.password,
            actor="test:setup",
            clock=ctx.clock,
        )


def subscription_of(ctx: Context, account_id: int) -> Subscription:
    with ctx.session() as db, db.begin():
        found = db.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.id.desc())
        ).first()
        assert found is not None
        return found


def count(ctx: Context, model: type[Any], *where: ColumnElement[bool]) -> int:
    with ctx.session() as db, db.begin():
        found: int | None = db.scalar(select(func.count()).select_from(model).where(*where))
        return int(found or 0)


def token_of(client: TestClient, path: str) -> str:
    return csrf_of(client.get(path).text)


def sandbox(ctx: Context) -> SandboxGateway:
    gateway = ctx.ports.gateway
    assert isinstance(gateway, SandboxGateway)
    return gateway


def pay_at_the_gateway(client: TestClient, location: str, card: str = TEST_CARD) -> str:
    """What the customer does on the sandbox's checkout page; returns where it sends back."""
    assert "/sandbox/checkout/" in location, location
    path = location.split("testserver", 1)[1]
    done = client.post(path, data={"card": card})
    assert done.status_code == 303
    return str(done.headers["location"]).split("testserver", 1)[1]


# --- a second catalog with extra users (crm-shop sells none) ------------------------------


def site_platform_context(db_url: str, tmp_path: Path, *, public_url: str) -> Context:
    """An account on the site-platform catalog (extra users sold): «Сайты», tariff
    Business, 12 users, 12 months bought 60 days before the demo's day and paid; its
    administrator SITES_ADMIN."""
    settings = Settings(
        env="test",
        catalog=PROJECT / "catalogs" / "site-platform.yaml",
        cache_dir=tmp_path / "cache",
        database_url=db_url,
        public_url=public_url,
        mailbox_dir=tmp_path / "mailbox",
        secret_key="web-tests-secret-key-of-at-least-32-chars",
    )
    context = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    then = FixedTime(NOON_IN_MOSCOW.replace(month=9, day=23))
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test:setup", clock=then)
        account = accounts.open_account(
            db, name="ООО «Сайты»", admin_email="it@sites.example", actor="test", clock=then
        )
        order = billing.order_subscription(
            db, account_id=account.id, plan="business", months=12, users=12, actor="t", clock=then
        )
        settlement.register_payment(
            db,
            invoice_id=order.invoice.id,
            amount=Decimal(order.invoice.total),
            method="bank_transfer",
            external_id="sites-1",
            actor="test",
            clock=then,
        )
    add_admin(context, account.id, SITES_ADMIN)
    return context


@pytest.fixture
def sites(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    context = site_platform_context(db_url, tmp_path, public_url="http://testserver")
    with TestClient(create_app(context), follow_redirects=False) as made:
        yield made
    dispose(context)


# --- who may see the pages ------------------------------------------------------------------


PAGES = ("renew", "change", "payment-methods", "documents")


def test_another_accounts_pages_answer_404_and_posts_change_nothing(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    for page in PAGES:
        assert client.get(f"/portal/{CUSTOMER_ACCOUNT}/{page}").status_code == 200, page
        other = client.get(f"/portal/{GRACE_ACCOUNT}/{page}")
        assert other.status_code == 404, page
        assert "Вектор" not in other.text
    token = token_of(client, f"/portal/{CUSTOMER_ACCOUNT}/renew")
    ctx = ctx_of(client)
    before = count(ctx, Invoice)
    attempts = count(ctx, PaymentAttempt)  # the demo's own card payments
    refused = client.post(
        f"/portal/{GRACE_ACCOUNT}/renew", data={"months": "1", "csrf_token": token}
    )
    assert refused.status_code == 404
    assert count(ctx, Invoice) == before
    with ctx.session() as db:  # an invoice of the other account
        others = billing.renew_subscription(
            db, account_id=GRACE_ACCOUNT, months=1, actor="t", clock=ctx.clock
        )
    for path in ("pay", "result", "invoice.pdf"):
        answer = client.get(f"/portal/{CUSTOMER_ACCOUNT}/invoices/{others.id}/{path}")
        assert answer.status_code == 404, path
    hidden = client.post(
        f"/portal/{CUSTOMER_ACCOUNT}/invoices/{others.id}/pay/card", data={"csrf_token": token}
    )
    assert hidden.status_code == 404
    assert count(ctx, PaymentAttempt) == attempts


def test_the_pages_refuse_a_post_without_its_csrf_token(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    ctx = ctx_of(client)
    for path, form in (
        ("renew", {"months": "12"}),
        ("autopay", {"enabled": "no", "confirmed": "yes"}),
        ("cancel", {"undo": "no", "confirmed": "yes"}),
        ("change", {"token": "x"}),
    ):
        answer = client.post(f"/portal/{CUSTOMER_ACCOUNT}/{path}", data=form)
        assert answer.status_code == 403, path
    found = subscription_of(ctx, CUSTOMER_ACCOUNT)
    assert found.autopay is True and found.cancel_at_period_end is False
    assert count(ctx, SubscriptionChange) == 0


# --- renew ------------------------------------------------------------------------------------


def test_the_periods_side_by_side_with_the_per_month_price_falling(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    page = client.get(f"/portal/{CUSTOMER_ACCOUNT}/renew")
    assert page.status_code == 200
    monthly = {
        int(m): Decimal(v.replace("\xa0", "").replace(" ", "").replace(",", ".").rstrip("₽"))
        for m, v in re.findall(r'data-testid="monthly-(\d+)">([^<]+)<', page.text)
    }
    assert sorted(monthly) == [1, 3, 6, 12, 24]
    assert monthly[1] == monthly[3] > monthly[6] > monthly[12] > monthly[24]
    assert monthly[1] == Decimal("4980.00")  # Standard 3 990 + Marketplace 990
    assert "−10" in page.text and "−15" in page.text
    # the window is not open yet (paid through 5 May 2027): said, and nothing to submit
    assert 'data-testid="renew-opens"' in page.text and "5 апреля 2027" in page.text
    assert 'data-testid="renew-submit"' not in page.text
    token = csrf_of(page.text)
    ctx = ctx_of(client)
    before = count(ctx, Invoice)
    early = client.post(
        f"/portal/{CUSTOMER_ACCOUNT}/renew", data={"months": "12", "csrf_token": token}
    )
    assert early.status_code == 409 and "renew-error" in early.text
    nothing = client.post(f"/portal/{CUSTOMER_ACCOUNT}/renew", data={"csrf_token": token})
    assert nothing.status_code == 422
    assert count(ctx, Invoice) == before


def test_renew_and_pay_by_card_at_the_gateway(client: TestClient) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    page = client.get(f"/portal/{PETROV}/renew")
    assert 'data-testid="renew-submit"' in page.text
    quoted = re.search(r'data-testid="total-12">([^<]+)<', page.text)
    assert quoted is not None
    token = csrf_of(page.text)
    made = client.post(f"/portal/{PETROV}/renew", data={"months": "12", "csrf_token": token})
    assert made.status_code == 303
    pay_path = made.headers["location"]
    invoice_id = int(pay_path.split("/")[4])
    with ctx.session() as db, db.begin():
        invoice = db.get(Invoice, invoice_id)
        assert invoice is not None
        assert (invoice.kind, invoice.months, invoice.status) == ("renewal", 12, "issued")
        assert invoice.total == Decimal("21492.00")  # 1 990 × 12 − 10 %
    pay = client.get(pay_path)
    assert pay.status_code == 200
    assert quoted.group(1) in pay.text  # the price shown is the invoice's
    assert "23 ноября 2026" in pay.text and "25 ноября 2026" in pay.text  # 1–3 business days
    assert f'href="/portal/6/invoices/{invoice_id}/invoice.pdf"' in pay.text
    gateway_page = client.post(
        f"/portal/{PETROV}/invoices/{invoice_id}/pay/card", data={"csrf_token": token}
    )
    assert gateway_page.status_code == 303
    result_path = pay_at_the_gateway(client, gateway_page.headers["location"])
    assert result_path == f"/portal/{PETROV}/invoices/{invoice_id}/result"
    # no webhook was delivered: the result page asks the gateway itself
    result = client.get(result_path)
    assert result.status_code == 200 and 'data-result="paid"' in result.text
    assert "27 ноября 2027" in result.text
    found = subscription_of(ctx, PETROV)
    assert found.ends_on == date(2027, 11, 28)
    with ctx.session() as db, db.begin():
        attempt = db.scalars(
            select(PaymentAttempt).where(PaymentAttempt.invoice_id == invoice_id)
        ).one()
        assert (attempt.status, attempt.actor) == ("succeeded", f"web:{PETROV_ADMIN.email}")
        assert attempt.save_method is False
    # the webhook, arriving later, changes nothing more
    sandbox(ctx).post = lambda url, body, headers: (
        client.post(
            "/api/v1/gateway/sandbox/notifications", content=body, headers=dict(headers)
        ).status_code
    )
    sandbox(ctx).notify_url = "http://testserver/api/v1/gateway/sandbox/notifications"
    sandbox(ctx).deliver_notifications()
    assert subscription_of(ctx, PETROV).ends_on == date(2027, 11, 28)


def test_a_payment_still_waiting_then_a_declined_card(client: TestClient) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    token = token_of(client, f"/portal/{PETROV}/renew")
    made = client.post(f"/portal/{PETROV}/renew", data={"months": "1", "csrf_token": token})
    invoice_id = int(made.headers["location"].split("/")[4])
    started = client.post(
        f"/portal/{PETROV}/invoices/{invoice_id}/pay/card", data={"csrf_token": token}
    )
    waiting = client.get(f"/portal/{PETROV}/invoices/{invoice_id}/result")
    assert 'data-result="waiting"' in waiting.text and waiting.headers["refresh"] == "2"
    pay_at_the_gateway(client, started.headers["location"], card="4000 0000 0000 0002")
    failed = client.get(f"/portal/{PETROV}/invoices/{invoice_id}/result")
    assert 'data-result="failed"' in failed.text
    # the reason in the customer's words, not the gateway's code
    assert "(банк отклонил платёж)" in failed.text and "general_decline" not in failed.text
    assert subscription_of(ctx, PETROV).ends_on == date(2026, 11, 28)


def test_a_saved_card_pays_the_next_renewal_and_can_be_removed(client: TestClient) -> None:
    """Вектор (in grace) renews, saving the card with the consent shown; the next renewal
    is charged to it; the card is removed in two clicks."""
    ctx = ctx_of(client)
    add_admin(ctx, GRACE_ACCOUNT, VECTOR_ADMIN)
    client_log_in(client, VECTOR_ADMIN)
    base = f"/portal/{GRACE_ACCOUNT}"
    token = token_of(client, f"{base}/renew")
    made = client.post(f"{base}/renew", data={"months": "1", "csrf_token": token})
    invoice_id = int(made.headers["location"].split("/")[4])
    assert "сохранить этот способ оплаты" in client.get(made.headers["location"]).text
    started = client.post(
        f"{base}/invoices/{invoice_id}/pay/card",
        data={"csrf_token": token, "save_method": "yes"},
    )
    client.get(pay_at_the_gateway(client, started.headers["location"]))
    with ctx.session() as db, db.begin():
        method = db.scalars(
            select(PaymentMethod).where(PaymentMethod.account_id == GRACE_ACCOUNT)
        ).one()
        assert method.status == "active" and method.consent_by == f"web:{VECTOR_ADMIN.email}"
        assert method.consent_text.startswith("Я соглашаюсь сохранить")
        method_id = method.id
    assert subscription_of(ctx, GRACE_ACCOUNT).autopay is True  # the consent was to autopay
    assert subscription_of(ctx, GRACE_ACCOUNT).ends_on == date(2026, 12, 13)
    # the next term, by the saved card (the window is open: paid through 12 December)
    made = client.post(f"{base}/renew", data={"months": "1", "csrf_token": token})
    second = int(made.headers["location"].split("/")[4])
    pay = client.get(made.headers["location"])
    assert 'data-testid="pay-saved"' in pay.text and "4242" in pay.text
    charged = client.post(
        f"{base}/invoices/{second}/pay/saved",
        data={"csrf_token": token, "method_id": str(method_id)},
    )
    assert charged.status_code == 303
    assert 'data-result="paid"' in client.get(charged.headers["location"]).text
    assert subscription_of(ctx, GRACE_ACCOUNT).ends_on == date(2027, 1, 13)
    # removing it: the first click only asks
    first = client.post(f"{base}/payment-methods/{method_id}/remove", data={"csrf_token": token})
    assert first.status_code == 303 and "confirm=remove" in first.headers["location"]
    asked = client.get(first.headers["location"])
    assert 'data-testid="confirmation"' in asked.text
    with ctx.session() as db, db.begin():
        assert db.get(PaymentMethod, method_id).status == "active"  # type: ignore[union-attr]
    removed = client.post(
        f"{base}/payment-methods/{method_id}/remove",
        data={"csrf_token": token, "confirmed": "yes"},
    )
    assert removed.status_code == 303
    with ctx.session() as db, db.begin():
        gone = db.get(PaymentMethod, method_id)
        assert gone is not None and gone.status == "removed"
        assert gone.removed_by == f"web:{VECTOR_ADMIN.email}"
    assert subscription_of(ctx, GRACE_ACCOUNT).autopay is False  # no card left


def test_another_accounts_card_cannot_pay(client: TestClient) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    token = token_of(client, f"/portal/{PETROV}/renew")
    attempts = count(ctx, PaymentAttempt)  # the demo's own card payments
    made = client.post(f"/portal/{PETROV}/renew", data={"months": "1", "csrf_token": token})
    invoice_id = int(made.headers["location"].split("/")[4])
    bad = client.post(
        f"/portal/{PETROV}/invoices/{invoice_id}/pay/saved",
        data={"csrf_token": token, "method_id": "abc"},
    )
    assert bad.status_code == 422 and "pay-error" in bad.text
    missing = client.post(
        f"/portal/{PETROV}/invoices/{invoice_id}/pay/saved",
        data={"csrf_token": token, "method_id": "999"},
    )
    assert missing.status_code == 404
    assert count(ctx, PaymentAttempt) == attempts


# --- change -----------------------------------------------------------------------------------


def test_add_users_preview_then_confirm(sites: TestClient) -> None:
    """On this catalog more users mid-term cost nothing now: the paid term is recounted in
    days (it ends earlier). The preview says so line by line; confirming applies it."""
    ctx = ctx_of(sites)
    client_log_in(sites, SITES_ADMIN)
    account_id = subscription_of(ctx, 1).account_id
    base = f"/portal/{account_id}"
    preview = sites.get(f"{base}/change?kind=seats&seats=15")
    assert preview.status_code == 200 and 'data-testid="preview"' in preview.text
    assert "15 польз.: оплаченный период пересчитан в дни, конец 19.07.2027" in preview.text
    assert "× 305/365 дн." in preview.text  # every line with its explanation
    assert re.search(r'data-testid="amount-due">0,00\xa0₽<', preview.text)
    assert re.search(r'data-testid="new-paid-through">19 июля 2027', preview.text)
    assert count(ctx, SubscriptionChange) == 0  # a preview changes nothing
    token = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert token is not None
    csrf = csrf_of(preview.text)
    form = {"csrf_token": csrf, "token": token.group(1), "kind": "seats", "value": "15"}
    done = sites.post(f"{base}/change", data=form)
    assert done.status_code == 303 and done.headers["location"] == f"{base}/change"
    assert "Изменение применено" in sites.get(done.headers["location"]).text
    found = subscription_of(ctx, account_id)
    assert (found.seats, found.ends_on) == (15, date(2027, 7, 20))
    with ctx.session() as db, db.begin():
        change = db.scalars(select(SubscriptionChange)).one()
        assert (change.status, change.params) == ("applied", {"seats": 15})
        assert change.actor == f"web:{SITES_ADMIN.email}"
    # the same preview again no longer holds: 409, said, with the new numbers
    again = sites.post(f"{base}/change", data=form)
    assert again.status_code == 409 and "change-error" in again.text
    assert count(ctx, SubscriptionChange) == 1


def test_bad_input_and_a_forged_token(sites: TestClient) -> None:
    ctx = ctx_of(sites)
    client_log_in(sites, SITES_ADMIN)
    account_id = subscription_of(ctx, 1).account_id
    base = f"/portal/{account_id}"
    for query in ("kind=seats&seats=abc", "kind=seats&seats=0", "kind=seats&seats=500"):
        wrong = sites.get(f"{base}/change?{query}")
        assert wrong.status_code == 422 and "change-error" in wrong.text, query
    csrf = csrf_of(sites.get(f"{base}/change").text)
    forged = sites.post(
        f"{base}/change", data={"csrf_token": csrf, "token": "forged.token", "kind": "seats"}
    )
    assert forged.status_code == 422 and "change-error" in forged.text
    assert count(ctx, SubscriptionChange) == 0
    assert subscription_of(ctx, account_id).seats == 12


def test_a_higher_tariff_on_the_demo_catalog(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    ctx = ctx_of(client)
    page = client.get(f"/portal/{CUSTOMER_ACCOUNT}/change?kind=plan&plan=professional")
    assert page.status_code == 200 and 'data-testid="preview"' in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post(
        f"/portal/{CUSTOMER_ACCOUNT}/change",
        data={"csrf_token": csrf_of(page.text), "token": token.group(1), "kind": "plan"},
    )
    assert done.status_code == 303
    with ctx.session() as db, db.begin():
        change = db.scalars(select(SubscriptionChange)).one()
        assert change.params == {"plan": "professional"} and change.status == "pending"


def test_a_scheduled_lower_tariff_is_named_not_coded(client: TestClient) -> None:
    """A paid standard account moves down to basic at the end of its term; the change page
    said "тариф «basic»" (the plan's code): it names the plan."""
    ctx = ctx_of(client)
    then = FixedTime(NOON_IN_MOSCOW - timedelta(days=30))
    with ctx.session() as db:
        account = accounts.open_account(
            db, name="ООО «Меньше»", admin_email="it@less.example", actor="test", clock=then
        )
        order = billing.order_subscription(
            db, account_id=account.id, plan="standard", months=12, actor="test", clock=then
        )
        settlement.register_payment(
            db,
            invoice_id=order.invoice.id,
            amount=Decimal(order.invoice.total),
            method="bank_transfer",
            external_id="less-1",
            actor="test",
            clock=then,
        )
    who = Login("admin@less.example", "less-admin-password")
    add_admin(ctx, account.id, who)
    client_log_in(client, who)
    base = f"/portal/{account.id}"
    page = client.get(f"{base}/change?kind=plan&plan=basic")
    assert page.status_code == 200 and 'data-testid="preview"' in page.text, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post(
        f"{base}/change",
        data={"csrf_token": csrf_of(page.text), "token": token.group(1), "kind": "plan"},
    )
    assert done.status_code == 303
    shown = client.get(base + "/change").text
    scheduled = re.search(r'data-testid="change-scheduled">(.*?)</div>', shown)
    assert scheduled is not None, shown
    assert "тариф «Базовый»" in scheduled.group(1) and "basic" not in scheduled.group(1)


def test_the_pay_page_shows_the_credit_used(client: TestClient) -> None:
    """An account with 3 000 ₽ of credit (an overpayment) renews: the pay page said
    "Итого 1 990 / К оплате 0" with nothing between; the credit used is a line of its own,
    and total − credit = what is left to pay."""
    ctx = ctx_of(client)
    then = FixedTime(NOON_IN_MOSCOW - timedelta(days=25))
    with ctx.session() as db:
        account = accounts.open_account(
            db, name="ООО «Аванс»", admin_email="it@advance.example", actor="test", clock=then
        )
        order = billing.order_subscription(
            db, account_id=account.id, plan="standard", months=1, actor="test", clock=then
        )
        settlement.register_payment(
            db,
            invoice_id=order.invoice.id,
            amount=Decimal(order.invoice.total) + Decimal("3000.00"),
            method="bank_transfer",
            external_id="advance-1",
            actor="test",
            clock=then,
        )
    who = Login("admin@advance.example", "advance-admin-password")
    add_admin(ctx, account.id, who)
    client_log_in(client, who)
    base = f"/portal/{account.id}"
    token = token_of(client, f"{base}/renew")
    made = client.post(f"{base}/renew", data={"months": "3", "csrf_token": token})
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"]).text
    with ctx.session() as db, db.begin():
        invoice = db.get(Invoice, int(made.headers["location"].split("/")[4]))
        assert invoice is not None
        lines = db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()
        assert sum(line.amount for line in lines) == invoice.total
        assert invoice.amount_paid == Decimal("3000.00")
        due = invoice.total - Decimal("3000.00")
    credit = re.search(r'data-testid="paid-credit"><dt>([^<]*)</dt><dd[^>]*>([^<]*)<', page)
    assert credit is not None, page
    assert credit.group(1) == "Зачёт с баланса"
    assert credit.group(2).replace("\xa0", " ") == "−3 000,00 ₽"
    shown_due = re.search(r'data-testid="due">([^<]*)<', page)
    assert shown_due is not None
    assert shown_due.group(1).replace("\xa0", " ") == money_text(due)


def money_text(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    return f"{int(whole):,}".replace(",", " ") + f",{cents} ₽"


def test_every_payment_method_is_said_in_words() -> None:
    """The payments tables showed the method `credit` raw: every method a payment is
    recorded with (the API's, the gateway's, a credit used on an invoice) has its words."""
    from podpiska.entrypoints.web import labels
    from podpiska.entrypoints.web.i18n import use_language
    from podpiska.subscriptions.settlement import PAYMENT_METHODS

    use_language("ru")
    for method in (*PAYMENT_METHODS, "credit"):
        assert labels.label(labels.PAYMENT_METHODS, method) != method
    assert labels.label(labels.PAYMENT_METHODS, "credit") == "Зачёт с баланса"


# --- payment settings: two clicks -------------------------------------------------------------


def test_autopay_and_cancellation_each_take_two_clicks(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    ctx = ctx_of(client)
    base = f"/portal/{CUSTOMER_ACCOUNT}"
    page = client.get(f"{base}/payment-methods")
    token = csrf_of(page.text)
    assert 'data-testid="autopay-off"' in page.text
    for path, form, action in (
        ("autopay", {"enabled": "no"}, "autopay-off"),
        ("cancel", {"undo": "no"}, "cancel"),
    ):
        first = client.post(f"{base}/{path}", data={**form, "csrf_token": token})
        assert first.status_code == 303
        assert first.headers["location"].endswith(f"?confirm={action}")
        asked = client.get(first.headers["location"])
        assert f'data-action="{action}"' in asked.text
    found = subscription_of(ctx, CUSTOMER_ACCOUNT)
    assert found.autopay is True and found.cancel_at_period_end is False  # nothing yet
    off = client.post(
        f"{base}/autopay", data={"enabled": "no", "confirmed": "yes", "csrf_token": token}
    )
    assert off.status_code == 303
    assert subscription_of(ctx, CUSTOMER_ACCOUNT).autopay is False
    on_page = client.get(f"{base}/payment-methods?confirm=autopay-on")
    assert "Я соглашаюсь сохранить" in on_page.text  # the consent text beside the button
    client.post(f"{base}/autopay", data={"enabled": "yes", "confirmed": "yes", "csrf_token": token})
    assert subscription_of(ctx, CUSTOMER_ACCOUNT).autopay is True
    cancelled = client.post(
        f"{base}/cancel", data={"undo": "no", "confirmed": "yes", "csrf_token": token}
    )
    assert cancelled.status_code == 303
    found = subscription_of(ctx, CUSTOMER_ACCOUNT)
    assert found.cancel_at_period_end is True and found.autopay is False
    assert 'data-testid="cancel-state"' in client.get(f"{base}/payment-methods").text
    client.post(f"{base}/cancel", data={"undo": "yes", "confirmed": "yes", "csrf_token": token})
    assert subscription_of(ctx, CUSTOMER_ACCOUNT).cancel_at_period_end is False
    with ctx.session() as db, db.begin():
        actions = list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.actor == f"web:{CUSTOMER.email}"))
        )
    assert actions.count("subscription.autopay_changed") == 2
    assert actions.count("subscription.cancel_scheduled") == 2


# --- documents ---------------------------------------------------------------------------------


def test_documents_and_payments_with_the_same_pdf_as_the_api(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    ctx = ctx_of(client)
    page = client.get(f"/portal/{CUSTOMER_ACCOUNT}/documents")
    assert page.status_code == 200
    # no act while the term runs: an act certifies a period already rendered (issue 14, item 16)
    assert 'data-kind="invoice"' in page.text and 'data-kind="act"' not in page.text
    assert "Карта" in page.text  # the payment history: the demo paid by card
    with ctx.session() as db, db.begin():
        invoice_id = db.scalar(
            select(Invoice.id).where(Invoice.account_id == CUSTOMER_ACCOUNT).order_by(Invoice.id)
        )
    assert invoice_id is not None
    pdf = client.get(f"/portal/{CUSTOMER_ACCOUNT}/invoices/{invoice_id}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    with ctx.session() as db:
        _, same = fetch_pdf(ctx, db, kind=INVOICE, source_id=invoice_id, scope=Scope.vendor())
    assert same == pdf.content
    # the 12-month term runs till 2027: no act to download yet, none numbered
    act = client.get(f"/portal/{CUSTOMER_ACCOUNT}/invoices/{invoice_id}/act.pdf")
    assert act.status_code == 404
    assert "ACT-" not in client.get(f"/portal/{CUSTOMER_ACCOUNT}/documents").text
    missing = client.get(f"/portal/{CUSTOMER_ACCOUNT}/credit-notes/999/credit-note.pdf")
    assert missing.status_code == 404


# --- the e-mail language --------------------------------------------------------------------


def _language_of(ctx: Context, account_id: int) -> str:
    with ctx.session() as db, db.begin():
        return db.get_one(Account, account_id).language


def test_the_account_admin_chooses_the_email_language(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    ctx = ctx_of(client)
    base = f"/portal/{CUSTOMER_ACCOUNT}"
    page = client.get(f"{base}/payment-methods")
    assert 'data-testid="email-language"' in page.text
    assert "Язык писем" in page.text
    assert '<option value="ru" selected>' in page.text
    token = csrf_of(page.text)

    without_token = client.post(f"{base}/email-language", data={"language": "en"})
    assert without_token.status_code == 403
    assert _language_of(ctx, CUSTOMER_ACCOUNT) == "ru"

    saved = client.post(f"{base}/email-language", data={"language": "en", "csrf_token": token})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{base}/payment-methods"
    assert _language_of(ctx, CUSTOMER_ACCOUNT) == "en"
    after = client.get(f"{base}/payment-methods")
    assert "Язык писем сохранён." in after.text
    assert '<option value="en" selected>' in after.text
    assert count(ctx, AuditEntry, AuditEntry.action == "account.language_changed") == 1

    bad = client.post(f"{base}/email-language", data={"language": "fr", "csrf_token": token})
    assert bad.status_code == 422
    assert 'data-testid="settings-error"' in bad.text
    assert _language_of(ctx, CUSTOMER_ACCOUNT) == "en"

    other = client.post(
        f"/portal/{GRACE_ACCOUNT}/email-language", data={"language": "en", "csrf_token": token}
    )
    assert other.status_code == 404
    assert _language_of(ctx, GRACE_ACCOUNT) == "ru"
    assert count(ctx, AuditEntry, AuditEntry.action == "account.language_changed") == 1
