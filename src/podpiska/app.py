"""The one place that wires concrete adapters to the entry points."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session, sessionmaker

    from podpiska.config import Settings
    from podpiska.entrypoints.context import Context, Ports
    from podpiska.ports import Clock, PaymentGateway


def build_context(
    settings: Settings | None = None,
    clock: Clock | None = None,
    ports: Ports | None = None,
) -> Context:
    from podpiska.adapters.clock import SystemClock
    from podpiska.config import load_settings
    from podpiska.entrypoints.context import Context

    chosen = settings or load_settings()

    def sessions() -> sessionmaker[Session]:
        from podpiska.catalog.store import TAX_SYSTEM
        from podpiska.core.db.session import make_engine, make_session_factory

        # The vendor's tax system prices every quote and invoice (`catalog.store`).
        return make_session_factory(
            make_engine(chosen.database_url), info={TAX_SYSTEM: chosen.vendor_tax_system}
        )

    def real_ports() -> Ports:
        return ports or make_ports(chosen)

    return Context(
        settings=chosen,
        clock=clock or SystemClock(),
        make_sessions=sessions,
        make_ports=real_ports,
    )


def make_ports(settings: Settings) -> Ports:
    """SMTP when configured, else the local mailbox folder; webhooks over HTTP; PDFs with
    WeasyPrint; the акт сверки's XLSX with openpyxl; the export to 1C with lxml."""
    from podpiska.adapters.enterprise_data import LxmlEnterpriseDataWriter
    from podpiska.adapters.mail import MailboxMailer, SmtpMailer, list_mailbox
    from podpiska.adapters.pdf import WeasyPrintRenderer
    from podpiska.adapters.reconciliation_xlsx import OpenpyxlReconciliationSheet
    from podpiska.adapters.sandbox import DEMO_CARD, SandboxGateway
    from podpiska.adapters.upd_xml import LxmlUpdXmlWriter
    from podpiska.adapters.webhooks import HttpWebhookSender
    from podpiska.entrypoints.context import Ports
    from podpiska.ports import Mailer

    mailer: Mailer
    list_mail = None
    if settings.smtp_host:
        mailer = SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_tls,
            settings.mail_from,
        )
    else:
        mailer = MailboxMailer(settings.mailbox_dir, settings.mail_from)

        def list_mail() -> list[tuple[Path, datetime | None, str, str]]:
            return list_mailbox(settings.mailbox_dir)

    gateway = make_gateway(settings)
    pay_with_test_card = None
    if isinstance(gateway, SandboxGateway):
        pay_with_test_card = partial(gateway.pay, card=DEMO_CARD)
    return Ports(
        mailer=mailer,
        webhooks=HttpWebhookSender(),
        list_mail=list_mail,
        gateway=gateway,
        renderer=WeasyPrintRenderer(),
        upd_xml=LxmlUpdXmlWriter(),
        reconciliation_sheet=OpenpyxlReconciliationSheet(),
        accounting_export=LxmlEnterpriseDataWriter(),
        pay_with_test_card=pay_with_test_card,
    )


def make_gateway(settings: Settings) -> PaymentGateway:
    """The payment provider: YooKassa when configured, else the built-in sandbox, which
    sends its webhooks to this server's own endpoint."""
    if settings.gateway == "yookassa":
        from podpiska.adapters.yookassa import YooKassaGateway

        if not (settings.yookassa_shop_id and settings.yookassa_secret_key):
            raise RuntimeError(
                "PODPISKA_YOOKASSA_SHOP_ID and PODPISKA_YOOKASSA_SECRET_KEY are needed "
                "with PODPISKA_GATEWAY=yookassa"
            )
        return YooKassaGateway(
            shop_id=settings.yookassa_shop_id,
            secret_key=settings.yookassa_secret_key,
            return_url_default=settings.public_url,
        )
    import httpx2

    from podpiska.adapters.sandbox import SandboxGateway

    def post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        with httpx2.Client(trust_env=False, timeout=10) as client:
            return client.post(url, content=body, headers=dict(headers)).status_code

    base = settings.public_url.rstrip("/")
    return SandboxGateway(
        path=settings.sandbox_dir / "gateway.db",
        base_url=base,
        secret=settings.secret_key,
        notify_url=f"{base}/api/v1/gateway/sandbox/notifications",
        post=post,
    )


def mount_gateway_pages(app: FastAPI, context: Context) -> None:
    """The sandbox's checkout and 3-D Secure pages, when the sandbox is the gateway (never
    in production, whose settings refuse the sandbox anyway)."""
    from podpiska.adapters.sandbox import SandboxGateway
    from podpiska.adapters.sandbox_web import sandbox_router

    if context.settings.env == "production":
        return
    try:
        gateway = context.ports.gateway
    except RuntimeError:  # a context without ports (some tests)
        return
    if isinstance(gateway, SandboxGateway):
        app.include_router(sandbox_router(gateway))


def create_app(context: Context | None = None) -> FastAPI:
    """The ASGI application (used by tests; `serve_app` is what `podpiska serve` runs)."""
    from podpiska.entrypoints.api.main import create_api

    chosen = context or build_context()
    app = create_api(chosen)
    mount_gateway_pages(app, chosen)
    mount_web(app, chosen)
    return app


def serve_app() -> FastAPI:
    """The application of `podpiska serve`: logs as configured, and with SQLite the worker
    runs inside it."""
    from podpiska.config import worker_in_process
    from podpiska.entrypoints.api.main import create_api
    from podpiska.entrypoints.observability import configure_logging
    from podpiska.entrypoints.production import unsafe_production

    context = build_context()
    refused = unsafe_production(context)
    if refused:
        sys.stderr.write(f"podpiska: {refused}\n")
        raise SystemExit(2)
    configure_logging(context.settings.log_format)
    context.run_worker = worker_in_process(context.settings)
    app = create_api(context)
    mount_gateway_pages(app, context)
    mount_web(app, context)
    start_sandbox_webhooks(context)
    return app


def mount_web(app: FastAPI, context: Context) -> None:
    """The web application (portal and back office) at "/", after every other route: the
    API's routes match first and never pass through the web's sessions or CSRF check."""
    from podpiska.entrypoints.web.main import web_mount

    app.router.routes.append(web_mount(context))


def start_sandbox_webhooks(context: Context) -> None:
    """The sandbox, like a real provider, sends its webhooks on its own, a moment later."""
    import threading

    from podpiska.adapters.sandbox import SandboxGateway

    gateway = context.ports.gateway
    if not isinstance(gateway, SandboxGateway):
        return

    def pump() -> None:
        import time

        while True:
            time.sleep(1)
            try:
                gateway.deliver_notifications()
            except Exception:
                continue

    threading.Thread(target=pump, name="sandbox-webhooks", daemon=True).start()


def main() -> None:
    """The `podpiska` console script."""
    from pydantic import ValidationError

    from podpiska.entrypoints.cli.main import run

    try:
        context = build_context()
    except ValidationError as exc:  # settings that cannot be used are bad input too
        error = exc.errors(include_url=False)[0]
        if error["loc"]:
            name = "PODPISKA_" + "_".join(str(part) for part in error["loc"]).upper()
            line = f"{name}: {error['msg']}, got {error['input']!r}"
        else:  # a rule across settings: its message names them
            line = error["msg"].removeprefix("Value error, ")
        sys.stderr.write(f"podpiska: {line}\n")
        raise SystemExit(2) from None
    raise SystemExit(run(context))
