"""`podpiska bank`: 1C bank statements, their matching and the review queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from podpiska.entrypoints.cli.common import (
    CLI_ACTOR,
    BadInput,
    choose_language,
    context_of,
    echo_json,
)

bank_app = typer.Typer(
    help="Bank statements (1C exchange format) and their payments.", no_args_is_help=True
)


@bank_app.command("import")
def bank_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The statement (1CClientBankExchange).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Import a statement: match each incoming payment to its invoice; what cannot be
    matched waits in `podpiska bank review`; payments from our accounts are counted, not
    imported; each account's totals are checked. Importing the same file again changes
    nothing."""
    from decimal import Decimal

    from rich.console import Console
    from rich.table import Table

    from podpiska.config import our_bank_accounts
    from podpiska.core.domain.money import format_amount
    from podpiska.payments.bank.importing import import_statement

    language = choose_language(ctx, lang)
    context = context_of(ctx)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror or exc}") from None
    with context.session() as db:
        report = import_statement(
            db,
            data=data,
            source=file.name,
            our_accounts=our_bank_accounts(context.settings),
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    if as_json:
        echo_json(report.summary())
        return
    texts = _BANK_IMPORT_TEXTS[language]

    def amount(value: str | None) -> str:
        return "—" if value is None else format_amount(Decimal(value), language)

    table = Table(
        title=texts["title"].format(source=file.name, documents=report.documents),
        title_justify="left",
    )
    table.add_column(texts["result"])
    table.add_column(texts["payments"], justify="right")
    table.add_column(texts["amount"], justify="right", no_wrap=True)
    for key in ("paid", "partial", "overpaid", "unmatched"):
        table.add_row(
            texts[key], str(report.counts.get(key, 0)), amount(report.amount.get(key, "0.00"))
        )
    table.add_row(texts["already_imported"], str(report.already_imported), "")
    if report.outgoing:
        table.add_row(texts["outgoing"], str(report.outgoing), amount(report.outgoing_amount))
    if report.not_ours:
        table.add_row(texts["not_ours"], str(report.not_ours), amount(report.not_ours_amount))
    console = Console(highlight=False)
    console.print(table)
    if report.accounts:
        accounts = Table(title=texts["accounts"], title_justify="left")
        for key in ("account", "opening", "received", "debited", "closing"):
            accounts.add_column(
                texts[key], justify="left" if key == "account" else "right", no_wrap=True
            )
        for totals in report.accounts:
            accounts.add_row(
                totals.account,
                amount(totals.opening),
                amount(totals.received),
                amount(totals.debited),
                amount(totals.closing),
            )
        console.print(accounts)


# The summary of `bank import`, in the language of the command (`--lang`, else the setting).
_BANK_IMPORT_TEXTS = {
    "ru": {
        "title": "{source}: документов {documents}",
        "result": "результат",
        "payments": "платежей",
        "amount": "сумма",
        "paid": "оплачено полностью",
        "partial": "оплачено частично",
        "overpaid": "переплата (остаток в кредит)",
        "unmatched": "на разбор",
        "already_imported": "загружено ранее",
        "outgoing": "списания с наших счетов (не загружаются)",
        "not_ours": "не на наши счета",
        "accounts": "Счета выписки (остатки и обороты сверены с документами)",
        "account": "счёт",
        "opening": "на начало",
        "received": "поступило",
        "debited": "списано",
        "closing": "на конец",
    },
    "en": {
        "title": "{source}: {documents} documents",
        "result": "result",
        "payments": "payments",
        "amount": "amount",
        "paid": "paid in full",
        "partial": "paid in part",
        "overpaid": "overpaid (rest to credit)",
        "unmatched": "to review",
        "already_imported": "imported before",
        "outgoing": "from our accounts (not imported)",
        "not_ours": "not to our accounts",
        "accounts": "The statement's accounts (balances and totals checked against the documents)",
        "account": "account",
        "opening": "opening",
        "received": "received",
        "debited": "debited",
        "closing": "closing",
    },
}


@bank_app.command("demo-statement")
def bank_demo_statement(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
) -> None:
    """Write a 1C statement to try `bank import` with (demo databases only): the unpaid
    invoices paid by transfer, and one payment that names no invoice."""
    from podpiska.backoffice.demo import demo_statement
    from podpiska.config import our_bank_accounts

    context = context_of(ctx)
    if context.settings.env == "production":
        raise BadInput("bank demo-statement is refused in production: it makes up payments")
    with context.session() as db:
        data = demo_statement(
            db, clock=context.clock, our_accounts=our_bank_accounts(context.settings)
        )
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"{output}: {exc.strerror or exc}") from None
    typer.echo(f"{output}: a 1C statement; try: podpiska bank import {output}")


@bank_app.command("review")
def bank_review(ctx: typer.Context, limit: int = 50) -> None:
    """Payments that matched no invoice, for an operator."""
    from podpiska.payments.bank.review import review_queue

    with context_of(ctx).session() as db:
        rows = review_queue(db, limit=limit)
    if not rows:
        typer.echo("nothing to review")
    for row in rows:
        typer.echo(
            f"{row.id}  {row.day.isoformat()}  {row.amount:>12}  {row.payer_inn or '-':12}"
            f"  {row.payer[:30]:30}  {row.purpose[:60]}" + (f"  ({row.note})" if row.note else "")
        )


@bank_app.command("resolve")
def bank_resolve(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    invoice: Annotated[int, typer.Option(help="The invoice (id) it pays.")],
) -> None:
    """Assign an unmatched payment to an invoice: it is registered there."""
    from podpiska.payments.bank.review import resolve

    context = context_of(ctx)
    with context.session() as db:
        row = resolve(
            db,
            bank_payment_id=bank_payment,
            invoice_id=invoice,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"payment {row.id}: resolved to invoice {row.invoice_id}")


@bank_app.command("credit")
def bank_credit(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    account: Annotated[int, typer.Option(help="The account (id) whose credit it goes to.")],
) -> None:
    """Put an unmatched payment on an account's credit (a prepayment for no invoice in
    particular): the account's next invoices use it first."""
    from podpiska.payments.bank.review import credit_to_account

    context = context_of(ctx)
    with context.session() as db:
        row = credit_to_account(
            db, bank_payment_id=bank_payment, account_id=account, actor=CLI_ACTOR,
            clock=context.clock,
        )  # fmt: skip
    typer.echo(f"payment {row.id}: {row.amount} to the credit of account {row.account_id}")


@bank_app.command("dismiss")
def bank_dismiss(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="The payment from `bank review`.")],
    reason: Annotated[str, typer.Option(help="Why it is not ours (up to 500 characters).")],
) -> None:
    """Set an unmatched payment aside as not ours (no payment, no posting); `bank reopen`
    takes it back to the queue."""
    from podpiska.payments.bank.review import dismiss

    context = context_of(ctx)
    with context.session() as db:
        row = dismiss(
            db, bank_payment_id=bank_payment, reason=reason, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(f"payment {row.id}: not ours ({row.reason})")


@bank_app.command("reopen")
def bank_reopen(
    ctx: typer.Context,
    bank_payment: Annotated[int, typer.Argument(help="A payment set aside as not ours.")],
) -> None:
    """Take a payment set aside as not ours back to the review queue."""
    from podpiska.payments.bank.review import reopen

    context = context_of(ctx)
    with context.session() as db:
        row = reopen(db, bank_payment_id=bank_payment, actor=CLI_ACTOR, clock=context.clock)
    typer.echo(f"payment {row.id}: back in the review queue")
