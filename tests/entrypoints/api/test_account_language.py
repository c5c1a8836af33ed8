"""The language of an account's e-mails through the API, on SQLite and on PostgreSQL: set
when the account is opened, changed with `PATCH /accounts/{id}`, and used by the worker for
every e-mail to the account (a `ru` and an `en` account in the same fan-out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from podpiska.accounts.apikeys import create_api_key
from podpiska.accounts.models import Account
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.models import AuditEntry
from podpiska.entrypoints.context import Context
from podpiska.notifications import fanout as notifications
from podpiska.ports import EmailMessage, WebhookRequest, WebhookResponse
from podpiska.subscriptions.catalogs import load_catalog_document

PROJECT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))

Api = tuple[TestClient, Context, dict[str, str]]


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Api:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=PROJECT / "catalogs" / "crm-shop.yaml",
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
    )
    context = build_context(settings=settings, clock=FixedClock(START))
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test", clock=context.clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=context.clock)
    return TestClient(create_app(context)), context, {"Authorization": f"Bearer {key}"}


@dataclass
class FakeMailer:
    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class NoWebhooks:
    def post(self, request: WebhookRequest, *, timeout_seconds: int) -> WebhookResponse:
        raise AssertionError("no webhook endpoint was added")


def _open(client: TestClient, auth: dict[str, str], **body: str) -> dict[str, object]:
    response = client.post("/api/v1/accounts", json=body, headers=auth)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def _language_in_db(context: Context, account_id: int) -> str:
    with context.session() as db, db.begin():
        return db.get_one(Account, account_id).language


def _audits(context: Context, action: str) -> int:
    with context.session() as db, db.begin():
        return (
            db.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def test_each_account_gets_its_emails_in_its_own_language(api: Api) -> None:
    client, context, auth = api
    english = _open(client, auth, name="Daisy Ltd", admin_email="en@daisy.example", language="en")
    russian = _open(client, auth, name="ООО Ромашка", admin_email="ru@romashka.example")
    assert english["language"] == "en"
    assert russian["language"] == "ru"  # the default
    for account in (english, russian):
        ordered = client.post(
            f"/api/v1/accounts/{account['id']}/subscriptions",
            json={"plan": "standard", "months": 12},
            headers=auth,
        )
        assert ordered.status_code == 201, ordered.text

    mailer = FakeMailer()
    with context.session() as db:
        assert notifications.fan_out(db, clock=context.clock) >= 4
    stats = notifications.deliver_due(
        context.sessions, mailer=mailer, webhooks=NoWebhooks(), clock=context.clock, lang="ru"
    )
    assert stats.dead == 0
    by_address: dict[str, list[EmailMessage]] = {}
    for message in mailer.sent:
        by_address.setdefault(message.to, []).append(message)
    invoices = {
        to: next(m for m in messages if m.headers["X-Podpiska-Event"] == "invoice.issued")
        for to, messages in by_address.items()
    }
    assert invoices["en@daisy.example"].subject.startswith("Invoice No. 2026-")
    assert invoices["en@daisy.example"].text.startswith("Hello,")
    assert "Please pay it by" in invoices["en@daisy.example"].text
    assert invoices["ru@romashka.example"].subject.startswith("Счёт №")
    assert invoices["ru@romashka.example"].text.startswith("Здравствуйте!")
    for message in by_address["en@daisy.example"]:
        assert "Здравствуйте" not in message.text
    for message in by_address["ru@romashka.example"]:
        assert "Hello," not in message.text


def test_the_language_is_changed_with_patch_and_audited(api: Api) -> None:
    client, context, auth = api
    account = _open(client, auth, name="Daisy Ltd", admin_email="a@daisy.example")
    account_id = int(str(account["id"]))

    changed = client.patch(f"/api/v1/accounts/{account_id}", json={"language": "en"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "en"
    assert _language_in_db(context, account_id) == "en"
    assert _audits(context, "account.language_changed") == 1
    assert client.get(f"/api/v1/accounts/{account_id}", headers=auth).json()["language"] == "en"

    # The account's own administrator may change it back.
    with context.session() as db:
        _, key = create_api_key(
            db, role="account_admin", account_id=account_id, actor="test", clock=context.clock
        )
    own = {"Authorization": f"Bearer {key}"}
    back = client.patch(f"/api/v1/accounts/{account_id}", json={"language": "ru"}, headers=own)
    assert back.status_code == 200, back.text
    assert _language_in_db(context, account_id) == "ru"
    assert _audits(context, "account.language_changed") == 2


def test_an_unknown_language_is_422_and_writes_nothing(api: Api) -> None:
    client, context, auth = api
    refused = client.post(
        "/api/v1/accounts",
        json={"name": "X", "admin_email": "x@x.example", "language": "fr"},
        headers=auth,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("invalid_field", "language")
    with context.session() as db, db.begin():
        assert db.scalar(select(func.count()).select_from(Account)) == 0

    account_id = int(str(_open(client, auth, name="X", admin_email="x@x.example")["id"]))
    bad = client.patch(f"/api/v1/accounts/{account_id}", json={"language": "de"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_field"
    assert _language_in_db(context, account_id) == "ru"
    assert _audits(context, "account.language_changed") == 0


def test_another_accounts_admin_cannot_change_it(api: Api) -> None:
    client, context, auth = api
    first = int(str(_open(client, auth, name="A", admin_email="a@a.example")["id"]))
    second = int(str(_open(client, auth, name="B", admin_email="b@b.example")["id"]))
    with context.session() as db:
        _, key = create_api_key(
            db, role="account_admin", account_id=first, actor="test", clock=context.clock
        )
    other = client.patch(
        f"/api/v1/accounts/{second}",
        json={"language": "en"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    assert _language_in_db(context, second) == "ru"
    assert _audits(context, "account.language_changed") == 0
