"""`podpiska payments`: saved methods (with their consent), removing one, and collecting
(autopay, reconciliation, refunds) by hand. SQLite and PostgreSQL, the sandbox gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podpiska.accounts import accounts
from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context
from podpiska.config import Settings
from podpiska.entrypoints.context import Context
from podpiska.payments.checkout import start_checkout
from podpiska.subscriptions import billing
from podpiska.subscriptions.catalogs import load_catalog_document
from tests.entrypoints.cli.test_admin import bad_input, ok
from tests.entrypoints.conftest import CRM_SHOP, NOON_IN_MOSCOW


@pytest.fixture
def context(db_url: str, tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=CRM_SHOP,
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
        sandbox_dir=tmp_path / "sandbox",
        log_format="text",
    )
    made = build_context(settings=settings, clock=FixedClock(NOON_IN_MOSCOW))
    with made.session() as db:
        load_catalog_document(db, path=CRM_SHOP, actor="test", clock=made.clock)
    yield made
    made.sessions.kw["bind"].dispose()


def test_saved_methods_and_their_removal(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = context.ports.gateway
    assert gateway is not None and gateway.name == "sandbox"
    with context.session() as db:
        account = accounts.open_account(
            db, name="ООО «Ромашка»", admin_email="a@romashka.ru", actor="t", clock=context.clock
        )
        ordered = billing.order_subscription(
            db, account_id=account.id, plan="basic", months=12, actor="t", clock=context.clock
        )
        key, _ = create_api_key(
            db, role="account_admin", account_id=account.id, actor="t", clock=context.clock
        )
        attempt = start_checkout(
            db, gateway, invoice_id=ordered.invoice.id, method_type="bank_card",
            save_method=True, consent_accepted=True, return_url=None,
            actor=f"apikey:{key.prefix}", clock=context.clock,
        )  # fmt: skip
    assert attempt.external_id is not None
    gateway.pay(attempt.external_id, card="2200000000000004")  # type: ignore[attr-defined]
    # The webhook is not delivered here: `payments collect` reconciles it (later).
    assert isinstance(context.clock, FixedClock)
    context.clock.instant = NOON_IN_MOSCOW.replace(hour=13)
    out = ok(context, capsys, "payments", "collect")
    assert "1 attempts reconciled" in out

    listed = json.loads(ok(context, capsys, "payments", "methods", str(account.id), "--json"))
    assert [(m["title"], m["status"]) for m in listed] == [("Mir *0004", "active")]
    assert "автоплатёж" in listed[0]["consent_text"]
    assert "Mir *0004" in ok(context, capsys, "payments", "methods", str(account.id))
    out = ok(context, capsys, "payments", "remove-method", str(account.id), str(listed[0]["id"]))
    assert "removed" in out
    line = bad_input(context, capsys, "payments", "remove-method", str(account.id), "999")
    assert "999" in line
