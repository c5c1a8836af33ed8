"""The portal's payment page beside the card: SBP and YooMoney at the gateway (`POST
.../pay/gateway` with `method_type`), driven through the sandbox's checkout page as the
customer would; what the gateway declares decides what is offered (and what may be kept
for autopay); bad input, CSRF and another account's invoice change nothing. Every test runs
on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.models import PaymentAttempt, PaymentMethod
from podpiska.subscriptions import billing
from tests.entrypoints.web.conftest import CUSTOMER, CUSTOMER_ACCOUNT, GRACE_ACCOUNT, client_log_in
from tests.entrypoints.web.test_portal_billing import (
    PETROV,
    PETROV_ADMIN,
    VECTOR_ADMIN,
    add_admin,
    count,
    ctx_of,
    sandbox,
    subscription_of,
    token_of,
)


def approve_at_the_gateway(client: TestClient, location: str, *, words: str) -> str:
    """What the customer does on the sandbox's SBP or YooMoney page: sees which it is,
    approves in the app; returns where the gateway sends back."""
    assert "/sandbox/checkout/" in location, location
    path = location.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and words in page.text
    done = client.post(path, data={"approve": "yes"})
    assert done.status_code == 303
    return str(done.headers["location"]).split("testserver", 1)[1]


def renew(client: TestClient, account_id: int, months: int) -> tuple[int, str]:
    """A renewal invoice of the account: its id and the CSRF token of the session."""
    token = token_of(client, f"/portal/{account_id}/renew")
    made = client.post(
        f"/portal/{account_id}/renew", data={"months": str(months), "csrf_token": token}
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].split("/")[4]), token


def nothing_written(client: TestClient) -> tuple[int, int, int]:
    ctx = ctx_of(client)
    return count(ctx, PaymentAttempt), count(ctx, Payment), count(ctx, AuditEntry)


@pytest.mark.parametrize(
    ("method_type", "key", "recorded", "gateway_words", "words", "english"),
    [
        ("sbp", "sbp", "sbp", "СБП", "СБП", "SBP"),
        ("yoo_money", "yoo_money", "e_wallet", "ЮMoney", "Электронный кошелёк", "E-wallet"),
    ],
)
def test_pay_a_renewal_by_sbp_or_yoomoney_at_the_sandbox(
    client: TestClient,
    method_type: str,
    key: str,
    recorded: str,
    gateway_words: str,
    words: str,
    english: str,
) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    invoice_id, token = renew(client, PETROV, 12)
    base = f"/portal/{PETROV}/invoices/{invoice_id}"
    page = client.get(f"{base}/pay")
    assert page.status_code == 200
    for offered in ("card", "sbp", "yoo_money"):  # the sandbox takes all three
        assert f'data-testid="pay-{offered}"' in page.text, offered
    assert 'action="/portal/6/invoices/' in page.text and '/pay/gateway"' in page.text
    assert "Оплатить 21\xa0492,00\xa0₽ через " + gateway_words in page.text
    # the wallet can be kept for autopay (with the card's consent text), SBP cannot
    assert 'data-testid="save-method-yoo_money"' in page.text
    assert 'data-testid="consent-yoo_money"' in page.text
    assert 'data-testid="save-method-sbp"' not in page.text
    assert page.text.count("Я соглашаюсь сохранить") == 2  # beside the card and the wallet

    started = client.post(
        f"{base}/pay/gateway", data={"csrf_token": token, "method_type": method_type}
    )
    assert started.status_code == 303
    result_path = approve_at_the_gateway(client, started.headers["location"], words=gateway_words)
    assert result_path == f"{base}/result"
    # no webhook was delivered: the result page asks the gateway itself
    result = client.get(result_path)
    assert result.status_code == 200 and 'data-result="paid"' in result.text
    assert "27 ноября 2027" in result.text
    assert f'data-testid="paid-by">{gateway_words}<' in result.text
    assert subscription_of(ctx, PETROV).ends_on == date(2027, 11, 28)
    with ctx.session() as db, db.begin():
        invoice = db.get(Invoice, invoice_id)
        assert invoice is not None
        assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("21492.00"))
        payment = db.scalars(select(Payment).where(Payment.invoice_id == invoice_id)).one()
        assert (payment.method, payment.amount) == (recorded, Decimal("21492.00"))
        attempt = db.scalars(
            select(PaymentAttempt).where(PaymentAttempt.invoice_id == invoice_id)
        ).one()
        assert (attempt.status, attempt.method_type) == ("succeeded", method_type)
        assert attempt.actor == f"web:{PETROV_ADMIN.email}" and attempt.save_method is False
        kept = select(PaymentMethod).where(PaymentMethod.account_id == PETROV)
        assert db.scalars(kept).first() is None  # nothing kept
    # the documents page says how it was paid, in words (ru, then en)
    history = client.get(f"/portal/{PETROV}/documents")
    assert f"<td>{words}</td>" in history.text and f"<td>{recorded}</td>" not in history.text
    client.get("/lang/en?next=/")
    assert f"<td>{english}</td>" in client.get(f"/portal/{PETROV}/documents").text
    # the webhook, arriving later, changes nothing more
    gateway = sandbox(ctx)
    gateway.notify_url = "http://testserver/api/v1/gateway/sandbox/notifications"
    gateway.post = lambda url, body, headers: (
        client.post(
            "/api/v1/gateway/sandbox/notifications", content=body, headers=dict(headers)
        ).status_code
    )
    gateway.deliver_notifications()
    assert subscription_of(ctx, PETROV).ends_on == date(2027, 11, 28)
    assert count(ctx, Payment, Payment.invoice_id == invoice_id) == 1


def test_a_yoomoney_wallet_kept_for_autopay_pays_the_next_renewal(client: TestClient) -> None:
    """Вектор (in grace) pays by YooMoney, keeping the wallet under the consent shown; the
    next renewal is charged to the saved wallet."""
    ctx = ctx_of(client)
    add_admin(ctx, GRACE_ACCOUNT, VECTOR_ADMIN)
    client_log_in(client, VECTOR_ADMIN)
    base = f"/portal/{GRACE_ACCOUNT}"
    invoice_id, token = renew(client, GRACE_ACCOUNT, 1)
    started = client.post(
        f"{base}/invoices/{invoice_id}/pay/gateway",
        data={"csrf_token": token, "method_type": "yoo_money", "save_method": "yes"},
    )
    assert started.status_code == 303
    checkout = client.get(started.headers["location"].split("testserver", 1)[1])
    assert "будет сохранён для автоплатежа" in checkout.text
    result = client.get(approve_at_the_gateway(client, started.headers["location"], words="ЮMoney"))
    assert 'data-result="paid"' in result.text
    with ctx.session() as db, db.begin():
        method = db.scalars(
            select(PaymentMethod).where(PaymentMethod.account_id == GRACE_ACCOUNT)
        ).one()
        assert (method.type, method.status) == ("yoo_money", "active")
        assert method.consent_by == f"web:{VECTOR_ADMIN.email}"
        assert method.consent_text.startswith("Я соглашаюсь сохранить")
        paid = select(Payment.method).where(Payment.invoice_id == invoice_id)
        assert db.scalars(paid).all() == ["e_wallet"]
        method_id = method.id
    found = subscription_of(ctx, GRACE_ACCOUNT)
    assert found.autopay is True and found.ends_on == date(2026, 12, 13)
    # the next term by the saved wallet: not called a card
    second, _ = renew(client, GRACE_ACCOUNT, 1)
    pay = client.get(f"{base}/invoices/{second}/pay")
    assert "Сохранённым способом оплаты" in pay.text and "YooMoney wallet" in pay.text
    charged = client.post(
        f"{base}/invoices/{second}/pay/saved",
        data={"csrf_token": token, "method_id": str(method_id)},
    )
    assert charged.status_code == 303
    assert 'data-result="paid"' in client.get(charged.headers["location"]).text
    assert subscription_of(ctx, GRACE_ACCOUNT).ends_on == date(2027, 1, 13)
    with ctx.session() as db, db.begin():
        paid = select(Payment.method).where(Payment.invoice_id == second)
        assert db.scalars(paid).all() == ["e_wallet"]


def test_what_the_gateway_declares_is_what_is_offered(client: TestClient) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    invoice_id, token = renew(client, PETROV, 1)
    base = f"/portal/{PETROV}/invoices/{invoice_id}"
    gateway = sandbox(ctx)
    before = nothing_written(client)
    # SBP cannot be kept by this gateway: no box, and a forged one is refused
    refused = client.post(
        f"{base}/pay/gateway",
        data={"csrf_token": token, "method_type": "sbp", "save_method": "yes"},
    )
    assert refused.status_code == 422 and 'data-testid="pay-error"' in refused.text
    assert "не сохраняет для автоплатежа" in refused.text  # the service's message
    assert nothing_written(client) == before
    # a gateway whose SBP payments can be kept: the box, with the consent text
    gateway.savable_method_types = ("bank_card", "yoo_money", "sbp")
    page = client.get(f"{base}/pay")
    assert 'data-testid="save-method-sbp"' in page.text
    assert 'data-testid="consent-sbp"' in page.text
    # a gateway without SBP nor YooMoney: only the card, and SBP is refused
    gateway.method_types = ("bank_card",)
    page = client.get(f"{base}/pay")
    assert 'data-testid="pay-card"' in page.text
    assert 'data-testid="pay-sbp"' not in page.text
    assert 'data-testid="pay-yoo_money"' not in page.text
    refused = client.post(f"{base}/pay/gateway", data={"csrf_token": token, "method_type": "sbp"})
    assert refused.status_code == 422 and "Такой способ оплаты не предлагается" in refused.text
    assert nothing_written(client) == before


@pytest.mark.parametrize("method_type", ["paypal", "", "card", "SBP"])
def test_an_unknown_method_type_is_refused_and_writes_nothing(
    client: TestClient, method_type: str
) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    invoice_id, token = renew(client, PETROV, 1)
    before = nothing_written(client)
    refused = client.post(
        f"/portal/{PETROV}/invoices/{invoice_id}/pay/gateway",
        data={"csrf_token": token, "method_type": method_type, "save_method": "yes"},
    )
    assert refused.status_code == 422
    assert 'data-testid="pay-error"' in refused.text
    assert "Такой способ оплаты не предлагается" in refused.text
    assert 'data-testid="pay-sbp"' in refused.text  # the page again, to choose
    assert nothing_written(client) == before
    with ctx.session() as db, db.begin():
        assert db.get(Invoice, invoice_id).status == "issued"  # type: ignore[union-attr]


def test_a_post_without_csrf_is_refused(client: TestClient) -> None:
    ctx = ctx_of(client)
    add_admin(ctx, PETROV, PETROV_ADMIN)
    client_log_in(client, PETROV_ADMIN)
    invoice_id, token = renew(client, PETROV, 1)
    before = nothing_written(client)
    for form in ({"method_type": "sbp"}, {"method_type": "sbp", "csrf_token": token + "x"}):
        refused = client.post(f"/portal/{PETROV}/invoices/{invoice_id}/pay/gateway", data=form)
        assert refused.status_code == 403
    assert nothing_written(client) == before


def test_another_accounts_invoice_answers_404(client: TestClient) -> None:
    ctx = ctx_of(client)
    client_log_in(client, CUSTOMER)
    token = token_of(client, f"/portal/{CUSTOMER_ACCOUNT}/renew")
    with ctx.session() as db:  # an invoice of Вектор
        others = billing.renew_subscription(
            db, account_id=GRACE_ACCOUNT, months=1, actor="t", clock=ctx.clock
        )
    before = nothing_written(client)
    for path in (
        f"/portal/{CUSTOMER_ACCOUNT}/invoices/{others.id}/pay/gateway",  # not this account's
        f"/portal/{GRACE_ACCOUNT}/invoices/{others.id}/pay/gateway",  # not this person's
    ):
        hidden = client.post(path, data={"csrf_token": token, "method_type": "sbp"})
        assert hidden.status_code == 404, path
        assert "Вектор" not in hidden.text
    assert nothing_written(client) == before
