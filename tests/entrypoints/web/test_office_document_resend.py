"""The back office sending a closing document again by e-mail with its PDF
(`office/document_actions.py`) through TestClient on SQLite and PostgreSQL: from the
account page's documents and from a row of `/office/documents`, by an operator (money-
neutral); the event `document.resent` with its one e-mail delivery, the PDF attached when
the worker runs, the audit row naming the operator; refusals in words, nothing written."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.models import Account
from podpiska.core.models import AuditEntry, OutboxEvent
from podpiska.invoicing.models import Closing
from podpiska.notifications import fanout as notifications
from podpiska.notifications.models import Delivery
from podpiska.ports import EmailMessage
from tests.entrypoints.api.test_notices import FakeMailer, NoWebhooks
from tests.entrypoints.web.conftest import (
    CUSTOMER,
    VENDOR_OPERATOR,
    client_log_in,
    csrf_of,
)
from tests.entrypoints.web.test_office_ops import _ctx
from tests.invoicing.test_documents import SELLER, CountingRenderer

OPERATOR_ACTOR = f"web:{VENDOR_OPERATOR.email}"


def _a_closing(client: TestClient) -> tuple[Closing, Account]:
    """The demo's first УПД (its month-end runs made some) and its account."""
    with _ctx(client).session() as db, db.begin():
        closing = db.scalars(select(Closing).order_by(Closing.id)).first()
        assert closing is not None, "the demo has a УПД"
        account = db.get(Account, closing.account_id)
        assert account is not None
        db.expunge_all()
        return closing, account


def _resent(client: TestClient) -> list[tuple[OutboxEvent, list[Delivery]]]:
    with _ctx(client).session() as db, db.begin():
        events = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "document.resent")))
        found = [
            (e, list(db.scalars(select(Delivery).where(Delivery.event_id == e.id)))) for e in events
        ]
        db.expunge_all()
        return found


def _worker_mails(client: TestClient) -> list[EmailMessage]:
    """What a worker sends now of `document.resent` (the mailer and renderer are fakes)."""
    ctx = _ctx(client)
    with ctx.session() as db:
        while notifications.fan_out(db, clock=ctx.clock):
            pass
    mailer = FakeMailer()
    notifications.deliver_due(
        ctx.sessions,
        mailer=mailer,
        webhooks=NoWebhooks(),
        clock=ctx.clock,
        limit=10000,
        renderer=CountingRenderer(),
        seller=SELLER,
    )
    return [m for m in mailer.sent if m.headers["X-Podpiska-Event"] == "document.resent"]


def test_an_operator_resends_a_upd_from_the_account_page(client: TestClient) -> None:
    closing, account = _a_closing(client)
    client_log_in(client, VENDOR_OPERATOR)
    page = client.get(f"/office/accounts/{account.id}")
    assert page.status_code == 200
    assert 'data-testid="account-documents"' in page.text
    action = f"/office/documents/upd/{closing.id}/resend"
    assert f'action="{action}"' in page.text
    token = csrf_of(page.text)
    back = f"/office/accounts/{account.id}#documents"
    form = {"csrf_token": token, "account_id": str(account.id), "back": back}
    assert client.post(action, data={**form, "csrf_token": ""}).status_code == 403
    done = client.post(action, data=form)
    assert done.status_code == 303 and done.headers["location"] == back
    after = client.get(done.headers["location"]).text
    assert f"будет повторно отправлен на {account.admin_email}" in after
    [(event, deliveries)] = _resent(client)
    assert event.account_id == account.id and event.fanned_out
    assert (event.payload or {})["kind"] == "upd"
    assert (event.payload or {})["number"] == closing.number
    assert [(d.channel, d.target) for d in deliveries] == [("email", account.admin_email)]
    with _ctx(client).session() as db, db.begin():
        audited = db.scalars(select(AuditEntry).where(AuditEntry.action == "document.resent")).one()
        assert audited.actor == OPERATOR_ACTOR and audited.account_id == account.id
    # the timeline says it in words
    assert (
        f"Документ {closing.number} (УПД) повторно отправлен"
        in client.get(f"/office/accounts/{account.id}").text
    )
    [mail] = _worker_mails(client)
    assert mail.to == account.admin_email and closing.number in mail.subject
    assert [a.content_type for a in mail.attachments] == ["application/pdf"]
    assert mail.attachments[0].filename == f"{closing.number}.pdf"


