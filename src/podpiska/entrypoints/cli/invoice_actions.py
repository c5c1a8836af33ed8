"""`podpiska invoice void|mark-paid|resend|pay`: what a billing team does to one invoice,
through the same use-cases as the API's `POST /api/v1/invoices/{id}/...` and the back
office's account page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from podpiska.core.domain.errors import DomainError
from podpiska.entrypoints.cli.common import CLI_ACTOR, BadInput, context_of
from podpiska.entrypoints.cli.invoicing import _amount_argument

invoice_app = typer.Typer(help="Actions on one invoice.", no_args_is_help=True)


@invoice_app.command("void")
def void(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The unpaid or partly paid invoice.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
) -> None:
    """Void an invoice (what was paid goes to credit; a pending order is cancelled, a
    planned renewal dropped, a pending change cancelled)."""
    from podpiska.subscriptions.invoice_actions import void_issued_invoice

    context = context_of(ctx)
    with context.session() as db:
        done = void_issued_invoice(
            db, invoice_id=invoice, reason=reason, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(
        f"invoice {done.invoice.number}: void"
        + (" (already)" if done.replayed else f", {done.effect}")
    )


@invoice_app.command("mark-paid")
def mark_paid(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The invoice.")],
    paid_on: Annotated[str, typer.Option(help="The day the money came, YYYY-MM-DD.")],
    method: Annotated[str, typer.Option(help="bank_transfer, cash or other.")] = "bank_transfer",
    reference: Annotated[str, typer.Option(help="The payer's document number.")] = "",
    amount: Annotated[str, typer.Option(help="Roubles; by default what is due.")] = "",
) -> None:
    """Mark an invoice paid by hand: the payment recorded and settled."""
    from podpiska.subscriptions.invoice_actions import mark_invoice_paid

    try:
        day = date.fromisoformat(paid_on)
    except ValueError:
        raise BadInput(f"--paid-on must be a date YYYY-MM-DD, got {paid_on[:40]!r}") from None
    value = _amount_argument(amount) if amount else None
    context = context_of(ctx)
    with context.session() as db:
        payment, found, _sub, _replayed = mark_invoice_paid(
            db,
            invoice_id=invoice,
            method=method,
            paid_on=day,
            reference=reference or None,
            amount=value,
            actor=CLI_ACTOR,
            clock=context.clock,
        )
    typer.echo(f"invoice {found.number}: payment {payment.id} of {payment.amount}, {found.status}")


@invoice_app.command("resend")
def resend(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The invoice.")],
    email: Annotated[str, typer.Option(help="Another address.")] = "",
) -> None:
    """Send the invoice's e-mail (with its PDF) again."""
    from podpiska.notifications.invoice_resend import resend_invoice

    context = context_of(ctx)
    with context.session() as db:
        delivery = resend_invoice(
            db, invoice_id=invoice, email=email or None, actor=CLI_ACTOR, clock=context.clock
        )
    typer.echo(f"invoice {invoice}: e-mail to {delivery.target} queued")


@invoice_app.command("pay")
def pay(
    ctx: typer.Context,
    invoice: Annotated[int, typer.Argument(help="The invoice.")],
) -> None:
    """Charge what is due to the account's saved payment method now."""
    from podpiska.payments.invoice_charge import charge_saved_method

    context = context_of(ctx)
    gateway = context.ports.gateway
    if gateway is None:
        raise DomainError("unknown_gateway", gateway=context.settings.gateway, allowed=[])
    with context.session() as db:
        attempt = charge_saved_method(
            db,
            gateway,
            invoice_id=invoice,
            actor=CLI_ACTOR,
            clock=context.clock,
            two_stage=context.settings.gateway_two_stage,
        )
    typer.echo(f"invoice {invoice}: attempt {attempt.id} {attempt.status}")
