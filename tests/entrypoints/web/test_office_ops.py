"""The back office's operations pages through TestClient (SQLite and PostgreSQL): bank
statements and manual matching, deliveries and redelivery, test clocks, the account page's
events, audit log and entitlement tester. Each POST is checked in the database."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from podpiska.accounts import accounts
from podpiska.core.clocks import FixedTime
from podpiska.core.models import AuditEntry, TestClock
from podpiska.entrypoints.context import Context
from podpiska.invoicing.models import Invoice
from podpiska.notifications import fanout as notifications
from podpiska.notifications.models import Delivery
from podpiska.payments.bank.models import BankPayment
from podpiska.subscriptions import billing, settlement
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    GRACE_ACCOUNT,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.payments.bank.test_domain import document, statement

# The demo's invoices awaiting payment on its day (tests/entrypoints/web/conftest.py's database).
HORIZONS_INVOICE = "2026-000007"  # ООО «Новые горизонты», the first order: 22 743,00
AUTOPAY_INVOICE = "2026-000008"  # ООО «Автоплатёж», the renewal: 1 990,00
AUTOPAY_INN = "7710140679"


def _ctx(client: TestClient) -> Context:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    return ctx


def _invoice(client: TestClient, number: str) -> Invoice:
    with _ctx(client).session() as db, db.begin():
        found = db.scalars(select(Invoice).where(Invoice.number == number)).one()
        db.expunge(found)
        return found


def _bank_rows(client: TestClient) -> list[tuple[str, str]]:
    with _ctx(client).session() as db, db.begin():
        return [
            (r.doc_number, r.status)
            for r in db.scalars(select(BankPayment).order_by(BankPayment.id))
        ]


def demo_statement() -> bytes:
    """One payment of a demo invoice exactly, one whose purpose names no invoice."""
    return statement(
        document("501", "22743.00", f"Оплата по счёту № {HORIZONS_INVOICE}, в т.ч. НДС"),
        document(
            "502",
            "1990.00",
            "Оплата за услуги связи по договору",
            ПлательщикИНН=AUTOPAY_INN,
            Плательщик1="ООО «Автоплатёж»",
        ),
    ).encode("cp1251")


def _upload(client: TestClient, data: bytes, name: str = "day.txt", **extra: str) -> Any:
    token = csrf_of(client.get("/office/bank").text)
    return client.post(
        "/office/bank/statements",
        data={"csrf_token": token, **extra},
        files={"statement": (name, data, "text/plain")},
    )


def test_the_operations_pages_do_not_exist_for_an_account_admin(client: TestClient) -> None:
    client_log_in(client, CUSTOMER)
    for path in (
        "/office/bank",
        "/office/bank/payments/1/invoices?q=2026",
        "/office/deliveries",
        "/office/test-clocks",
        "/office/test-clocks/1",
        "/office/accounts/1/entitlement?action=crm.read",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_of(client.get("/profile").text)
    for path in ("/office/test-clocks", "/office/deliveries/1/redeliver"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    refused = client.post(
        "/office/bank/statements",
        data={"csrf_token": token},
        files={"statement": ("day.txt", demo_statement(), "text/plain")},
    )
    assert refused.status_code == 404
    assert _bank_rows(client) == []
    page = client.get("/portal/1")
    assert "/office/bank" not in page.text  # no back-office menu entries either


def test_an_upload_is_matched_and_an_unmatched_payment_resolved_by_hand(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get("/office/bank")
    assert page.status_code == 200 and "Выписки" in page.text
    assert 'href="/office/bank"' in page.text  # the menu

    uploaded = _upload(client, demo_statement())
    assert uploaded.status_code == 303
    shown = client.get("/office/bank").text
    summary = shown[shown.index('data-testid="import-summary"') :]
    assert "day.txt" in summary
    assert re.search(r'data-outcome="paid"><td>[^<]+</td><td class="num">1<', summary)
    assert re.search(r'data-outcome="unmatched"><td>[^<]+</td><td class="num">1<', summary)
    assert "22\xa0743,00\xa0₽" in summary
    assert _invoice(client, HORIZONS_INVOICE).status == "paid"
    assert _bank_rows(client) == [("501", "paid"), ("502", "unmatched")]
    assert "import-summary" not in client.get("/office/bank").text  # shown once

    # the same file again changes nothing
    assert _upload(client, demo_statement()).status_code == 303
    again = client.get("/office/bank").text
    assert re.search(r'data-outcome="already_imported"><td>[^<]+</td><td class="num">2<', again)
    assert _bank_rows(client) == [("501", "paid"), ("502", "unmatched")]

    with _ctx(client).session() as db, db.begin():
        waiting = db.scalars(select(BankPayment).where(BankPayment.status == "unmatched")).one()
    # the search: by the payer's INN by default, by number when typed; htmx gets a partial
    found = client.get(f"/office/bank?payment={waiting.id}")
    assert f'data-invoice="{AUTOPAY_INVOICE}"' in found.text
    partial = client.get(
        f"/office/bank/payments/{waiting.id}/invoices?q={AUTOPAY_INVOICE}",
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert f'data-invoice="{AUTOPAY_INVOICE}"' in partial.text
    assert HORIZONS_INVOICE not in partial.text  # paid: not offered
    nothing = client.get(
        f"/office/bank/payments/{waiting.id}/invoices?q=нет-такого",
        headers={"HX-Request": "true"},
    )
    assert 'data-testid="no-choices"' in nothing.text

    target = _invoice(client, AUTOPAY_INVOICE)
    token = csrf_of(found.text)
    resolved = client.post(
        f"/office/bank/payments/{waiting.id}/resolve",
        data={"csrf_token": token, "invoice_id": str(target.id)},
    )
    assert resolved.status_code == 303
    after = client.get("/office/bank").text
    assert f"сопоставлен со счётом {AUTOPAY_INVOICE}" in after and "оплачен" in after
    assert 'data-testid="queue-empty"' in after
    paid = _invoice(client, AUTOPAY_INVOICE)
    assert paid.status == "paid" and paid.amount_paid == Decimal("1990.00")
    assert _bank_rows(client) == [("501", "paid"), ("502", "resolved")]
    with _ctx(client).session() as db, db.begin():
        row = db.scalars(select(AuditEntry).where(AuditEntry.action == "bank_payment.resolved"))
        (entry,) = list(row)
    assert entry.actor == f"web:{VENDOR_OPERATOR.email}"

    # twice: refused with the service's message, nothing changes
    twice = client.post(
        f"/office/bank/payments/{waiting.id}/resolve",
        data={"csrf_token": token, "invoice_id": str(target.id)},
    )
    assert twice.status_code == 409 and "уже разобран" in twice.text
    assert _invoice(client, AUTOPAY_INVOICE).amount_paid == Decimal("1990.00")


def test_a_bad_statement_says_why_and_changes_nothing(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    broken = statement(document("1", "100.00", f"Счёт {HORIZONS_INVOICE}"), end=False)
    answer = _upload(client, broken.encode("cp1251"), "broken.txt")
    assert answer.status_code == 422
    text = answer.text
    assert "Выписку broken.txt прочитать нельзя" in text and "КонецФайла" in text
    assert _bank_rows(client) == []
    assert _invoice(client, HORIZONS_INVOICE).status == "issued"
    empty = _upload(client, b"", "empty.txt")
    assert empty.status_code == 422
    assert "Выберите файл выписки" in empty.text
    not_a_number = client.post(
        "/office/bank/payments/1/resolve",
        data={"csrf_token": csrf_of(client.get("/office/bank").text), "invoice_id": "x"},
        headers={"Accept": "text/html"},
    )
    assert not_a_number.status_code == 422


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(
    client: TestClient,
) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    upload = client.post(
        "/office/bank/statements",
        files={"statement": ("day.txt", demo_statement(), "text/plain")},
    )
    assert upload.status_code == 403
    assert _bank_rows(client) == []
    assert client.post("/office/test-clocks", data={"name": "x"}).status_code == 403
    assert client.post("/office/deliveries/1/redeliver").status_code == 403
    assert client.post("/office/test-clocks/1/advance", data={"days": "3"}).status_code == 403
    with _ctx(client).session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(TestClock)) == 0


def test_deliveries_with_their_errors_and_a_redelivery(client: TestClient) -> None:
    ctx = _ctx(client)
    with ctx.session() as db:
        assert notifications.fan_out(db, clock=ctx.clock) > 0
    with ctx.session() as db, db.begin():
        dead_id = db.scalar(select(func.min(Delivery.id)))
        db.execute(
            update(Delivery)
            .where(Delivery.id == dead_id)
            .values(status="dead", attempts=7, last_error="SMTP 550: mailbox unavailable")
        )
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get("/office/deliveries")
    assert page.status_code == 200
    assert re.search(r'data-figure="email_dead"><dt>[^<]+</dt><dd>1<', page.text)
    dead_only = client.get("/office/deliveries?status=dead")  # the oldest: not on page 1
    assert dead_only.text.count("data-delivery=") == 1
    assert "SMTP 550: mailbox unavailable" in dead_only.text
    bad = client.get("/office/deliveries?status=lost")
    assert bad.status_code == 422 and "допустимо" in bad.text

    token = csrf_of(page.text)
    again = client.post(
        f"/office/deliveries/{dead_id}/redeliver", data={"csrf_token": token, "status": "dead"}
    )
    assert (
        again.status_code == 303 and again.headers["location"] == "/office/deliveries?status=dead"
    )
    assert f"Доставка {dead_id}" in client.get("/office/deliveries").text
    with ctx.session() as db, db.begin():
        delivery = db.get_one(Delivery, dead_id)
        assert delivery.status == "pending"
        assert delivery.next_attempt_at == ctx.clock.now()
        audited = db.scalar(
            select(AuditEntry.actor).where(AuditEntry.action == "delivery.redeliver")
        )
    assert audited == f"web:{VENDOR_OPERATOR.email}"
    missing = client.post(
        "/office/deliveries/999999/redeliver",
        data={"csrf_token": token},
        headers={"Accept": "text/html"},
    )
    assert missing.status_code == 404


def test_a_test_clock_is_created_advanced_and_shows_what_happened(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get("/office/test-clocks").text)
    bad = client.post(
        "/office/test-clocks", data={"csrf_token": token, "name": "x", "now": "yesterday"}
    )
    assert bad.status_code == 422 and "датой и временем" in bad.text
    made = client.post(
        "/office/test-clocks",
        data={"csrf_token": token, "name": "Сценарий", "now": "2026-11-22T12:00"},
    )
    assert made.status_code == 303
    clock_id = int(made.headers["location"].rsplit("/", 1)[1])
    ctx = _ctx(client)
    with ctx.session() as db:
        then = FixedTime(ctx.clock.now())
        account = accounts.open_account(
            db, name="ООО «Часы»", admin_email="t@clock.example", test_clock_id=clock_id,
            actor="test", clock=then,
        )  # fmt: skip
        ordered = billing.order_subscription(
            db, account_id=account.id, plan="basic", months=1, actor="test", clock=then
        )
        settlement.register_payment(
            db, invoice_id=ordered.invoice.id, amount=ordered.invoice.total,
            method="bank_transfer", actor="test", clock=then,
        )  # fmt: skip
    listed = client.get("/office/test-clocks").text
    assert "Сценарий" in listed and f'data-clock="{clock_id}"' in listed

    for form, message in (
        ({"days": "soon"}, "целое число дней"),
        ({}, "либо to, либо days"),
        ({"to": "2026-01-01"}, "только вперёд"),
    ):
        refused = client.post(
            f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, **form}
        )
        assert refused.status_code == 422 and message in refused.text, form
    with ctx.session() as db, db.begin():
        assert db.get_one(TestClock, clock_id).now == ctx.clock.now()

    moved = client.post(
        f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, "days": "40"}
    )
    assert moved.status_code == 303
    page = client.get(f"/office/test-clocks/{clock_id}").text
    assert 'data-testid="advance-report"' in page and 'data-count="grace"' in page
    assert 'data-event="subscription.grace_started"' in page
    assert 'data-state="grace"' in page
    assert "01.01.2027" in page  # the clock's new time
    to_date = client.post(
        f"/office/test-clocks/{clock_id}/advance", data={"csrf_token": token, "to": "2027-02-01"}
    )
    assert to_date.status_code == 303
    with ctx.session() as db, db.begin():
        now = db.get_one(TestClock, clock_id).now
    assert now.date().isoformat() == "2027-02-01"
    assert 'data-state="suspended"' in client.get(f"/office/test-clocks/{clock_id}").text


def test_the_account_page_events_audit_and_the_entitlement_tester(client: TestClient) -> None:
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{GRACE_ACCOUNT}")
    assert page.status_code == 200
    assert 'data-event="subscription.grace_started"' in page.text
    assert 'data-action="account.opened"' in page.text
    assert 'data-testid="entitlement-form"' in page.text

    # without JavaScript: the account page with the answer
    answer = client.get(f"/office/accounts/{GRACE_ACCOUNT}?action=crm.create_deal")
    assert answer.status_code == 200
    assert 'data-allowed="no"' in answer.text
    assert "Нет: создание сделок сейчас недоступно" in answer.text
    assert "Портал в льготном периоде до 12.12.2026" in answer.text
    redirected = client.get(f"/office/accounts/{GRACE_ACCOUNT}/entitlement?action=crm.read")
    assert redirected.status_code == 303
    assert redirected.headers["location"].startswith(f"/office/accounts/{GRACE_ACCOUNT}?")

    # htmx: the answer alone, in the page's language
    hx = {"HX-Request": "true"}
    partial = client.get("/office/accounts/1/entitlement?action=crm.create_deal", headers=hx)
    assert partial.status_code == 200 and "<html" not in partial.text
    assert 'data-allowed="yes"' in partial.text
    client.get("/lang/en?next=/")
    english = client.get(
        f"/office/accounts/{GRACE_ACCOUNT}/entitlement?action=crm.create_deal", headers=hx
    )
    assert "No: creating deals is not allowed now." in english.text
    assert "grace period until" in english.text.lower()
    unknown = client.get("/office/accounts/1/entitlement?action=crm.fly", headers=hx)
    assert unknown.status_code == 422 and "Choose an action of the catalog" in unknown.text
    no_app = client.get(
        "/office/accounts/1/entitlement?action=apps.use&app=no-such-app", headers=hx
    )
    assert no_app.status_code == 422 and "no-such-app" in no_app.text
    assert (
        client.get("/office/accounts/999/entitlement?action=crm.read", headers=hx).status_code
        == 404
    )
