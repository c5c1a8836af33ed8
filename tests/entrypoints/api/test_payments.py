"""Paying through the gateway, end to end through the API on SQLite and PostgreSQL, with
the built-in sandbox as the provider (the one fake: it stands at the gateway port, and it
sends its webhooks to our real endpoint through the test client).

Card success, a decline then a retry, 3-D Secure, insufficient funds, e-wallets (YooMoney,
SBP), autopay over a renewal with two failures, card removal stopping autopay, a lost
webhook repaired by reconciliation, the same webhook a hundred times, a refund to the card.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.accounts.models import ApiKey
from podpiska.adapters.clock import FixedClock
from podpiska.adapters.mail import MailboxMailer
from podpiska.adapters.sandbox import SandboxGateway
from podpiska.adapters.webhooks import HttpWebhookSender
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.entrypoints.context import Context, Ports
from podpiska.invoicing import ledger as money_ledger
from podpiska.payments import ledger_verify
from podpiska.payments.models import PaymentAttempt
from podpiska.payments.reconciliation import reconcile
from podpiska.payments.refunds import refundable_payments
from podpiska.subscriptions.catalogs import load_catalog_document

PROJECT = Path(__file__).resolve().parents[3]
MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 11, 22, 10, 0, tzinfo=MSK)
BASE = "http://testserver"


@dataclass
class Env:
    client: TestClient
    context: Context
    auth: dict[str, str]
    sandbox: SandboxGateway

    def post(self, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(path, json=body or {}, headers=self.auth, **kw)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.auth)

    def webhooks(self) -> int:
        return self.sandbox.deliver_notifications()

    def events(self, account: int) -> list[dict[str, Any]]:
        body = self.get(f"/api/v1/accounts/{account}/events?limit=1000").json()
        return list(body["data"])


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=PROJECT / "catalogs" / "crm-shop.yaml",
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        public_url=BASE,
    )
    sandbox = SandboxGateway(
        path=tmp_path / "sandbox.db",
        base_url=BASE,
        secret="sandbox-test-secret",
        notify_url=f"{BASE}/api/v1/gateway/sandbox/notifications",
    )
    ports = Ports(
        mailer=MailboxMailer(settings.mailbox_dir, settings.mail_from),
        webhooks=HttpWebhookSender(),
        gateway=sandbox,
    )
    context = build_context(settings=settings, clock=FixedClock(START), ports=ports)
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test", clock=context.clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    client = TestClient(create_app(context))

    def post(url: str, body: bytes, headers: Any) -> int:
        return client.post(urlparse(url).path, content=body, headers=dict(headers)).status_code

    sandbox.post = post
    yield Env(client, context, {"Authorization": f"Bearer {key}"}, sandbox)
    client.close()


def open_and_order(
    env: Env, *, clock_id: int | None = None, months: int = 12
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"name": "ООО «Ромашка»", "admin_email": "admin@romashka.ru"}
    if clock_id is not None:
        body["test_clock_id"] = clock_id
    account = env.post("/api/v1/accounts", body)
    assert account.status_code == 201, account.text
    account_id = account.json()["id"]
    ordered = env.post(
        f"/api/v1/accounts/{account_id}/subscriptions", {"plan": "standard", "months": months}
    )
    assert ordered.status_code == 201, ordered.text
    invoice = ordered.json()["invoice"]
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])
    return account_id, invoice


def checkout(env: Env, invoice_id: int, **body: Any) -> dict[str, Any]:
    made = env.post(f"/api/v1/invoices/{invoice_id}/checkout", {"method_type": "bank_card", **body})
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def pay_on_page(env: Env, attempt: dict[str, Any], **form: str) -> Any:
    """The customer on the sandbox's checkout page."""
    url = urlparse(attempt["confirmation_url"]).path
    page = env.client.get(url)
    assert page.status_code == 200
    return env.client.post(url, data=form, follow_redirects=False)


def invoice_of(env: Env, invoice_id: int) -> dict[str, Any]:
    result: dict[str, Any] = env.get(f"/api/v1/invoices/{invoice_id}").json()
    return result


def payments_of(env: Env, invoice_id: int) -> list[dict[str, Any]]:
    found = env.get(f"/api/v1/invoices/{invoice_id}/payments")
    assert found.status_code == 200, found.text
    result: list[dict[str, Any]] = found.json()
    return result


def ledger_is_clean(env: Env) -> None:
    with env.context.session() as db:
        report = ledger_verify.verify(db)
    assert report.ok, (report.unbalanced, report.mismatches)


