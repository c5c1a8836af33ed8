"""A client generated from `/openapi.json` (openapi-python-generator, offline, with the two
templates in `client_templates/` that keep a refusal's JSON body on its exception) drives a
subscription's life against the running API: open, order, pay, a 409 read by its code
through the generated `ErrorOut`, a mid-term change, a renewal, the account's events page
by page; and a webhook body the worker would send is read by the generated webhook model.

Every answer must come back as a generated model, never a dict: an operation left without
a response model (the generator returns `Any`), or an error shape left out, fails here."""

from __future__ import annotations

import importlib
import inspect
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
import uvicorn
from sqlalchemy import select

from podpiska.accounts.apikeys import create_api_key
from podpiska.adapters.clock import FixedClock
from podpiska.app import build_context, create_app
from podpiska.config import Settings
from podpiska.core.models import OutboxEvent
from podpiska.entrypoints.context import Context
from podpiska.notifications.messages import webhook_body
from podpiska.subscriptions.catalogs import load_catalog_document
from podpiska.subscriptions.models import Subscription

PROJECT = Path(__file__).resolve().parents[3]
TEMPLATES = Path(__file__).resolve().parent / "client_templates"
GENERATOR = Path(sys.executable).parent / "openapi-python-generator"
START = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
PACKAGE = "podpiska_generated_client"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Context, FixedClock]]:
    """The API served by uvicorn on a free local port: its URL, a vendor key, the context."""
    settings = Settings(
        env="test",
        database_url=db_url,
        catalog=PROJECT / "catalogs" / "crm-shop.yaml",
        cache_dir=tmp_path / "cache",
        mailbox_dir=tmp_path / "mail",
    )
    clock = FixedClock(START)
    context = build_context(settings=settings, clock=clock)
    with context.session() as db:
        load_catalog_document(db, path=settings.catalog, actor="test", clock=clock)
        _, key = create_api_key(db, role="vendor_admin", actor="test", clock=clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", key, context, clock
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _generate(base: str, tmp_path: Path) -> Any:
    """Generate the client from the served document into tmp_path and import it."""
    document = httpx2.get(f"{base}/openapi.json", timeout=30)
    assert document.status_code == 200
    source = tmp_path / "openapi.json"
    source.write_bytes(document.content)
    assert GENERATOR.is_file(), f"{GENERATOR}: `make install` puts it in the venv (dev extra)"
    made = subprocess.run(
        [
            str(GENERATOR),
            str(source),
            str(tmp_path / PACKAGE),
            "--library",
            "httpx",
            "--formatter",
            "none",
            "--custom-template-path",
            str(TEMPLATES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "Error" not in made.stdout + made.stderr, made.stdout + made.stderr
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))


def _services(client: Any) -> dict[str, Any]:
    found = {}
    for path in sorted((Path(client.__file__).parent / "services").glob("*_service.py")):
        if path.stem.startswith("async_"):
            continue
        found[path.stem] = importlib.import_module(f"{PACKAGE}.services.{path.stem}")
    return found


def test_a_generated_client_drives_a_subscription(
    served: tuple[str, str, Context, FixedClock], tmp_path: Path
) -> None:
    base, key, context, clock = served
    client = _generate(base, tmp_path)
    models = importlib.import_module(f"{PACKAGE}.models")
    config_module = importlib.import_module(f"{PACKAGE}.api_config")
    services = _services(client)

    # Every operation answers a generated model (or a file's bytes, or nothing): none Any.
    untyped = [
        f"{stem}.{name}"
        for stem, module in services.items()
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and inspect.signature(function).return_annotation in ("Any", Any)
    ]
    assert untyped == []
    assert {"ErrorOut", "ErrorBody", "InvoicePaidWebhook", "InvoicePaid"} <= set(dir(models))

    config = config_module.APIConfig(base_path=base, access_token=key)
    accounts = services["accounts_service"]
    billing = services["billing_service"]
    changes = services["changes_service"]

    opened = accounts.open_account_api_v1_accounts_post(
        config, data=models.AccountIn(name="ООО «Ромашка»", admin_email="admin@romashka.ru")
    )
    assert isinstance(opened, models.AccountOut)
    account = opened.id

    ordered = billing.order_api_v1_accounts__account_id__subscriptions_post(
        config, account_id=account, data=models.SubscriptionIn(plan="standard", months=12)
    )
    assert isinstance(ordered, models.OrderOut)
    assert isinstance(ordered.invoice, models.InvoiceOut)
    assert ordered.subscription.status == "pending"
    assert ordered.invoice.total == "43092.00"

    paid = billing.pay_api_v1_invoices__invoice_id__payments_post(
        config,
        invoice_id=ordered.invoice.id,
        data=models.PaymentIn(amount=ordered.invoice.total, method="bank_transfer"),
    )
    assert isinstance(paid, models.PaidOut)
    assert isinstance(paid.payment, models.PaymentOut)
    assert paid.subscription.status == "active"
    assert paid.subscription.paid_through == "2027-11-21"

    # A refusal: too early to renew. 409, decided by its code, read by the generated model.
    with pytest.raises(config_module.HTTPException) as refused:
        billing.renew_api_v1_accounts__account_id__renewals_post(
            config, account_id=account, data=models.RenewalIn(months=12)
        )
    assert refused.value.status_code == 409
    error = models.ErrorOut.model_validate(refused.value.body)
    assert isinstance(error.error, models.ErrorBody)
    assert error.error.code == "renewal_too_early"
    assert error.error.details["paid_through"] == "2027-11-21"

    # A mid-term upgrade: the preview, its commit by token, its invoice paid.
    clock.instant = START + timedelta(days=242)
    subscription_id = paid.subscription.id
    preview = changes.change_api_v1_subscriptions__subscription_id__changes_post(
        config,
        subscription_id=subscription_id,
        data=models.ChangeIn(kind="plan", plan="professional"),
    )
    assert isinstance(preview, models.ChangeOut)
    assert preview.amount_due == "14557.81"
    assert preview.token
    done = changes.change_api_v1_subscriptions__subscription_id__changes_post(
        config,
        subscription_id=subscription_id,
        data=models.ChangeIn(kind="plan", plan="professional", preview=False, token=preview.token),
    )
    assert isinstance(done.change, models.ChangeRecordOut)
    assert done.change.status == "pending"
    upgraded = billing.pay_api_v1_invoices__invoice_id__payments_post(
        config,
        invoice_id=done.invoice.id,
        data=models.PaymentIn(amount=done.invoice.total, method="bank_transfer"),
    )
    assert upgraded.subscription.plan == "professional"

    # The renewal, once its window is open, paid.
    clock.instant = datetime(2027, 11, 1, 10, 0, tzinfo=START.tzinfo)
    renewal = billing.renew_api_v1_accounts__account_id__renewals_post(
        config, account_id=account, data=models.RenewalIn(months=12)
    )
    assert isinstance(renewal, models.InvoiceOut)
    renewed = billing.pay_api_v1_invoices__invoice_id__payments_post(
        config,
        invoice_id=renewal.id,
        data=models.PaymentIn(amount=renewal.total, method="bank_transfer"),
    )
    assert renewed.subscription.paid_through == "2028-11-21"

    # The account's events, three a page, each page's `next_after` passed as `after`.
    seen: list[str] = []
    after = 0
    pages = 0
    while True:
        page = accounts.events_api_v1_accounts__account_id__events_get(
            config, account_id=account, after=after, limit=3
        )
        assert isinstance(page, models.EventPage)
        assert all(isinstance(e, models.EventOut) for e in page.data)
        assert len(page.data) <= 3
        seen += [e.type for e in page.data]
        pages += 1
        if not page.has_more:
            break
        assert page.next_after is not None
        after = page.next_after
    assert pages > 2
    for kind in ("subscription.ordered", "subscription.activated", "subscription.renewed"):
        assert kind in seen
    assert seen.index("subscription.activated") < seen.index("subscription.renewed")

    # A webhook as the worker would send it, read by the generated model of its type.
    with context.session() as db, db.begin():
        event = db.scalars(
            select(OutboxEvent).where(
                OutboxEvent.account_id == account, OutboxEvent.type == "invoice.paid"
            )
        ).first()
        assert event is not None
        body = webhook_body(event, db.get(Subscription, event.subscription_id))
    hook = models.InvoicePaidWebhook.model_validate_json(body)
    assert isinstance(hook.data, models.InvoicePaid)
    assert hook.data.number == ordered.invoice.number
    assert hook.data.total == "43092.00"
