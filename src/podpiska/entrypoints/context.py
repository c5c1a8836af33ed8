"""What an entry point is given by `podpiska.app`: settings, sessions and the concrete ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from podpiska.config import Settings
from podpiska.ports import (
    AccountingExportWriter,
    Clock,
    DocumentRenderer,
    Mailer,
    PaymentGateway,
    ReconciliationSheet,
    UpdXmlWriter,
    WebhookSender,
)

if TYPE_CHECKING:  # SQLAlchemy is imported only by the commands that open a database
    from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class Ports:
    mailer: Mailer
    webhooks: WebhookSender
    # The local mailbox, when mail goes to a folder: (path, date, to, subject) per message.
    list_mail: Callable[[], list[tuple[Path, datetime | None, str, str]]] | None = None
    gateway: PaymentGateway | None = None  # the payment provider (sandbox or YooKassa)
    renderer: DocumentRenderer | None = None  # PDFs of invoices, acts, credit notes
    upd_xml: UpdXmlWriter | None = None  # the УПД as the ФНС's XML file (format 5.03)
    reconciliation_sheet: ReconciliationSheet | None = None  # the акт сверки as XLSX
    accounting_export: AccountingExportWriter | None = None  # to 1C (EnterpriseData)
    # Pays a payment opened at the gateway with a test card: the sandbox only (the demo's
    # customers who pay by card and keep it for autopay); None with a real gateway.
    pay_with_test_card: Callable[[str], str] | None = None


def _none() -> sessionmaker[Session]:
    raise RuntimeError("this context has no database")


def _no_ports() -> Ports:
    raise RuntimeError("this context has no mail or webhook adapters")


@dataclass
class Context:
    settings: Settings
    clock: Clock
    # Built on first use, so that a command that needs no database opens none.
    make_sessions: Callable[[], sessionmaker[Session]] = field(repr=False, default=_none)
    make_ports: Callable[[], Ports] = field(repr=False, default=_no_ports)
    run_worker: bool = False  # `podpiska serve` with SQLite: the worker runs in-process

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return self.make_sessions()

    @cached_property
    def ports(self) -> Ports:
        return self.make_ports()

    def session(self) -> Session:
        return self.sessions()
