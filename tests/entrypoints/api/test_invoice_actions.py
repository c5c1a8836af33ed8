"""The actions a billing team takes on one invoice, through the API on SQLite and
PostgreSQL (the sandbox gateway and the mailbox are the fakes at the ports): void with its
reason (and what it undoes), mark paid by hand, send again, charge the saved card."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from podpiska.core.models import AuditEntry
from podpiska.invoicing.models import CreditEntry, Invoice
from podpiska.notifications import fanout as notifications
from podpiska.ports import EmailMessage
from podpiska.subscriptions.models import SubscriptionChange
from tests.entrypoints.api.test_notices import FakeMailer, NoWebhooks
from tests.entrypoints.api.test_payments import (  # noqa: F401 - the fixture
    Env,
    advance,
    customer_auth,
    env,
    invoice_of,
    ledger_is_clean,
    new_clock,
    open_and_order,
    payments_of,
    save_card,
)
from tests.invoicing.test_documents import SELLER, CountingRenderer


def sums(invoice: dict[str, Any]) -> None:
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(invoice["total"])


def subscription_of(env: Env, account: int) -> Any:  # noqa: F811
    return env.get(f"/api/v1/accounts/{account}/subscription")


def audits(env: Env, action: str) -> list[AuditEntry]:  # noqa: F811
    with env.context.session() as db, db.begin():
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# -- void ----------------------------------------------------------------------------------


def test_voiding_an_order_invoice_cancels_the_pending_order(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    voided = env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "ordered twice"})
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert body["invoice"]["status"] == "void" and body["effect"] == "order_cancelled"
    assert body["subscription"]["status"] == "cancelled"
    assert body["replayed"] is False
    sums(body["invoice"])
    # No live subscription is left; the event and the audit name the reason and the actor.
    assert subscription_of(env, account).status_code == 404
    kinds = [e["type"] for e in env.events(account)]
    assert "invoice.voided" in kinds and "subscription.cancelled" in kinds
    [row] = audits(env, "invoice.voided")
    assert row.after is not None and row.after["reason"] == "ordered twice"
    assert row.actor and row.actor != "test"
    # Again: answered as it is, nothing more done.
    again = env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "ordered twice"})
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert len(audits(env, "invoice.voided")) == 1
    ledger_is_clean(env)


def test_a_partly_paid_invoice_voided_puts_the_money_on_credit(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    paid = env.post(
        f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "1000.00", "method": "manual"}
    )
    assert paid.status_code == 201, paid.text
    voided = env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "wrong plan"})
    assert voided.status_code == 200, voided.text
    assert env.get(f"/api/v1/accounts/{account}/credit").json()["balance"] == "1000.00"
    with env.context.session() as db, db.begin():
        assert db.scalars(select(CreditEntry)).first() is not None
    ledger_is_clean(env)


def test_void_refusals(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    for body in ({}, {"reason": "   "}):
        refused = env.post(f"/api/v1/invoices/{invoice['id']}/void", body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "void_reason_required"
    too_long = env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "x" * 501})
    assert too_long.json()["error"]["code"] == "void_reason_too_long"
    # A customer's key may not void its own invoice; an unknown one is 404.
    own = env.client.post(
        f"/api/v1/invoices/{invoice['id']}/void",
        json={"reason": "no"},
        headers=customer_auth(env, account),
    )
    assert own.status_code == 403, own.text
    assert env.post("/api/v1/invoices/999999/void", {"reason": "x"}).status_code == 404
    env.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"]})
    paid = env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "too late"})
    assert paid.status_code == 409, paid.text
    error = paid.json()["error"]
    assert error["code"] == "invoice_paid" and invoice["number"] in error["message"]
    assert invoice_of(env, invoice["id"])["status"] == "paid"


def test_voiding_a_renewal_drops_the_planned_renewal(env: Env) -> None:  # noqa: F811
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    env.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"]})
    renewal = env.post(f"/api/v1/accounts/{account}/renewals", {})
    assert renewal.status_code == 201, renewal.text
    sums(renewal.json())
    voided = env.post(f"/api/v1/invoices/{renewal.json()['id']}/void", {"reason": "no more"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["effect"] == "renewal_dropped"
    sub = voided.json()["subscription"]
    assert sub["status"] == "active" and sub["autopay"] is False
    # The lifecycle treats the term as unrenewed: grace after its end, no new invoice.
    advance(env, clock_id, "2026-12-23")
    assert subscription_of(env, account).json()["status"] in {"grace", "suspended"}
    with env.context.session() as db, db.begin():
        kinds = [i.status for i in db.scalars(select(Invoice).where(Invoice.kind == "renewal"))]
    assert kinds == ["void"]
    ledger_is_clean(env)


def test_voiding_a_change_invoice_cancels_the_change(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    env.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": invoice["total"]})
    sub = subscription_of(env, account).json()
    changes = f"/api/v1/subscriptions/{sub['id']}/changes"
    preview = env.post(changes, {"kind": "plan", "plan": "professional"})
    assert preview.status_code == 200, preview.text
    committed = env.post(
        changes,
        {
            "kind": "plan",
            "plan": "professional",
            "preview": False,
            "token": preview.json()["token"],
        },
    )
    assert committed.status_code == 200, committed.text
    assert committed.json()["change"]["status"] == "pending"
    sums(committed.json()["invoice"])
    change_invoice = committed.json()["invoice"]["id"]
    voided = env.post(f"/api/v1/invoices/{change_invoice}/void", {"reason": "asked by phone"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["effect"] == "change_cancelled"
    with env.context.session() as db, db.begin():
        [change] = db.scalars(select(SubscriptionChange)).all()
        assert change.status == "cancelled"
    assert subscription_of(env, account).json()["plan"] == "standard"
    ledger_is_clean(env)


# -- mark paid ------------------------------------------------------------------------------


def test_marking_paid_by_hand_settles_like_a_payment(env: Env) -> None:  # noqa: F811
    account, invoice = open_and_order(env)
    body = {"method": "bank_transfer", "paid_on": "2026-11-21", "reference": "п/п 417"}
    early = env.post(f"/api/v1/invoices/{invoice['id']}/mark-paid", body)
    assert early.status_code == 422 and early.json()["error"]["code"] == "invalid_paid_on"
    late = env.post(
        f"/api/v1/invoices/{invoice['id']}/mark-paid", {**body, "paid_on": "2026-12-01"}
    )
    assert late.status_code == 422
    bad = env.post(f"/api/v1/invoices/{invoice['id']}/mark-paid", {**body, "amount": "-1"})
    assert bad.status_code == 422
    method = env.post(f"/api/v1/invoices/{invoice['id']}/mark-paid", {**body, "method": "gold"})
    assert method.status_code == 422
    marked = env.post(
        f"/api/v1/invoices/{invoice['id']}/mark-paid", {**body, "paid_on": "2026-11-22"}
    )
    assert marked.status_code == 201, marked.text
    out = marked.json()
    assert out["payment"]["amount"] == invoice["total"]  # what was due
    assert out["payment"]["method"] == "bank_transfer"
    assert out["payment"]["external_id"] == "п/п 417"
    assert out["payment"]["received_on"] == "2026-11-22"
    assert out["invoice"]["status"] == "paid" and out["subscription"]["status"] == "active"
    sums(out["invoice"])
    assert [p["external_id"] for p in payments_of(env, invoice["id"])] == ["п/п 417"]
    [row] = audits(env, "invoice.marked_paid")
    assert row.after is not None and row.after["reference"] == "п/п 417"
    kinds = [e["type"] for e in env.events(account)]
    assert kinds.count("invoice.paid") == 1 and kinds.count("subscription.activated") == 1
    # The same reference again: the same payment, not a second one.
    again = env.post(
        f"/api/v1/invoices/{invoice['id']}/mark-paid", {**body, "paid_on": "2026-11-22"}
    )
    assert again.status_code == 201 and again.json()["payment"]["replayed"] is True
    # Another payment on a paid invoice: 409.
    other = env.post(
        f"/api/v1/invoices/{invoice['id']}/mark-paid", {"method": "cash", "paid_on": "2026-11-22"}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "invoice_not_payable"
    ledger_is_clean(env)


def test_a_void_invoice_is_not_marked_paid(env: Env) -> None:  # noqa: F811
    _, invoice = open_and_order(env)
    env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "ordered twice"})
    refused = env.post(
        f"/api/v1/invoices/{invoice['id']}/mark-paid", {"method": "cash", "paid_on": "2026-11-22"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "invoice_not_payable"


# -- resend ---------------------------------------------------------------------------------


def _send_mail(env: Env) -> list[EmailMessage]:  # noqa: F811
    """What a worker sends now (the mailer and the PDF renderer are the fakes)."""
    with env.context.session() as db:
        while notifications.fan_out(db, clock=env.context.clock):
            pass
    mailer = FakeMailer()
    notifications.deliver_due(
        env.context.sessions,
        mailer=mailer,
        webhooks=NoWebhooks(),
        clock=env.context.clock,
        limit=1000,
        renderer=CountingRenderer(),
        seller=SELLER,
    )
    return mailer.sent


def test_resending_an_invoice_mails_it_again_with_its_pdf(env: Env) -> None:  # noqa: F811
    _, invoice = open_and_order(env)
    [first] = [m for m in _send_mail(env) if m.headers["X-Podpiska-Event"] == "invoice.issued"]
    sent = env.post(f"/api/v1/invoices/{invoice['id']}/resend", {})
    assert sent.status_code == 202, sent.text
    assert sent.json()["email"] == "admin@romashka.ru"
    other = env.post(f"/api/v1/invoices/{invoice['id']}/resend", {"email": "buh@romashka.ru"})
    assert other.status_code == 202 and other.json()["email"] == "buh@romashka.ru"
    bad = env.post(f"/api/v1/invoices/{invoice['id']}/resend", {"email": "not an address"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_field"
    new = _send_mail(env)
    assert sorted(m.to for m in new) == ["admin@romashka.ru", "buh@romashka.ru"]
    for message in new:  # the same e-mail as the first, with the invoice's PDF
        assert message.subject == first.subject and invoice["number"] in message.subject
        assert message.text == first.text
        assert [a.filename for a in message.attachments] == [a.filename for a in first.attachments]
        assert message.attachments and message.attachments[0].filename.endswith(".pdf")
    assert len(audits(env, "invoice.resent")) == 2
    # The feed says what happened: the invoice issued once, sent again twice.
    feed = env.get("/api/v1/events?type=invoice.*&limit=1000").json()["data"]
    ours = [e for e in feed if e["data"].get("invoice_id") == invoice["id"]]
    assert [e["type"] for e in ours].count("invoice.issued") == 1
    resent = [e["data"]["email"] for e in ours if e["type"] == "invoice.resent"]
    assert resent == ["admin@romashka.ru", "buh@romashka.ru"]


def test_a_void_invoice_is_not_resent(env: Env) -> None:  # noqa: F811
    _, invoice = open_and_order(env)
    env.post(f"/api/v1/invoices/{invoice['id']}/void", {"reason": "ordered twice"})
    refused = env.post(f"/api/v1/invoices/{invoice['id']}/resend", {})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invoice_void_not_sent"


# -- pay with the saved method ----------------------------------------------------------------


def test_paying_with_the_saved_card(env: Env) -> None:  # noqa: F811
    clock_id = new_clock(env)
    account, invoice = open_and_order(env, clock_id=clock_id, months=1)
    save_card(env, invoice)
    env.post(f"/api/v1/accounts/{account}/subscription/autopay", {"enabled": False})
    renewal = env.post(f"/api/v1/accounts/{account}/renewals", {})
    assert renewal.status_code == 201, renewal.text
    renewal_id = renewal.json()["id"]
    charged = env.post(f"/api/v1/invoices/{renewal_id}/pay")
    assert charged.status_code == 201, charged.text
    attempt = charged.json()
    assert attempt["kind"] == "saved_method" and attempt["invoice_id"] == renewal_id
    assert attempt["amount"] == renewal.json()["total"]
    env.webhooks()
    assert invoice_of(env, renewal_id)["status"] == "paid"
    assert subscription_of(env, account).json()["ends_on"] == "2027-01-22"
    again = env.post(f"/api/v1/invoices/{renewal_id}/pay")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invoice_not_payable"
    ledger_is_clean(env)


def test_paying_without_a_saved_method_is_refused(env: Env) -> None:  # noqa: F811
    _, invoice = open_and_order(env)
    refused = env.post(f"/api/v1/invoices/{invoice['id']}/pay")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "no_saved_method"
    assert invoice_of(env, invoice["id"])["status"] == "issued"
