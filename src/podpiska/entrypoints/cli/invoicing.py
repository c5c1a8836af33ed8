"""`podpiska ledger`, `refund`, `credit-note` and `document`: the journal, corrections
of paid invoices, and the PDFs of invoices, acts and credit notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from podpiska.core.domain.money import AmountFormatError, parse_money
from podpiska.entrypoints.cli.common import CLI_ACTOR, BadInput, context_of

ledger_app = typer.Typer(help="The double-entry journal.", no_args_is_help=True)


@ledger_app.command("verify")
def ledger_verify(ctx: typer.Context) -> None:
    """Prove that every transaction balances, that the journal agrees with the invoices,
    payments, credit and refunds of every account, and that revenue rendered + deferred
    revenue = what was invoiced (the month-end run's closing documents)."""
    from podpiska.payments.ledger_verify import verify

    with context_of(ctx).session() as db:
        report = verify(db)
    for problem in [*report.unbalanced, *report.mismatches]:
        typer.echo(problem)
    if not report.ok:
        typer.echo(
            f"ledger: {len(report.unbalanced)} unbalanced transactions, "
            f"{len(report.mismatches)} mismatches",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ledger: OK ({report.transactions} transactions balance; the journal agrees "
        "with every account's documents)"
    )
    rendering = report.rendering
    if rendering is not None:
        typer.echo(
            f"revenue: OK (rendered {rendering.rendered} + deferred {rendering.deferred} = "
            f"{rendering.invoiced}; deferred = periods not rendered "
            f"{rendering.planned_not_rendered} + not planned {rendering.unpaid} − "
            f"rendered before a credit {rendering.uncovered})"
        )


def _amount_argument(text: str) -> Decimal:
    """An amount typed on the command line, read by the one money parser (exit 2 if not)."""
    try:
        return parse_money(text)
    except AmountFormatError as exc:
        raise BadInput(
            f"AMOUNT must be roubles in digits with at most two decimals, like 1500.00 "
            f"({exc.reason}), got {text[:40]!r}"
        ) from None


def refund(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account.")],
    amount_: Annotated[str, typer.Argument(metavar="AMOUNT", help="Roubles, e.g. 1500.00")],
    reason: Annotated[str, typer.Option(help="Why.")] = "requested by the customer",
) -> None:
    """Refund part of an account's credit (recorded; the gateway sends it)."""
    from podpiska.payments.refunds import refund_credit

    value = _amount_argument(amount_)
    context = context_of(ctx)
    with context.session() as db:
        made = refund_credit(
            db,
            account_id=account,
            amount=value,
            reason=reason,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"refund {made.id}: {made.amount} requested")


def credit_note(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The paid invoice to correct.")],
    reason: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Correct a paid invoice: a credit note with its lines negated; the money goes to the
    account's credit."""
    from podpiska.subscriptions.credit_notes import issue_credit_note

    context = context_of(ctx)
    with context.session() as db:
        note = issue_credit_note(
            db, invoice_id=invoice, reason=reason, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(f"credit note {note.number}: {note.total}")