def test_a_document_is_resent_from_the_months_list_to_another_address(
    client: TestClient,
) -> None:
    closing, _ = _a_closing(client)
    client_log_in(client, VENDOR_OPERATOR)
    month = closing.issued_on.strftime("%Y-%m")
    page = client.get(f"/office/documents?month={month}")
    action = f"/office/documents/upd/{closing.id}/resend"
    assert f'action="{action}"' in page.text
    back = f"/office/documents?month={month}"
    done = client.post(
        action, data={"csrf_token": csrf_of(page.text), "email": "buh@example.ru", "back": back}
    )
    assert done.status_code == 303 and done.headers["location"] == back
    [(_, deliveries)] = _resent(client)
    assert [d.target for d in deliveries] == ["buh@example.ru"]
    [mail] = _worker_mails(client)
    assert mail.to == "buh@example.ru" and mail.attachments


def test_a_resend_is_refused_in_words_and_nothing_is_written(client: TestClient) -> None:
    closing, account = _a_closing(client)
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get(f"/office/accounts/{account.id}").text)
    action = f"/office/documents/upd/{closing.id}/resend"
    back = f"/office/accounts/{account.id}#documents"
    bad = client.post(action, data={"csrf_token": token, "email": "not an address", "back": back})
    assert bad.status_code == 303
    assert "e-mail" in client.get(bad.headers["location"]).text.lower()
    # another account's page: its form cannot send this account's document
    with _ctx(client).session() as db, db.begin():
        other = db.scalar(select(func.min(Account.id)).where(Account.id != account.id))
    assert other is not None
    theirs = client.post(action, data={"csrf_token": token, "account_id": str(other)})
    assert theirs.status_code == 404
    assert (
        client.post("/office/documents/upd/999999/resend", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/office/documents/invoice/{closing.id}/resend", data={"csrf_token": token}
        ).status_code
        == 404
    )
    # a redirect elsewhere is not followed
    away = client.post(action, data={"csrf_token": token, "email": "x@", "back": "https://evil"})
    assert away.headers["location"] == "/office/documents"
    assert _resent(client) == []
    client.cookies.clear()
    client_log_in(client, CUSTOMER)
    customer_token = csrf_of(client.get("/portal/1").text)
    assert client.post(action, data={"csrf_token": customer_token}).status_code == 404
    assert _resent(client) == []


def _written(client: TestClient) -> tuple[int, int, int]:
    """What a resend writes: its events, their deliveries, its audit rows."""
    with _ctx(client).session() as db, db.begin():
        events = select(OutboxEvent.id).where(OutboxEvent.type == "document.resent")
        return (
            db.scalar(select(func.count()).select_from(events.subquery())) or 0,
            db.scalar(select(func.count()).where(Delivery.event_id.in_(events))) or 0,
            db.scalar(select(func.count()).where(AuditEntry.action == "document.resent")) or 0,
        )


@pytest.mark.parametrize("typed", ["1_2", "١٢", "-1", "0", "99999999999999999999", "x"])
def test_a_malformed_account_id_is_422_in_words_and_nothing_sent(
    client: TestClient, typed: str
) -> None:
    """The form's account id read strictly (`form_ids`): malformed is 422 with the reason,
    nothing written (it was a 404 as if not found); a well-formed id of no account stays
    404, and blank is the documents list's form (no account)."""
    closing, account = _a_closing(client)
    client_log_in(client, VENDOR_OPERATOR)
    token = csrf_of(client.get(f"/office/accounts/{account.id}").text)
    action = f"/office/documents/upd/{closing.id}/resend"
    back = f"/office/accounts/{account.id}#documents"
    before = _written(client)
    bad = client.post(action, data={"csrf_token": token, "account_id": typed, "back": back})
    assert bad.status_code == 422
    assert "В форме неверный номер аккаунта" in html.unescape(bad.text)
    assert _written(client) == before
    unknown = client.post(action, data={"csrf_token": token, "account_id": "999999"})
    assert unknown.status_code == 404
    assert _written(client) == before
