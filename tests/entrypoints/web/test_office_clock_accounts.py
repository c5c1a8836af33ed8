"""The back office's "open a test account on this clock" form through TestClient (SQLite and
PostgreSQL): an operator opens a paid or an issued account on a clock, sees it on the
clock's page and watches it go to grace and suspension; bad input answers 422 with the form
and writes nothing; an account_admin and a POST without the CSRF token are refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.models import Account
from podpiska.core import clocks
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice, Payment
from podpiska.payments.models import PaymentMethod
from podpiska.subscriptions.models import Subscription
from podpiska.tables import metadata
from tests.entrypoints.web.conftest import CUSTOMER, VENDOR_OPERATOR, client_log_in, csrf_of
from tests.entrypoints.web.test_portal_billing import pay_at_the_gateway
from tests.seeded_demo import NOON_IN_MOSCOW

GOOD_INN = "7707083893"


def _ctx(client: TestClient) -> Context:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    return ctx


def _counts(client: TestClient) -> dict[str, int]:
    """Rows of every table: "nothing written" compares them all."""
    with _ctx(client).session() as db, db.begin():
        return {
            table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def _clock(client: TestClient) -> int:
    ctx = _ctx(client)
    with ctx.session() as db:
        made = clocks.create_test_clock(
            db, name="Форма", now=NOON_IN_MOSCOW, actor="test", clock=ctx.clock
        )
    return made.id


def _form(token: str, **change: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": "ООО «На часах»",
        "inn": GOOD_INN,
        "email": "owner@clock.example",
        "plan": "basic",
        "months": "1",
        "users": "",
        "payment": "paid",
        **change,
    }


def _on_clock(client: TestClient, clock_id: int) -> list[tuple[Account, Subscription, Invoice]]:
    with _ctx(client).session() as db, db.begin():
        rows = db.execute(
            select(Account, Subscription, Invoice)
            .join(Subscription, Subscription.account_id == Account.id)
            .join(Invoice, Invoice.subscription_id == Subscription.id)
            .where(Account.test_clock_id == clock_id)
            .order_by(Account.id)
        ).all()
        return [(a, s, i) for a, s, i in rows]


def test_an_operator_opens_a_paid_account_on_a_clock_and_watches_it_lapse(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get("/office/test-clocks").text)
    made = client.post(
        "/office/test-clocks",
        data={"csrf_token": token, "name": "Сценарий", "now": "2026-11-22T12:00"},
    )
    clock_id = int(made.headers["location"].rsplit("/", 1)[1])

    page = client.get(f"/office/test-clocks/{clock_id}")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="open-account-form"' in html
    assert f'action="/office/test-clocks/{clock_id}/accounts"' in html
    assert 'value="Тестовый портал 1"' in html  # prefilled
    assert '<option value="basic" selected>Базовый — 1\xa0990,00\xa0₽ в месяц</option>' in html
    assert '<option value="12">12 месяцев (−10 %)</option>' in html
    assert "22 ноября 2026\u202fг." in html  # the clock's day, the catalog in force then
    assert 'name="users"' not in html  # crm-shop sells no extra users
    assert 'name="payment" value="paid" checked' in html

    opened = client.post(f"/office/test-clocks/{clock_id}/accounts", data=_form(token))
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/office/test-clocks/{clock_id}"
    html = client.get(f"/office/test-clocks/{clock_id}").text
    assert (
        "Портал «ООО «На часах»» открыт на часах: счёт TEST-2026-000001 на 1\xa0990,00\xa0₽ "
        "оплачен, подписка активна." in html
    )
    ((account, sub, invoice),) = _on_clock(client, clock_id)
    assert f'<tr data-account="{account.id}">' in html
    assert 'data-state="active"' in html and "21.12.2026" in html  # paid through
    assert 'value="Тестовый портал 2"' in html  # the next one
    assert (account.name, account.inn, account.admin_email) == (
        "ООО «На часах»",
        GOOD_INN,
        "owner@clock.example",
    )
    assert (sub.status, sub.plan, sub.months) == ("active", "basic", 1)
    assert (sub.starts_on, sub.ends_on) == (date(2026, 11, 22), date(2026, 12, 22))
    assert (invoice.status, invoice.number, invoice.total) == ("paid", "TEST-2026-000001", D(1990))
    with _ctx(client).session() as db, db.begin():
        paid = db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).one()
    assert (paid.method, paid.amount) == ("manual", invoice.total)

    # The term ends on 2026-12-22: a reminder 7 days before, then grace.
    moved = client.post(
        f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, "days": "30"}
    )
    assert moved.status_code == 303
    html = client.get(f"/office/test-clocks/{clock_id}").text
    assert 'data-count="reminders"' in html and 'data-count="grace"' in html
    assert 'data-event="subscription.reminder"' in html
    assert 'data-event="subscription.grace_started"' in html
    assert 'data-state="grace"' in html
    # Thirty days of grace, then suspended.
    moved = client.post(
        f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, "to": "2027-01-21"}
    )
    assert moved.status_code == 303
    html = client.get(f"/office/test-clocks/{clock_id}").text
    assert 'data-count="suspended"' in html
    assert 'data-event="subscription.suspended"' in html
    assert 'data-state="suspended"' in html
    assert [s.status for _a, s, _i in _on_clock(client, clock_id)] == ["suspended"]


def test_an_account_left_with_its_invoice_issued_waits_for_payment(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    clock_id = _clock(client)
    token = csrf_of(client.get(f"/office/test-clocks/{clock_id}").text)
    opened = client.post(
        f"/office/test-clocks/{clock_id}/accounts",
        data=_form(token, inn="", plan="standard", months="12", payment="issued"),
    )
    assert opened.status_code == 303
    html = client.get(f"/office/test-clocks/{clock_id}").text
    assert (
        "счёт TEST-2026-000001 на 43\xa0092,00\xa0₽ выставлен, оплатить до 27 ноября 2026\u202fг."
        in html
    )
    assert 'data-state="pending"' in html
    ((account, sub, invoice),) = _on_clock(client, clock_id)
    assert account.inn is None
    assert (sub.status, sub.plan, sub.months) == ("pending", "standard", 12)
    assert (invoice.status, invoice.amount_paid) == ("issued", D(0))
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).where(Payment.invoice_id == invoice.id)) == 0


def test_autopay_by_paying_the_issued_invoice_by_card_on_the_portal(client: TestClient) -> None:
    """What the form's note says: the card is saved at the sandbox's checkout page (from the
    account's portal), then the clock's days charge the renewal to it."""
    client_log_in(client, VENDOR_OPERATOR)
    clock_id = _clock(client)
    token = csrf_of(client.get(f"/office/test-clocks/{clock_id}").text)
    client.post(f"/office/test-clocks/{clock_id}/accounts", data=_form(token, payment="issued"))
    ((account, _sub, invoice),) = _on_clock(client, clock_id)
    started = client.post(
        f"/portal/{account.id}/invoices/{invoice.id}/pay/card",
        data={"csrf_token": token, "save_method": "yes"},
    )
    assert started.status_code == 303
    assert (
        'data-result="paid"'
        in client.get(pay_at_the_gateway(client, started.headers["location"])).text
    )
    ((_a, sub, _i),) = _on_clock(client, clock_id)
    assert (sub.status, sub.autopay, sub.ends_on) == ("active", True, date(2026, 12, 22))
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).where(PaymentMethod.account_id == account.id)) == 1

    client.post(f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, "days": "30"})
    html = client.get(f"/office/test-clocks/{clock_id}").text
    assert 'data-count="autopay_succeeded"' in html
    assert 'data-state="active"' in html and "21.01.2027" in html  # renewed by the card
    subs = [s for _a, s, _i in _on_clock(client, clock_id)]
    assert subs[-1].ends_on == date(2027, 1, 22)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "   "}, "название не может быть пустым"),
        ({"email": "nobody"}, "неверный адрес e-mail"),
        ({"inn": "1234567890"}, "ИНН должен содержать 10 или 12 цифр"),
        ({"plan": "nope"}, "Тариф «nope» не найден"),
        ({"months": "5"}, "Срок 5 мес. не предлагается"),
        ({"users": "6"}, "Тариф «basic» допускает не больше 5 пользователей, указано 6"),
        ({"months": "year"}, "Срок и число пользователей должны быть целыми числами"),
        ({"payment": "later"}, "Выберите, оплатить счёт сразу или оставить его выставленным"),
    ],
)
def test_bad_input_answers_422_with_the_form_and_writes_nothing(
    client: TestClient, change: dict[str, str], message: str
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    clock_id = _clock(client)
    token = csrf_of(client.get(f"/office/test-clocks/{clock_id}").text)
    before = _counts(client)
    refused = client.post(
        f"/office/test-clocks/{clock_id}/accounts",
        data=_form(token, **change),
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 422
    assert 'data-testid="account-problem"' in refused.text and message in refused.text
    assert 'data-testid="open-account-form"' in refused.text  # the form, as it was sent
    assert 'value="owner@clock.example"' in refused.text or "email" in change
    assert _counts(client) == before
    assert _on_clock(client, clock_id) == []


def test_an_unknown_clock_answers_404(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get("/office/test-clocks").text)
    before = _counts(client)
    missing = client.post(
        "/office/test-clocks/999999/accounts", data=_form(token), headers={"Accept": "text/html"}
    )
    assert missing.status_code == 404
    assert _counts(client) == before


def test_an_account_admin_is_refused_and_nothing_is_written(client: TestClient) -> None:
    clock_id = _clock(client)
    client_log_in(client, CUSTOMER)
    token = csrf_of(client.get("/profile").text)
    before = _counts(client)
    refused = client.post(f"/office/test-clocks/{clock_id}/accounts", data=_form(token))
    assert refused.status_code == 404  # the back office does not exist for it
    assert _counts(client) == before


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    clock_id = _clock(client)
    before = _counts(client)
    form = _form("")
    del form["csrf_token"]
    refused = client.post(f"/office/test-clocks/{clock_id}/accounts", data=form)
    assert refused.status_code == 403
    wrong = client.post(f"/office/test-clocks/{clock_id}/accounts", data=_form("not-the-token"))
    assert wrong.status_code == 403
    assert _counts(client) == before


def test_a_clock_before_the_catalog_offers_nothing_and_opens_nothing(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get("/office/test-clocks").text)
    made = client.post(
        "/office/test-clocks",
        data={"csrf_token": token, "name": "Прошлое", "now": "2025-06-01T12:00"},
    )
    clock_id = int(made.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/office/test-clocks/{clock_id}")
    assert page.status_code == 200
    assert 'data-testid="no-offer"' in page.text and "open-account-form" not in page.text
    before = _counts(client)
    refused = client.post(f"/office/test-clocks/{clock_id}/accounts", data=_form(token))
    assert refused.status_code == 422 and 'data-testid="account-problem"' in refused.text
    assert _counts(client) == before
