"""A closing document sent again by e-mail with its PDF (`POST
/api/v1/documents/{kind}/{source_id}/resend`) on SQLite and PostgreSQL, the mailbox and the
PDF renderer the fakes at the ports: the event `document.resent` in the feed (never a
webhook), one e-mail delivery, the PDF attached when the worker runs; refusals by code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.notifications.models import Delivery
from tests.entrypoints.api.test_credit_notes import pay
from tests.entrypoints.api.test_invoice_actions import _send_mail
from tests.entrypoints.api.test_payments import (  # noqa: F401 - the env fixture
    Env,
    customer_auth,
    env,
    open_and_order,
)


def _credit_note(env: Env) -> tuple[int, dict[str, Any]]:  # noqa: F811
    """An account with a paid order and a credit note on it."""
    account, invoice = open_and_order(env)
    pay(env, invoice)
    note = env.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", {"reason": "возврат"})
    assert note.status_code == 201, note.text
    body: dict[str, Any] = note.json()
    return account, body


def test_a_credit_note_is_mailed_again_with_its_pdf(env: Env) -> None:  # noqa: F811
    account, note = _credit_note(env)
    [first] = [m for m in _send_mail(env) if m.headers["X-Podpiska-Event"] == "credit_note.issued"]
    url = f"/api/v1/documents/credit_note/{note['id']}/resend"
    sent = env.post(url, {})
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert (body["kind"], body["source_id"], body["email"], body["status"]) == (
        "credit_note",
        note["id"],
        "admin@romashka.ru",
        "pending",
    )
    assert body["number"] == note["number"]
    # the account's own key may too, to another address
    own = env.client.post(
        url, json={"email": "buh@romashka.ru"}, headers=customer_auth(env, account)
    )
    assert own.status_code == 202, own.text
    bad = env.post(url, {"email": "not an address"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_field"

    new = _send_mail(env)
    assert sorted(m.to for m in new) == ["admin@romashka.ru", "buh@romashka.ru"]
    for message in new:  # its own words, with the credit note's PDF
        assert message.headers["X-Podpiska-Event"] == "document.resent"
        assert note["number"] in message.subject and "Корректировочный документ" in message.subject
        assert "None" not in message.subject + message.text
        assert [a.filename for a in message.attachments] == [a.filename for a in first.attachments]
        assert message.attachments[0].filename.endswith(".pdf")
        assert message.attachments[0].content_type == "application/pdf"
    with env.context.session() as db, db.begin():
        events = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "document.resent")))
        assert len(events) == 2 and all(e.fanned_out for e in events)
        channels = db.scalars(
            select(Delivery.channel).where(Delivery.event_id.in_([e.id for e in events]))
        ).all()
        assert channels == ["email", "email"]  # one e-mail each, never a webhook
        audited = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "document.resent")))
        assert len(audited) == 2 and {a.account_id for a in audited} == {account}
    feed = env.get("/api/v1/events?type=document.resent&limit=100")
    assert feed.status_code == 200, feed.text
    assert [e["data"]["email"] for e in feed.json()["data"]] == [
        "admin@romashka.ru",
        "buh@romashka.ru",
    ]


def test_a_document_resend_is_refused_by_its_code(env: Env) -> None:  # noqa: F811
    _, note = _credit_note(env)
    other, _ = open_and_order(env)
    # another account's key: as if the document did not exist
    theirs = env.client.post(
        f"/api/v1/documents/credit_note/{note['id']}/resend",
        json={},
        headers=customer_auth(env, other),
    )
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    unknown = env.post("/api/v1/documents/credit_note/999999/resend", {})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    # an act of an order whose service period is not over: no act yet, said why
    no_act = env.post(f"/api/v1/documents/act/{note['invoice_id']}/resend", {})
    assert no_act.status_code == 404, no_act.text
    assert no_act.json()["error"]["code"] == "document_not_found"
    kind = env.post(f"/api/v1/documents/invoice/{note['invoice_id']}/resend", {})
    assert kind.status_code == 422
    bad_id = env.post("/api/v1/documents/credit_note/abc/resend", {})
    assert bad_id.status_code == 422
    too_long = env.post(
        f"/api/v1/documents/credit_note/{note['id']}/resend", {"email": "a" * 400 + "@x.ru"}
    )
    assert too_long.status_code == 422
    with env.context.session() as db, db.begin():
        assert (
            db.scalars(select(OutboxEvent).where(OutboxEvent.type == "document.resent")).all() == []
        )
        assert (
            db.scalars(select(AuditEntry).where(AuditEntry.action == "document.resent")).all() == []
        )