def test_a_vat_rate_without_a_receipt_code_refuses_the_payment_and_writes_nothing(
    env: Env,
) -> None:
    """An invoice whose lines carry a VAT rate no 54-FZ receipt has (written before the
    catalog refused such rates) is not charged with "без НДС" on its receipt: 409, no
    attempt, nothing at the gateway."""
    from podpiska.invoicing.models import InvoiceLine

    _, invoice = open_and_order(env)
    with env.context.session() as db, db.begin():
        for line in db.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice["id"])):
            line.vat_rate = "18"
    made = env.post(f"/api/v1/invoices/{invoice['id']}/checkout", {"method_type": "bank_card"})
    assert made.status_code == 409, made.text
    body = made.json()["error"]
    assert body["code"] == "vat_rate_unsupported"
    assert "18" in body["message"] and "54" in body["message"]
    with env.context.session() as db, db.begin():
        assert db.scalars(select(PaymentAttempt)).all() == []
    assert invoice_of(env, invoice["id"])["status"] == "issued"


def test_card_payment_activates_once_however_often_the_webhook_comes(env: Env) -> None:
    account, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"])
    assert attempt["status"] == "pending"
    assert attempt["amount"] == invoice["total"] == "43092.00"
    assert attempt["confirmation_url"].startswith(f"{BASE}/sandbox/checkout/")
    # A second click while the first waits: the same attempt, not a second payment.
    assert checkout(env, invoice["id"])["id"] == attempt["id"]

    done = pay_on_page(env, attempt, card="4242 4242 4242 4242")
    assert done.status_code == 303
    assert done.headers["location"] == f"{BASE}/api/v1/invoices/{invoice['id']}"
    # Asynchronous, like a real provider: nothing is paid until the webhook arrives.
    assert invoice_of(env, invoice["id"])["status"] == "issued"
    assert env.webhooks() == 1
    paid = invoice_of(env, invoice["id"])
    assert paid["status"] == "paid"
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["status"] == "active"
    seen = env.get(f"/api/v1/payment-attempts/{attempt['id']}").json()
    assert seen["status"] == "succeeded" and seen["payment_id"] is not None

    # The same webhook a hundred times: applied once.
    [body] = _all_notifications(env)
    for _ in range(100):
        again = env.client.post(
            "/api/v1/gateway/sandbox/notifications",
            content=body,
            headers={"x-sandbox-signature": env.sandbox.sign(body)},
        )
        assert again.status_code == 200, again.text
    kinds = [e["type"] for e in env.events(account)]
    assert kinds.count("invoice.paid") == 1
    assert kinds.count("subscription.activated") == 1
    assert len(payments_of(env, invoice["id"])) == 1
    ledger_is_clean(env)


def _all_notifications(env: Env) -> list[bytes]:
    """The webhook of each successful payment, as the sandbox sends it (to replay it)."""
    return [
        json.dumps(
            {"type": "notification", "event": "payment.succeeded", "object": {"id": p.id}}
        ).encode()
        for p in env.sandbox.payments()
        if p.status == "succeeded"
    ]


def test_a_declined_card_then_another_card(env: Env) -> None:
    account, invoice = open_and_order(env)
    first = checkout(env, invoice["id"])
    pay_on_page(env, first, card="4000000000000002")
    env.webhooks()
    failed = env.get(f"/api/v1/payment-attempts/{first['id']}").json()
    assert (failed["status"], failed["failure_reason"]) == ("failed", "general_decline")
    assert invoice_of(env, invoice["id"])["status"] == "issued"
    failures = [e for e in env.events(account) if e["type"] == "payment.failed"]
    assert len(failures) == 1 and failures[0]["data"]["reason"] == "general_decline"

    second = checkout(env, invoice["id"])
    assert second["id"] != first["id"]
    pay_on_page(env, second, card="5555555555554444")
    env.webhooks()
    assert invoice_of(env, invoice["id"])["status"] == "paid"
    ledger_is_clean(env)


def test_three_d_secure_confirmed_and_refused(env: Env) -> None:
    _, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"])
    asked = pay_on_page(env, attempt, card="4000 0000 0000 3220")
    assert asked.status_code == 303
    assert asked.headers["location"].endswith(f"/sandbox/3ds/{_external(env, attempt)}")
    refused = env.client.post(
        urlparse(asked.headers["location"]).path, data={"approve": "no"}, follow_redirects=False
    )
    assert refused.status_code == 303
    env.webhooks()
    seen = env.get(f"/api/v1/payment-attempts/{attempt['id']}").json()
    assert (seen["status"], seen["failure_reason"]) == ("failed", "3d_secure_failed")

    again = checkout(env, invoice["id"])
    asked = pay_on_page(env, again, card="4000000000003220")
    env.client.post(urlparse(asked.headers["location"]).path, data={"approve": "yes"})
    env.webhooks()
    assert invoice_of(env, invoice["id"])["status"] == "paid"


