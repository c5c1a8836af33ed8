"""The root of the `podpiska` command line (Typer + Rich): it registers every area's commands
and runs them.

Imports are lazy: `podpiska quote` must answer in well under half a second. Bad input exits
with code 2 and one line naming the problem; nobody sees a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from podpiska.entrypoints.cli import (
    accounting,
    accounts,
    apps,
    bank,
    catalog,
    documents,
    invoice_actions,
    invoicing,
    licenses,
    migrations,
    notifications,
    ops,
    payments,
    subscriptions,
)
from podpiska.entrypoints.cli.common import invoke

if TYPE_CHECKING:
    from podpiska.entrypoints.context import Context

app = typer.Typer(
    name="podpiska",
    help="Podpiska: subscription licensing and billing. Подписки, счета, продления.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# The order of `podpiska --help`: the commands, then the groups.
app.command()(catalog.quote)
app.command()(ops.serve)
app.command()(ops.version)
app.command()(ops.init)
app.command()(notifications.mailbox)
app.command()(ops.worker)
app.command()(subscriptions.change)
app.command()(invoicing.refund)
app.command("credit-note")(invoicing.credit_note)
app.command()(documents.reconciliation)
app.command("sales-ledger")(accounting.sales_ledger)
app.command("export-1c")(accounting.export_1c)
app.command("edo-export")(accounting.edo_export)
app.add_typer(catalog.catalog_app, name="catalog")
app.add_typer(subscriptions.lifecycle_app, name="lifecycle")
app.add_typer(accounts.apikey_app, name="apikey")
app.add_typer(ops.db_app, name="db")
app.add_typer(notifications.deliveries_app, name="deliveries")
app.add_typer(notifications.webhook_app, name="webhook")
app.add_typer(accounts.people_app, name="people")
app.add_typer(invoicing.ledger_app, name="ledger")
app.add_typer(invoice_actions.invoice_app, name="invoice")
app.add_typer(bank.bank_app, name="bank")
app.add_typer(payments.payments_app, name="payments")
app.add_typer(apps.apps_app, name="apps")
app.add_typer(documents.document_app, name="document")
app.add_typer(licenses.license_app, name="license")
app.add_typer(migrations.migration_app, name="migration")


def run(context: Context, argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Bad input: code 2 and one line on stderr."""
    return invoke(app, context, argv)
