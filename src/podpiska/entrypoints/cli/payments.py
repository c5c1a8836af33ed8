"""`podpiska payments`: autopay and reconciliation through the gateway, saved methods."""

from __future__ import annotations

from typing import Annotated

import typer

from podpiska.entrypoints.cli.common import context_of, echo_json

payments_app = typer.Typer(
    help="Payments through the gateway: autopay, reconciliation, saved methods.",
    no_args_is_help=True,
)


@payments_app.command("collect")
def payments_collect(ctx: typer.Context) -> None:
    """Charge the autopay due today, ask the gateway about open attempts, send refunds and
    the settlement receipts of services rendered (the worker does this every minute)."""
    from podpiska.entrypoints.worker import collect_payments

    charged, reconciled = collect_payments(context_of(ctx))
    typer.echo(f"payments: {charged} autopay charges, {reconciled} attempts reconciled")


@payments_app.command("methods")
def payments_methods(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """The saved payment methods of an account, with the consent each was kept under."""
    from podpiska.payments.methods import list_methods

    with context_of(ctx).session() as db:
        rows = list_methods(db, account)
    data = [
        {
            "id": m.id,
            "type": m.type,
            "title": m.title,
            "status": m.status,
            "consent_at": m.consent_at.isoformat(),
            "consent_by": m.consent_by,
            "consent_text": m.consent_text,
        }
        for m in rows
    ]
    if as_json:
        echo_json(data)
        return
    if not rows:
        typer.echo("no saved payment methods")
    for m in rows:
        typer.echo(
            f"{m.id}  {m.status:8}  {m.title:24}  consent {m.consent_at:%d.%m.%Y %H:%M} "
            f"by {m.consent_by}"
        )


@payments_app.command("remove-method")
def payments_remove_method(
    ctx: typer.Context,
    account: Annotated[int, typer.Argument(help="The account's id.")],
    method: Annotated[int, typer.Argument(help="The saved method's id.")],
) -> None:
    """Remove a saved method: never charged again; autopay off when none is left."""
    from podpiska.payments.methods import remove_method

    context = context_of(ctx)
    with context.session() as db:
        removed = remove_method(
            db, account_id=account, method_id=method, actor="cli", clock=context.clock
        )
    typer.echo(f"payment method {removed.id} ({removed.title}): {removed.status}")