def _external(env: Env, attempt: dict[str, Any]) -> str:
    return str(attempt["confirmation_url"]).rsplit("/", 1)[-1]


def test_insufficient_funds(env: Env) -> None:
    _, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"])
    pay_on_page(env, attempt, card="4000000000009995")
    env.webhooks()
    seen = env.get(f"/api/v1/payment-attempts/{attempt['id']}").json()
    assert (seen["status"], seen["failure_reason"]) == ("failed", "insufficient_funds")


@pytest.mark.parametrize(("method_type", "recorded"), [("yoo_money", "e_wallet"), ("sbp", "sbp")])
def test_e_wallets_take_the_same_path(env: Env, method_type: str, recorded: str) -> None:
    account, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"], method_type=method_type)
    page = env.client.get(urlparse(attempt["confirmation_url"]).path)
    assert ("ЮMoney" if method_type == "yoo_money" else "СБП") in page.text
    pay_on_page(env, attempt, approve="yes")
    env.webhooks()
    paid = invoice_of(env, invoice["id"])
    assert paid["status"] == "paid"
    assert [p["method"] for p in payments_of(env, invoice["id"])] == [recorded]
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["status"] == "active"


def test_bad_checkouts_are_refused_and_change_nothing(env: Env) -> None:
    _, invoice = open_and_order(env)
    unknown = env.post(f"/api/v1/invoices/{invoice['id']}/checkout", {"method_type": "paypal"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_method_type"
    no_consent = env.post(
        f"/api/v1/invoices/{invoice['id']}/checkout",
        {"method_type": "bank_card", "save_method": True},
    )
    assert no_consent.status_code == 422
    assert no_consent.json()["error"]["code"] == "consent_required"
    assert env.sandbox.payments() == []
    forged = env.client.post(
        "/api/v1/gateway/sandbox/notifications",
        content=b'{"event": "payment.succeeded", "object": {"id": "x"}}',
        headers={"x-sandbox-signature": "0" * 64},
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "notification_rejected"
    # Paid invoices take no more checkouts.
    attempt = checkout(env, invoice["id"])
    pay_on_page(env, attempt, card="4242424242424242")
    env.webhooks()
    late = env.post(f"/api/v1/invoices/{invoice['id']}/checkout", {"method_type": "bank_card"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "invoice_not_payable"


def test_a_lost_webhook_is_repaired_by_reconciliation(env: Env) -> None:
    _, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"])
    pay_on_page(env, attempt, card="4242424242424242")
    # The webhook never arrives; a few minutes later reconciliation asks the gateway.
    clock = env.context.clock
    assert isinstance(clock, FixedClock)
    with env.context.session() as db:
        assert reconcile(db, env.sandbox, clock=clock).checked == 0  # not due yet
        clock.instant = clock.instant.replace(minute=clock.instant.minute + 5)
        report = reconcile(db, env.sandbox, clock=clock)
    assert (report.checked, report.succeeded) == (1, 1)
    assert invoice_of(env, invoice["id"])["status"] == "paid"
    env.webhooks()  # arriving late changes nothing
    assert len(payments_of(env, invoice["id"])) == 1


def customer_auth(env: Env, account_id: int) -> dict[str, str]:
    """The headers of an `account_admin` key of the account: the customer's own."""
    with env.context.session() as db:
        _, key = create_api_key(
            db, role="account_admin", account_id=account_id, actor="test", clock=env.context.clock
        )
    return {"Authorization": f"Bearer {key}"}


def save_card(env: Env, invoice: dict[str, Any], card: str = "4242424242424242") -> int:
    consent = env.get("/api/v1/payments/consent").json()
    assert "отключить автоплатёж" in consent["text"]
    made = env.client.post(
        f"/api/v1/invoices/{invoice['id']}/checkout",
        json={"method_type": "bank_card", "save_method": True, "consent_accepted": True},
        headers=customer_auth(env, invoice["account_id"]),
    )
    assert made.status_code == 201, made.text
    attempt = made.json()
    pay_on_page(env, attempt, card=card)
    env.webhooks()
    assert invoice_of(env, invoice["id"])["status"] == "paid"
    return int(attempt["id"])


def new_clock(env: Env) -> int:
    made = env.post("/api/v1/test-clocks", {"name": "autopay", "now": START.isoformat()})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def advance(env: Env, clock_id: int, day: str) -> dict[str, Any]:
    moved = env.post(f"/api/v1/test-clocks/{clock_id}/advance", {"to": f"{day}T10:00:00+03:00"})
    assert moved.status_code == 200, moved.text
    result: dict[str, Any] = moved.json()
    return result


def test_autopay_over_a_renewal_with_two_failures(env: Env) -> None:
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    [method] = env.get(f"/api/v1/accounts/{account}/payment-methods").json()
    assert method["status"] == "active" and method["title"] == "Visa *4242"
    assert "автоплатеж" in method["consent_text"] or "автоплатёж" in method["consent_text"]
    assert method["consent_by"] == "vendor_admin" or method["consent_by"]
    subscription = env.get(f"/api/v1/accounts/{account}/subscription").json()
    assert subscription["autopay"] is True
    assert subscription["ends_on"] == "2026-12-22"
    gateway_method = _saved_gateway_method(env)
    env.sandbox.script_method(gateway_method, ["insufficient_funds", "card_expired"])

    # The autopay invoice is issued 3 days before the paid-through day (18.12) and charged
    # at once: declined. The end day (22.12): declined again, grace. 23.12: paid, restored.
    first = advance(env, clock_id, "2026-12-18")
    assert first["counts"]["autopay_invoices"] == 1
    assert first["autopay"]["failed"] == 1
    assert advance(env, clock_id, "2026-12-21")["autopay"]["charged"] == 0  # not a retry day
    second = advance(env, clock_id, "2026-12-22")
    assert second["autopay"]["failed"] == 1
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["status"] == "grace"
    third = advance(env, clock_id, "2026-12-23")
    assert third["autopay"]["succeeded"] == 1
    renewed = env.get(f"/api/v1/accounts/{account}/subscription").json()
    assert renewed["status"] == "active"
    assert renewed["ends_on"] == "2027-01-22"
    failures = [e["data"] for e in env.events(account) if e["type"] == "payment.failed"]
    assert [(f["reason"], f["next_attempt_on"]) for f in failures] == [
        ("insufficient_funds", "2026-12-22"),
        ("card_expired", "2026-12-23"),
    ]
    kinds = [e["type"] for e in env.events(account)]
    assert kinds.count("subscription.restored") == 1
    # Nothing more is charged for a paid renewal.
    assert advance(env, clock_id, "2026-12-30")["autopay"]["charged"] == 0
    ledger_is_clean(env)


def _saved_gateway_method(env: Env) -> str:
    saved = [p.method for p in env.sandbox.payments() if p.method and p.method.saved]
    assert saved and saved[-1] is not None
    return saved[-1].id


def test_dunning_stops_at_the_end_of_grace(env: Env) -> None:
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice, card="4000000000000341")  # saved, but later charges fail
    advance(env, clock_id, "2027-01-25")
    attempts = [e["data"] for e in env.events(account) if e["type"] == "payment.failed"]
    # 18.12 (invoice day), then 22.12, 23.12, 25.12, 29.12: five charges, the last says so.
    assert len(attempts) == 5
    assert attempts[-1]["next_attempt_on"] is None
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["status"] == "suspended"
    assert len([p for p in env.sandbox.payments() if p.status == "canceled"]) == 5


def test_removing_the_card_stops_autopay(env: Env) -> None:
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    [method] = env.get(f"/api/v1/accounts/{account}/payment-methods").json()
    removed = env.client.delete(
        f"/api/v1/accounts/{account}/payment-methods/{method['id']}", headers=env.auth
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "removed"
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["autopay"] is False
    before = len(env.sandbox.payments())
    advance(env, clock_id, "2026-12-30")
    assert len(env.sandbox.payments()) == before  # not a kopeck charged
    missing = env.client.delete(
        f"/api/v1/accounts/{account}/payment-methods/999999", headers=env.auth
    )
    assert missing.status_code == 404


def test_a_cancelled_subscription_is_never_charged(env: Env) -> None:
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    cancelled = env.post(f"/api/v1/accounts/{account}/subscription/cancel", {})
    assert cancelled.status_code == 200, cancelled.text
    before = len(env.sandbox.payments())
    advance(env, clock_id, "2027-01-30")
    assert len(env.sandbox.payments()) == before


def test_a_refund_goes_back_to_the_card(env: Env) -> None:
    account, invoice = open_and_order(env)
    attempt = checkout(env, invoice["id"])
    pay_on_page(env, attempt, card="4242424242424242")
    env.webhooks()
    note = env.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", {"reason": "ошибка в счёте"})
    assert note.status_code == 201, note.text
    refund = env.post(
        f"/api/v1/accounts/{account}/refunds", {"amount": "1000.00", "reason": "по заявлению"}
    )
    assert refund.status_code == 201, refund.text
    clock = env.context.clock
    with env.context.session() as db:
        report = reconcile(db, env.sandbox, clock=clock)
    assert report.refunds == 1
    env.webhooks()  # the refund's own webhook: nothing more happens
    kinds = [e["type"] for e in env.events(account)]
    assert kinds.count("refund.succeeded") == 1
    ledger_is_clean(env)


def test_a_refund_goes_back_to_the_payment_the_operator_chose(env: Env) -> None:
    """`payment_id` names the card payment the refund goes back to (another account's or an
    unknown one: 404; money paid by hand is finance's to send: 422), and the worker sends it
    there; a refund without one still goes to the newest payment with enough left."""
    account, invoice = open_and_order(env)
    pay_on_page(env, checkout(env, invoice["id"]), card="4242424242424242")
    env.webhooks()
    (card,) = payments_of(env, invoice["id"])
    other, theirs = open_and_order(env)
    manual = env.post(
        f"/api/v1/invoices/{theirs['id']}/payments",
        {"amount": theirs["total"], "method": "manual"},
    )
    assert manual.status_code == 201, manual.text
    (by_hand,) = payments_of(env, theirs["id"])
    for paid in (invoice, theirs):
        note = env.post(f"/api/v1/invoices/{paid['id']}/credit-notes", {"reason": "ошибка"})
        assert note.status_code == 201, note.text

    def refund(account_id: int, **body: Any) -> Any:
        return env.post(f"/api/v1/accounts/{account_id}/refunds", {"reason": "заявление", **body})

    for account_id, payment_id, status, code in (
        (other, card["id"], 404, "not_found"),  # another account's payment
        (account, 999999, 404, "not_found"),
        (other, by_hand["id"], 422, "refund_payment_not_gateway"),
    ):
        refused = refund(account_id, amount="100.00", payment_id=payment_id)
        assert refused.status_code == status, refused.text
        assert refused.json()["error"]["code"] == code
    for bad in ("1", -5, 0, "x", 2**70, None, [1]):
        if bad is None:
            continue
        assert refund(account, amount="100.00", payment_id=bad).status_code == 422, bad
    credit = env.get(f"/api/v1/accounts/{account}/credit").json()["balance"]
    assert credit == invoice["total"]  # nothing was written by the refusals

    made = refund(account, amount="1000.00", payment_id=card["id"])
    assert made.status_code == 201, made.text
    assert (made.json()["payment_id"], made.json()["status"]) == (card["id"], "requested")
    with env.context.session() as db, db.begin():  # what is left on it counts the request
        (left,) = refundable_payments(db, account)
    assert (left.payment.id, left.left) == (card["id"], Decimal(card["amount"]) - 1000)
    with env.context.session() as db:
        assert reconcile(db, env.sandbox, clock=env.context.clock).refunds == 1
    env.webhooks()
    assert [e["type"] for e in env.events(account)].count("refund.succeeded") == 1
    gateway_refunds = env.sandbox.refunds()
    assert [(r.payment_id, r.amount) for r in gateway_refunds] == [
        (card["external_id"], Decimal("1000.00"))
    ]
    ledger_is_clean(env)


# -- one open attempt per invoice (issue item 2) ---------------------------------------------


def _attempts_of(env: Env, invoice_id: int) -> list[PaymentAttempt]:
    with env.context.session() as db, db.begin():
        return list(
            db.scalars(select(PaymentAttempt).where(PaymentAttempt.invoice_id == invoice_id))
        )


@pytest.mark.postgres_only
def test_twenty_parallel_checkouts_open_one_payment(env: Env) -> None:
    """20 checkouts of one fresh invoice at once, each with its own Idempotency-Key: one
    attempt, one gateway payment, and every caller is handed that same attempt."""
    account, invoice = open_and_order(env, months=1)
    barrier = threading.Barrier(20, timeout=60)

    def click(n: int) -> Any:
        barrier.wait()
        return env.client.post(
            f"/api/v1/invoices/{invoice['id']}/checkout",
            json={"method_type": "bank_card"},
            headers={**env.auth, "Idempotency-Key": f"checkout-{n}"},
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(click, range(20)))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    attempts = {a.json()["id"] for a in answers}
    assert len(attempts) == 1
    assert {a.json()["status"] for a in answers} == {"pending"}
    assert len({a.json()["confirmation_url"] for a in answers}) == 1
    assert len(_attempts_of(env, invoice["id"])) == 1
    assert len(env.sandbox.payments()) == 1

    pay_on_page(env, answers[0].json(), card="4242424242424242")
    env.webhooks()
    assert invoice_of(env, invoice["id"])["status"] == "paid"
    [paid] = payments_of(env, invoice["id"])
    assert paid["amount"] == invoice["total"]
    assert money_ledger_credit(env, account) == Decimal("0.00")
    ledger_is_clean(env)


def money_ledger_credit(env: Env, account_id: int) -> Decimal:
    with env.context.session() as db, db.begin():
        return money_ledger.credit_balance(db, account_id)


def test_another_payment_while_one_is_open_is_refused_naming_it(env: Env) -> None:
    _, invoice = open_and_order(env, months=1)
    first = checkout(env, invoice["id"])
    # The same click again: the same attempt; another method meanwhile: 409 naming it.
    assert checkout(env, invoice["id"])["id"] == first["id"]
    other = env.post(f"/api/v1/invoices/{invoice['id']}/checkout", {"method_type": "sbp"})
    assert other.status_code == 409, other.text
    error = other.json()["error"]
    assert error["code"] == "payment_in_progress"
    assert error["details"]["attempt_id"] == first["id"]
    assert error["details"]["confirmation_url"] == first["confirmation_url"]
    assert len(_attempts_of(env, invoice["id"])) == 1
    # Declined: the attempt is over, and the next checkout opens a new one.
    pay_on_page(env, first, card="4000000000000002")
    env.webhooks()
    second = env.post(f"/api/v1/invoices/{invoice['id']}/checkout", {"method_type": "sbp"})
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first["id"] and second.json()["method_type"] == "sbp"
    assert [a.status for a in _attempts_of(env, invoice["id"])] == ["failed", "pending"]


# -- consent and autopay only by the account's own people (issue items 9 and 20) -------------


def test_a_vendor_key_cannot_give_the_customers_consent(env: Env) -> None:
    account, invoice = open_and_order(env, months=1)
    refused = env.post(
        f"/api/v1/invoices/{invoice['id']}/checkout",
        {"method_type": "bank_card", "save_method": True, "consent_accepted": True},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "consent_by_customer_only"
    assert _attempts_of(env, invoice["id"]) == []  # nothing written
    # The customer's own key may, and the method records who consented.
    save_card(env, invoice)
    [method] = env.get(f"/api/v1/accounts/{account}/payment-methods").json()
    assert method["consent_by"].startswith("apikey:")
    with env.context.session() as db, db.begin():
        key = db.scalar(select(ApiKey).where(ApiKey.prefix == method["consent_by"][7:]))
        assert key is not None and key.role == "account_admin" and key.account_id == account


def test_autopay_is_turned_on_by_the_customer_only_and_with_a_saved_method(env: Env) -> None:
    account, invoice = open_and_order(env, months=1)
    customer = customer_auth(env, account)
    url = f"/api/v1/accounts/{account}/subscription/autopay"
    # No saved method yet: refused, whoever asks.
    none_saved = env.client.post(url, json={"enabled": True}, headers=customer)
    assert none_saved.status_code == 409, none_saved.text
    assert none_saved.json()["error"]["code"] == "autopay_needs_method"
    save_card(env, invoice)  # saving it with consent turns autopay on
    assert env.post(url, {"enabled": False}).json()["autopay"] is False  # off: anyone
    by_vendor = env.post(url, {"enabled": True})
    assert by_vendor.status_code == 403, by_vendor.text
    assert by_vendor.json()["error"]["code"] == "consent_by_customer_only"
    assert env.get(f"/api/v1/accounts/{account}/subscription").json()["autopay"] is False
    by_customer = env.client.post(url, json={"enabled": True}, headers=customer)
    assert by_customer.status_code == 200, by_customer.text
    assert by_customer.json()["autopay"] is True
    changes = [e for e in env.events(account) if e["type"] == "subscription.autopay_changed"]
    assert [c["data"]["autopay"] for c in changes] == [True, False, True]
